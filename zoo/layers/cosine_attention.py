"""Attention by cosine similarity: the content-based read of a memory of (key, value) pairs."""

from keras import ops

COSINE_EPSILON = 1e-6
"""Added under the square root of the cosine's denominator: a zero vector has cosine 0 (the
epsilon of both Santoro et al.'s and Munkhdalai & Yu's reference code)."""


def cosine_similarity(queries, keys):
    """K(q, k_i) = q . k_i / sqrt(||q||^2 ||k_i||^2 + eps), `[..., Q, R]`.

    Args:
        queries: `[..., Q, W]`.
        keys: `[..., R, W]` (the same leading axes).
    """
    dots = ops.matmul(queries, ops.swapaxes(keys, -1, -2))
    query_norms = ops.sum(queries * queries, axis=-1, keepdims=True)  # [..., Q, 1]
    key_norms = ops.expand_dims(ops.sum(keys * keys, axis=-1), -2)  # [..., 1, R]
    return dots / ops.sqrt(query_norms * key_norms + COSINE_EPSILON)


def cosine_attention(queries, keys, values):
    """a = softmax_i K(q, k_i), read = sum_i a_i v_i: a soft read of a memory by its keys.

    The softmax has no strength (as in both papers' equations and code). A memory of no rows
    reads zeros. MANN reads rows by themselves (`values` = `keys` = the memory); Meta Networks
    reads example-level fast weights by the support examples' representations.

    Reference:
        Santoro et al., "Meta-Learning with Memory-Augmented Neural Networks", ICML 2016,
        eqs. 2-4; Munkhdalai & Yu, "Meta Networks", ICML 2017, eqs. 7-8 (the attention over
        the memory of fast weights).

    Args:
        queries: `[..., Q, W]`.
        keys: `[..., R, W]`.
        values: `[..., R, V]`.

    Returns:
        `(weights, reads)`: `[..., Q, R]` and `[..., Q, V]`.
    """
    weights = ops.softmax(cosine_similarity(queries, keys), axis=-1)
    return weights, ops.matmul(weights, values)
