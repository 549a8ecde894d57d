"""MANN presets (weights under `pretrained/<name>/`).

`mann_omniglot_5class` is scored on Santoro et al.'s sequences (accuracy per instance); the
5-way presets continue its network on the contract's N-way K-shot episodes (the recipes
`mann_omniglot` and `mann_omniglot_5shot`).
"""

MANN_PRESETS = {
    "mann_omniglot_5class": {
        "class": "MANN",
        "description": "MANN with LRUA (LSTM controller, 128 x 40 memory, 4 heads), Santoro et "
        "al.'s sequences of 5 classes x 10 instances, Omniglot 20x20 Vinyals split, accuracy "
        "per instance.",
    },
    **{
        f"mann_omniglot_5way_{shots}shot": {
            "class": "MANN",
            "description": f"MANN with LRUA (LSTM controller, 128 x 40 memory, 4 heads), "
            f"Omniglot 20x20 Vinyals split, the support set as a sequence, 5-way {shots}-shot "
            "(the 5-class sequence network fine-tuned on such episodes).",
        }
        for shots in (1, 5)
    },
}
