"""Matching Network presets (weights under `pretrained/<name>/`)."""

from zoo.preset_lists import omniglot_presets


def _variant(prefix, model, attention="the paper's cosine attention"):
    """The four Omniglot settings of a Matching Network variant (the metadata says which
    trained network serves each)."""
    return omniglot_presets(
        prefix,
        "MatchingNetwork",
        lambda ways, shots: (
            f"Conv-4 Matching Network ({model}), {attention}, Omniglot 28x28 "
            f"Vinyals split, evaluated {ways}-way {shots}-shot."
        ),
    )


MATCHING_NETWORK_PRESETS = {
    **_variant("matchingnet", "the simple model, f = g"),
    **_variant(
        "matchingnet_fce",
        "full context embeddings: a bidirectional LSTM g over the label-sorted support set, "
        "an attention LSTM f reading it twice",
    ),
    **_variant(
        "matchingnet_scaled",
        "the simple model, f = g",
        "the cosine times a learned scale (an option, not the paper's attention)",
    ),
}
