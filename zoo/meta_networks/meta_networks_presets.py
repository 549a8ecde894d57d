"""Meta Networks presets (weights under `pretrained/<name>/`).

The 5-way presets are one network, trained by the recipe `metanet_omniglot`; the 20-way ones
another, started from it by `metanet_omniglot_20way_warm`.
"""

from zoo.preset_lists import omniglot_presets

META_NETWORKS_PRESETS = omniglot_presets(
    "metanet",
    "MetaNetwork",
    lambda ways, shots: (
        "Meta Networks (augmented 5-block conv base learner and representation "
        "function, LSTM d over 5 chunks, MLP m, a memory of example-level fast weights), "
        f"Omniglot 28x28 Vinyals split, {ways}-way {shots}-shot."
    ),
    ways=(5, 20),
)
