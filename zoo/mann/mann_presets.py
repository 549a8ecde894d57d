"""MANN presets (weights under `pretrained/<name>/`).

`mann_omniglot_5class` is scored on Santoro et al.'s sequences (accuracy per instance); the
N-way K-shot presets that the recipes `mann_omniglot` and `mann_omniglot_5shot` write join
`MANN_PRESETS` once their weights are shipped.
"""

MANN_PRESETS = {
    "mann_omniglot_5class": {
        "class": "MANN",
        "description": "MANN with LRUA (LSTM controller, 128 x 40 memory, 4 heads), Santoro et "
        "al.'s sequences of 5 classes x 10 instances, Omniglot 20x20 Vinyals split, accuracy "
        "per instance.",
    },
}
