"""Matching Network presets (weights under `pretrained/<name>/`)."""

MATCHING_NETWORK_PRESETS = {
    **{
        f"matchingnet_omniglot_{ways}way_{shots}shot": {
            "class": "MatchingNetwork",
            "description": f"Conv-4 Matching Network (the simple model, f = g), the paper's "
            f"cosine attention, Omniglot 28x28 Vinyals split, evaluated {ways}-way {shots}-shot.",
        }
        for ways in (5, 20)
        for shots in (1, 5)
    },
    **{
        f"matchingnet_fce_omniglot_{ways}way_{shots}shot": {
            "class": "MatchingNetwork",
            "description": f"Conv-4 Matching Network with full context embeddings (a "
            f"bidirectional LSTM g over the label-sorted support set, an attention LSTM f "
            f"reading it twice), the paper's cosine attention, Omniglot 28x28 Vinyals split, "
            f"evaluated {ways}-way {shots}-shot.",
        }
        for ways in (5, 20)
        for shots in (1, 5)
    },
}
