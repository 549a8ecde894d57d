"""MANN presets (weights under `pretrained/<name>/`).

`mann_omniglot_5class`, `mann_omniglot_15class` and `mann_omniglot_15class_strings` (the
paper's string labels) are scored on Santoro et al.'s sequences (accuracy per instance); the
5-way presets continue the 5-class network on the contract's N-way K-shot episodes (the recipes
`mann_omniglot` and `mann_omniglot_5shot`).
"""

from zoo.preset_lists import omniglot_presets

MANN_PRESETS = {
    "mann_omniglot_5class": {
        "class": "MANN",
        "description": "MANN with LRUA (LSTM controller, 128 x 40 memory, 4 heads), Santoro et "
        "al.'s sequences of 5 classes x 10 instances, Omniglot 20x20 Vinyals split, accuracy "
        "per instance.",
    },
    "mann_omniglot_15class": {
        "class": "MANN",
        "description": "MANN with LRUA (LSTM controller, 128 x 40 memory, 4 heads), Santoro et "
        "al.'s sequences of 15 classes x 10 instances, Omniglot 20x20 Vinyals split, accuracy "
        "per instance.",
    },
    "mann_omniglot_15class_strings": {
        "class": "MANN",
        "description": "MANN with LRUA (LSTM controller, 128 x 40 memory, 4 heads), Santoro et "
        "al.'s sequences of 15 classes x 10 instances labelled by strings of 5 characters from 5 "
        "symbols (five-hot in, a softmax per character out), Omniglot 20x20 Vinyals split, "
        "accuracy per instance.",
    },
    **omniglot_presets(
        "mann",
        "MANN",
        lambda ways, shots: (
            "MANN with LRUA (LSTM controller, 128 x 40 memory, 4 heads), "
            f"Omniglot 20x20 Vinyals split, the support set as a sequence, {ways}-way {shots}-shot "
            "(the 5-class sequence network fine-tuned on such episodes)."
        ),
        ways=(5,),
    ),
}
