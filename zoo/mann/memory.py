"""The external memory of a MANN and its content-based read by cosine similarity (the
attention read `zoo.layers.cosine_attention`, shared with Meta Networks)."""

from keras import ops

from zoo.layers.cosine_attention import COSINE_EPSILON, cosine_attention, cosine_similarity

INITIAL_VALUE = 1e-6
"""Every entry of the memory at the start of an episode, as in Santoro et al.'s reference code
(tristandeleu/ntm-one-shot): small, so that no row is favoured by a read, and not zero, so
that the cosine of a key with a row is defined from the first step."""

__all__ = ["COSINE_EPSILON", "cosine_read", "cosine_similarity", "initial_memory"]


def initial_memory(batch, rows, width, dtype="float32"):
    """M_0: `[batch, rows, width]`, every entry `INITIAL_VALUE`."""
    return ops.full((batch, rows, width), INITIAL_VALUE, dtype=dtype)


def cosine_read(keys, memory):
    """The read of several heads: w^r_t = softmax_i K(k_t, M_t(i)), r_t = sum_i w^r_t(i) M_t(i).

    The shared `cosine_attention` with the memory's rows as both keys and values (no key
    strength, as in the paper's equations and its reference code).

    Reference:
        Santoro, Bartunov, Botvinick, Wierstra & Lillicrap, "Meta-Learning with
        Memory-Augmented Neural Networks", ICML 2016, section 3.1 (eqs. 2-4).

    Args:
        keys: one key per read head, `[B, H, W]`.
        memory: `[B, R, W]`.

    Returns:
        `(read_weights, reads)`: `[B, H, R]` and the read vectors `[B, H, W]`.
    """
    return cosine_attention(keys, memory, memory)
