"""Least Recently Used Access (LRUA): where a MANN writes, and how much each row is used."""

import keras
from keras import ops

WRITE_VECTORS = ("key", "add")
"""What each head writes: its read key k_t (the paper's equation) or a separate add vector a_t
(Santoro et al.'s reference code)."""


def least_used_rows(usage, count):
    """The `count` rows of smallest usage, least used first: `[B, count]` ints.

    Ties go to the lower row index (`top_k`'s order, and ONNX TopK's), so the choice is the
    same in Keras, SavedModel and ONNX.
    """
    return ops.top_k(-usage, count, sorted=True)[1]


def least_used_weights(usage, heads):
    """w^lu_{t-1} of each head: `[B, H, R]`, head h one-hot on the h-th least used row.

    The paper's w^lu_t(i) is 1 for the n rows of smallest usage, with n the number of reads,
    and 0 elsewhere (m(w^u_t, n) the n-th smallest usage); with H heads each head writes to
    one of those n = H rows, as in the reference code (tristandeleu/ntm-one-shot): the sum of
    the heads' weights here is the paper's w^lu exactly.

    Args:
        usage: w^u_{t-1}, `[B, R]`.
        heads: the number of read (and write) heads H.
    """
    rows = ops.shape(usage)[-1]
    return ops.one_hot(least_used_rows(usage, heads), rows, dtype=usage.dtype)


def write_weights(gates, previous_read_weights, least_used):
    """w^w_t = sigmoid(alpha) w^r_{t-1} + (1 - sigmoid(alpha)) w^lu_{t-1}, `[B, H, R]`.

    Args:
        gates: alpha, one per head, `[B, H]`.
        previous_read_weights: w^r_{t-1}, `[B, H, R]`.
        least_used: w^lu_{t-1}, `[B, H, R]` (`least_used_weights`).
    """
    sigma = ops.sigmoid(gates)[:, :, None]
    return sigma * previous_read_weights + (1.0 - sigma) * least_used


def zero_least_used(memory, least_used):
    """M_{t-1} with its least used row (by w^u_{t-1}) set to zero, before the write.

    Args:
        memory: `[B, R, W]`.
        least_used: `[B, H, R]` from `least_used_weights`; its first head's row is the least
            used one (only that row is erased, as in the paper and its reference code).
    """
    return memory * (1.0 - least_used[:, 0, :])[:, :, None]


def write(memory, weights, vectors):
    """M_t(i) = M_{t-1}(i) + sum_h w^w_t(h, i) v_t(h): `[B, R, W]`.

    Args:
        memory: `[B, R, W]` (its least used row already zeroed).
        weights: w^w_t, `[B, H, R]`.
        vectors: v_t, `[B, H, W]`: the keys k_t (the paper writes the key it reads with) or
            the add vectors a_t.
    """
    return memory + ops.matmul(ops.transpose(weights, (0, 2, 1)), vectors)


def updated_usage(usage, read_weights, weights, gamma):
    """w^u_t = gamma w^u_{t-1} + sum_h w^r_t(h) + sum_h w^w_t(h): `[B, R]`."""
    return gamma * usage + ops.sum(read_weights, axis=1) + ops.sum(weights, axis=1)


@keras.saving.register_keras_serializable(package="metazoo")
class LeastRecentlyUsedAccess(keras.layers.Layer):
    """The LRUA write of a MANN: to the rows last read, or to the least used ones.

    Each of the H heads has a learned gate alpha_t = W_alpha h_t + b_alpha from the controller
    output h_t (a "dynamic scalar gate", as in the reference code), and writes a vector v_t:
    its key k_t (`write_vector="key"`, the paper's equation) or an add vector
    a_t = tanh(W_a h_t + b_a) of its own (`write_vector="add"`, the reference code's). One step:

        w^lu_{t-1}: head h on the h-th least used row of w^u_{t-1}
        w^w_t = sigmoid(alpha_t) w^r_{t-1} + (1 - sigmoid(alpha_t)) w^lu_{t-1}
        M_{t-1}(least used row) = 0
        M_t(i) = M_{t-1}(i) + sum_h w^w_t(h, i) v_t(h)

    and after the read, w^u_t = gamma w^u_{t-1} + sum_h w^r_t(h) + sum_h w^w_t(h)
    (`usage`).

    Reference:
        Santoro, Bartunov, Botvinick, Wierstra & Lillicrap, "Meta-Learning with
        Memory-Augmented Neural Networks", ICML 2016, section 3.2.

    Args:
        heads: the number of heads H (also the n of the n least used rows).
        gamma: the usage decay.
        write_vector: what each head writes, one of `WRITE_VECTORS`: `"key"` (the default)
            or `"add"`. Only `"add"` has weights of its own (W_a, b_a).
        memory_width: the width W of a memory row, the size of a_t (needed by `"add"` only).
    """

    def __init__(self, heads, gamma=0.95, write_vector="key", memory_width=None, **kwargs):
        super().__init__(**kwargs)
        if write_vector not in WRITE_VECTORS:
            raise ValueError(f"write_vector must be one of {WRITE_VECTORS}, got {write_vector!r}")
        if write_vector == "add" and memory_width is None:
            raise ValueError('write_vector="add" needs the memory_width of the add vectors')
        self.heads = int(heads)
        self.gamma = float(gamma)
        self.write_vector = write_vector
        self.memory_width = None if memory_width is None else int(memory_width)
        self.gate = keras.layers.Dense(self.heads, name="gate")
        if write_vector == "add":
            self.add_vector = keras.layers.Dense(
                self.heads * self.memory_width, activation="tanh", name="add"
            )

    def build(self, controller_shape):
        self.gate.build(controller_shape)
        if self.write_vector == "add":
            self.add_vector.build(controller_shape)

    def call(self, controller_output, keys, memory, usage, previous_read_weights):
        """Writes the keys (or the add vectors); returns `(M_t, w^w_t)`.

        Args:
            controller_output: h_t, `[B, U]`.
            keys: k_t, `[B, H, W]` (written with `write_vector="key"`).
            memory: M_{t-1}, `[B, R, W]`.
            usage: w^u_{t-1}, `[B, R]`.
            previous_read_weights: w^r_{t-1}, `[B, H, R]`.
        """
        least_used = least_used_weights(usage, self.heads)
        weights = write_weights(self.gate(controller_output), previous_read_weights, least_used)
        vectors = keys
        if self.write_vector == "add":  # a_t = tanh(W_a h_t + b_a), [B, H, W]
            adds = self.add_vector(controller_output)
            vectors = ops.reshape(adds, (-1, self.heads, self.memory_width))
        return write(zero_least_used(memory, least_used), weights, vectors), weights

    def usage(self, usage, read_weights, weights):
        """w^u_t from w^u_{t-1}, the read weights w^r_t and the write weights w^w_t."""
        return updated_usage(usage, read_weights, weights, self.gamma)

    def get_config(self):
        config = super().get_config()
        config.update(
            heads=self.heads,
            gamma=self.gamma,
            write_vector=self.write_vector,
            memory_width=self.memory_width,
        )
        return config
