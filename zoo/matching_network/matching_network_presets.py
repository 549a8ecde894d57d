"""Matching Network presets (weights under `pretrained/<name>/`)."""


def _variant(prefix, model):
    """The four Omniglot settings served by one trained network of a Matching Network variant."""
    return {
        f"{prefix}_omniglot_{ways}way_{shots}shot": {
            "class": "MatchingNetwork",
            "description": f"Conv-4 Matching Network ({model}), the paper's cosine attention, "
            f"Omniglot 28x28 Vinyals split, evaluated {ways}-way {shots}-shot.",
        }
        for ways in (5, 20)
        for shots in (1, 5)
    }


MATCHING_NETWORK_PRESETS = {
    **_variant("matchingnet", "the simple model, f = g"),
    **_variant(
        "matchingnet_fce",
        "full context embeddings: a bidirectional LSTM g over the label-sorted support set, "
        "an attention LSTM f reading it twice",
    ),
}
