"""Meta Networks presets (weights under `pretrained/<name>/`): none shipped yet.

The names the recipes `metanet_omniglot` and `metanet_omniglot_20way` write; they join
`zoo.presets.PRESETS` once their weights are trained.
"""

META_NETWORKS_PRESETS = {
    f"metanet_omniglot_{ways}way_{shots}shot": {
        "class": "MetaNetwork",
        "description": f"Meta Networks (augmented 5-block conv base learner and representation "
        f"function, LSTM d over 5 chunks, MLP m, a memory of example-level fast weights), "
        f"Omniglot 28x28 Vinyals split, {ways}-way {shots}-shot.",
    }
    for ways in (5, 20)
    for shots in (1, 5)
}
