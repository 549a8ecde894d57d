"""Relation Network presets (weights under `pretrained/<name>/`)."""

RELATION_NETWORK_PRESETS = {
    f"relationnet_omniglot_{ways}way_{shots}shot": {
        "class": "RelationNetwork",
        "description": f"Relation Network (Conv-4 embedding, learned relation module), Omniglot "
        f"28x28 Vinyals split, evaluated {ways}-way {shots}-shot.",
    }
    for ways in (5, 20)
    for shots in (1,)  # the 5-shot presets join when `relationnet_omniglot_5shot` has run
}
