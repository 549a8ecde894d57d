"""Meta Networks presets (weights under `pretrained/<name>/`).

The 5-way presets are one network, trained by the recipe `metanet_omniglot`; the recipe
`metanet_omniglot_20way` writes `metanet_omniglot_20way_{1,5}shot`, which join once trained.
"""

META_NETWORKS_PRESETS = {
    f"metanet_omniglot_5way_{shots}shot": {
        "class": "MetaNetwork",
        "description": f"Meta Networks (augmented 5-block conv base learner and representation "
        f"function, LSTM d over 5 chunks, MLP m, a memory of example-level fast weights), "
        f"Omniglot 28x28 Vinyals split, 5-way {shots}-shot.",
    }
    for shots in (1, 5)
}
