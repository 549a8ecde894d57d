"""The external memory of a MANN and its content-based read by cosine similarity."""

from keras import ops

INITIAL_VALUE = 1e-6
"""Every entry of the memory at the start of an episode, as in Santoro et al.'s reference code
(tristandeleu/ntm-one-shot): small, so that no row is favoured by a read, and not zero, so
that the cosine of a key with a row is defined from the first step."""

COSINE_EPSILON = 1e-6
"""Added under the square root of the cosine's denominator: a zeroed row has cosine 0."""


def initial_memory(batch, rows, width, dtype="float32"):
    """M_0: `[batch, rows, width]`, every entry `INITIAL_VALUE`."""
    return ops.full((batch, rows, width), INITIAL_VALUE, dtype=dtype)


def cosine_similarity(keys, memory):
    """K(k_t, M_t(i)) = k_t . M_t(i) / sqrt(||k_t||^2 ||M_t(i)||^2 + eps), `[B, H, R]`.

    Args:
        keys: one key per read head, `[B, H, W]`.
        memory: `[B, R, W]`.
    """
    dots = ops.matmul(keys, ops.transpose(memory, (0, 2, 1)))
    key_norms = ops.sum(keys * keys, axis=-1)[:, :, None]
    row_norms = ops.sum(memory * memory, axis=-1)[:, None, :]
    return dots / ops.sqrt(key_norms * row_norms + COSINE_EPSILON)


def cosine_read(keys, memory):
    """The read of several heads: w^r_t = softmax_i K(k_t, M_t(i)), r_t = sum_i w^r_t(i) M_t(i).

    The softmax has no key strength (as in the paper's equations and its reference code).

    Reference:
        Santoro, Bartunov, Botvinick, Wierstra & Lillicrap, "Meta-Learning with
        Memory-Augmented Neural Networks", ICML 2016, section 3.1 (eqs. 2-4).

    Args:
        keys: one key per read head, `[B, H, W]`.
        memory: `[B, R, W]`.

    Returns:
        `(read_weights, reads)`: `[B, H, R]` and the read vectors `[B, H, W]`.
    """
    read_weights = ops.softmax(cosine_similarity(keys, memory), axis=-1)
    return read_weights, ops.matmul(read_weights, memory)
