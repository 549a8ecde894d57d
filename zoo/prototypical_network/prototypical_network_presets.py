"""Prototypical Network presets (weights under `pretrained/<name>/`)."""

from zoo.preset_lists import omniglot_presets

PROTOTYPICAL_NETWORK_PRESETS = omniglot_presets(
    "protonet",
    "PrototypicalNetwork",
    lambda ways, shots: (
        "Conv-4 Prototypical Network, Omniglot 28x28 Vinyals split, "
        f"evaluated {ways}-way {shots}-shot."
    ),
)
