"""Relation Network presets (weights under `pretrained/<name>/`)."""

from zoo.preset_lists import omniglot_presets

RELATION_NETWORK_PRESETS = omniglot_presets(
    "relationnet",
    "RelationNetwork",
    lambda ways, shots: (
        "Relation Network (Conv-4 embedding, learned relation module), "
        f"Omniglot 28x28 Vinyals split, evaluated {ways}-way {shots}-shot."
    ),
    shots=(1,),  # the 5-shot presets join when `relationnet_omniglot_5shot` has run
)
