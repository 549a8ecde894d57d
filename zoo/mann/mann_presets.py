"""MANN presets (weights under `pretrained/<name>/`): none shipped yet.

The names the recipes `mann_omniglot` and `mann_omniglot_5shot` write; they join
`zoo.presets.PRESETS` once their weights are trained.
"""

MANN_PRESETS = {
    f"mann_omniglot_5way_{shots}shot": {
        "class": "MANN",
        "description": f"MANN with LRUA (LSTM controller, 128 x 40 memory, 4 heads), Omniglot "
        f"20x20 Vinyals split, the support set as a sequence, 5-way {shots}-shot.",
    }
    for shots in (1, 5)
}
