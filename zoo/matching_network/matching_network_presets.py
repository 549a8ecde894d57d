"""Matching Network presets (weights under `pretrained/<name>/`)."""

MATCHING_NETWORK_PRESETS = {
    f"matchingnet_omniglot_{ways}way_{shots}shot": {
        "class": "MatchingNetwork",
        "description": f"Conv-4 Matching Network (the simple model, f = g), the paper's cosine "
        f"attention, Omniglot 28x28 Vinyals split, evaluated {ways}-way {shots}-shot.",
    }
    for ways in (5, 20)
    for shots in (1, 5)  # the FCE presets join when `matchingnet_fce_omniglot` has run
}
