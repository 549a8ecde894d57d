"""MANN presets (weights under `pretrained/<name>/`).

`mann_omniglot_5class`, `mann_omniglot_15class` and `mann_omniglot_15class_strings` (the
paper's string labels) are scored on Santoro et al.'s sequences (accuracy per instance); the
5-way presets continue the 5-class network on the contract's N-way K-shot episodes (the recipes
`mann_omniglot` and `mann_omniglot_5shot`).
"""

from zoo.preset_lists import omniglot_presets

_MANN = "MANN with LRUA (LSTM controller, 128 x 40 memory, 4 heads)"


def _sequence_preset(classes, labels=""):
    """A preset scored on Santoro et al.'s sequences of `classes` classes x 10 instances."""
    return {
        "class": "MANN",
        "description": f"{_MANN}, Santoro et al.'s sequences of {classes} classes x 10 "
        f"instances{labels}, Omniglot 20x20 Vinyals split, accuracy per instance.",
    }


MANN_PRESETS = {
    "mann_omniglot_5class": _sequence_preset(5),
    "mann_omniglot_15class": _sequence_preset(15),
    "mann_omniglot_15class_strings": _sequence_preset(
        15,
        " labelled by strings of 5 characters from 5 symbols (five-hot in, a softmax per "
        "character out)",
    ),
    **omniglot_presets(
        "mann",
        "MANN",
        lambda ways, shots: (
            f"{_MANN}, Omniglot 20x20 Vinyals split, the support set as a sequence, "
            f"{ways}-way {shots}-shot (the 5-class sequence network fine-tuned on such episodes)."
        ),
        ways=(5,),
    ),
}
