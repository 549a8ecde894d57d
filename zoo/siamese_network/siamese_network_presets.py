"""Siamese network presets (weights under `pretrained/<name>/`)."""

SIAMESE_NETWORK_PRESETS = {
    f"siamese_omniglot_{ways}way_{shots}shot": {
        "class": "SiameseNetwork",
        "description": f"Siamese network (Conv-4 twins, weighted L1 similarity), Omniglot 28x28 "
        f"Vinyals split, evaluated {ways}-way {shots}-shot.",
    }
    for ways in (5, 20)
    for shots in (1, 5)
}
