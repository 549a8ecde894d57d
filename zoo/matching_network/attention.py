"""The attention kernel of Matching Networks and the class logits it gives."""

from keras import ops

SIMILARITIES = ("cosine", "euclidean")
# Added to the scores of support items of other classes before the per-class logsumexp:
# exp(-1e9) is exactly 0 in float32, and a finite constant keeps the exported graphs free of
# infinities.
_MASKED = -1e9


def unit_vectors(x):
    """`x / ||x||` along the last axis (a zero vector stays zero)."""
    return x * ops.rsqrt(ops.maximum(ops.sum(x * x, axis=-1, keepdims=True), 1e-12))


def similarities(queries, support, similarity="cosine"):
    """Scores `[Q, n]` of every query embedding against every support embedding.

    Args:
        queries: `f(x)`, `[Q, D]`.
        support: `g(x_i)`, `[n, D]`.
        similarity: `"cosine"`, c(f, g) = f.g / (|f| |g|) (the paper), or `"euclidean"`,
            -|f - g|^2 (an option, as in the re-implementations that used a distance).
    """
    if similarity == "cosine":
        return ops.matmul(unit_vectors(queries), ops.transpose(unit_vectors(support)))
    if similarity == "euclidean":
        squared = (
            ops.sum(queries**2, axis=-1, keepdims=True)
            - 2.0 * ops.matmul(queries, ops.transpose(support))
            + ops.sum(support**2, axis=-1)[None, :]
        )
        return -ops.maximum(squared, 0.0)
    raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")


def class_logits(scores, support_one_hot):
    """logits_k = log sum_{i: y_i = k} exp(scores_i), `[Q, N]`.

    With a = softmax_i(scores) the attention over the support set and y_hat = sum_i a_i y_i
    the paper's prediction, logits_k = log y_hat_k + log sum_i exp(scores_i), a shift that is
    the same for every class: softmax(logits) = y_hat exactly, and cross-entropy on the logits
    is the paper's negative log-likelihood of y_hat. Taking the logsumexp class by class keeps
    it finite where log(y_hat) would underflow to -inf.

    Args:
        scores: `[Q, n]` attention scores of each query against each support item.
        support_one_hot: `[n, N]` one-hot labels of the support items.
    """
    mask = ops.cast(support_one_hot, scores.dtype)
    masked = scores[:, :, None] + (1.0 - mask[None, :, :]) * _MASKED
    return ops.logsumexp(masked, axis=1)
