"""Relation Network presets (weights under `pretrained/<name>/`)."""

from zoo.preset_lists import omniglot_presets

RELATION_NETWORK_PRESETS = omniglot_presets(
    "relationnet",
    "RelationNetwork",
    lambda ways, shots: (
        "Relation Network (Conv-4 embedding, learned relation module), "
        f"Omniglot 28x28 Vinyals split, evaluated {ways}-way {shots}-shot."
    ),
    # 1-shot: one network trained on 20-way 1-shot episodes (`relationnet_omniglot_1shot`);
    # 5-shot: one trained on 20-way 5-shot episodes (`relationnet_omniglot_5shot`).
)
