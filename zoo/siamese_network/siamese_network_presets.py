"""Siamese network presets (weights under `pretrained/<name>/`)."""

from zoo.preset_lists import omniglot_presets

SIAMESE_NETWORK_PRESETS = omniglot_presets(
    "siamese",
    "SiameseNetwork",
    lambda ways, shots: (
        "Siamese network (Conv-4 twins, weighted L1 similarity), Omniglot "
        f"28x28 Vinyals split, evaluated {ways}-way {shots}-shot."
    ),
)
