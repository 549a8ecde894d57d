"""MAML presets (weights under `pretrained/<name>/`)."""

MAML_PRESETS = {
    f"maml_omniglot_5way_{shots}shot": {
        "class": "MAML",
        "description": f"Second-order MAML, stride-2 Conv-4, Omniglot 28x28 Vinyals split, "
        f"5-way {shots}-shot.",
    }
    for shots in (1, 5)
}
