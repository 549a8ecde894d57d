"""Prototypical Network presets (weights under `pretrained/<name>/`)."""

PROTOTYPICAL_NETWORK_PRESETS = {
    f"protonet_omniglot_{ways}way_{shots}shot": {
        "class": "PrototypicalNetwork",
        "description": f"Conv-4 Prototypical Network, Omniglot 28x28 Vinyals split, "
        f"evaluated {ways}-way {shots}-shot.",
    }
    for ways in (5, 20)
    for shots in (1, 5)
}
