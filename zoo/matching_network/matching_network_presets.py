"""Matching Network presets (weights under `pretrained/<name>/`).

Not yet in `zoo.presets.PRESETS`: they join it when their weights are trained.
"""

MATCHING_NETWORK_PRESETS = {
    f"matchingnet{variant}_omniglot_{ways}way_{shots}shot": {
        "class": "MatchingNetwork",
        "description": f"Conv-4 Matching Network{label}, cosine attention, Omniglot 28x28 "
        f"Vinyals split, evaluated {ways}-way {shots}-shot.",
    }
    for variant, label in (("", ""), ("_fce", " with full context embeddings"))
    for ways in (5, 20)
    for shots in (1, 5)
}
