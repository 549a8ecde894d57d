"""The full context embeddings (FCE) of Matching Networks: g over the support set as a sequence,
f reading the support set with an attention LSTM."""

import keras
from keras import ops


def sort_by_label(labels):
    """Indices that put a support set in label order, keeping the given order within a class.

    The order of a sort by `label * n + position` (all keys distinct), so it is stable whatever
    the sort's own tie-breaking.
    """
    count = ops.shape(labels)[0]
    keys = ops.cast(labels, "int32") * count + ops.arange(count, dtype="int32")
    return ops.argsort(keys)


@keras.saving.register_keras_serializable(package="metazoo")
class SupportContextEmbedding(keras.layers.Layer):
    """g(x_i, S) = h_fwd_i + h_bwd_i + g'(x_i): a bidirectional LSTM over the support set.

    The support embeddings g'(x_i) `[n, D]` are read as one sequence in the order given, by an
    LSTM forwards and one backwards (hidden size D, initial states zero, Keras' LSTM: gates
    i, f, c, o, tanh and sigmoid), whose outputs at position i are added to the skip
    connection g'(x_i).

    Reference:
        Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra, "Matching Networks for One Shot
        Learning", NeurIPS 2016, appendix A.2.

    Args:
        units: the embedding size D.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.lstm = keras.layers.Bidirectional(
            keras.layers.LSTM(self.units, return_sequences=True, name="lstm"),
            merge_mode="sum",
            name="bidirectional",
        )

    def build(self, input_shape):
        self.lstm.build((1, input_shape[0], self.units))

    def call(self, support):
        return self.lstm(support[None])[0] + support

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config


@keras.saving.register_keras_serializable(package="metazoo")
class AttentionLSTM(keras.layers.Layer):
    """f(x, S) = attLSTM(f'(x), g(S), K): an LSTM that reads the support set K times.

    For k = 1..K, with the LSTM state the concatenation [h, r] (width 2D) and the cell c
    (width D):

        r_{k-1} = sum_i softmax_i(h_{k-1} . g(x_i)) g(x_i)
        h_hat_k, c_k = LSTM(f'(x), [h_{k-1}, r_{k-1}], c_{k-1})
        h_k = h_hat_k + f'(x)

    and f(x, S) = h_K. The LSTM is Keras' (gates i, f, c, o): z = f'(x) W + [h, r] U + b,
    c_k = sigmoid(z_f) c_{k-1} + sigmoid(z_i) tanh(z_c), h_hat_k = sigmoid(z_o) tanh(c_k),
    with W the `kernel` `[D, 4D]`, U the `recurrent_kernel` `[2D, 4D]` and b the `bias` `[4D]`.

    Initial state: h_hat_0 = 0 and c_0 = 0, so h_0 = h_hat_0 + f'(x) = f'(x) by the same skip
    connection, and r_0 is read with h_0 by the same attention. The paper leaves the initial
    state open; this is the re-implementation of Knagg (oscarknagg/few-shot), and it makes
    every one of the K steps a read of the support set that depends on the query. Each query
    is read on its own: its output depends on that query and the support set only.

    Reference:
        Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra, "Matching Networks for One Shot
        Learning", NeurIPS 2016, appendix A.1.

    Args:
        units: the embedding size D.
        read_steps: the number of reads K.
    """

    def __init__(self, units, read_steps=2, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.read_steps = int(read_steps)
        if self.read_steps < 1:
            raise ValueError(f"read_steps must be at least 1, got {read_steps}")
        units = self.units
        self.kernel = self.add_weight(
            shape=(units, 4 * units), initializer="glorot_uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(2 * units, 4 * units), initializer="orthogonal", name="recurrent_kernel"
        )
        self.bias = self.add_weight(shape=(4 * units,), initializer=_unit_forget_bias, name="bias")

    def step(self, inputs, hidden, read, cell):
        """One LSTM step: `(h_hat, c)` from f'(x), the state [h, r] and the cell c."""
        state = ops.concatenate([hidden, read], axis=-1)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(state, self.recurrent_kernel) + self.bias
        gate_in, gate_forget, candidate, gate_out = ops.split(z, 4, axis=-1)
        cell = ops.sigmoid(gate_forget) * cell + ops.sigmoid(gate_in) * ops.tanh(candidate)
        return ops.sigmoid(gate_out) * ops.tanh(cell), cell

    def call(self, queries, support):
        """f(x, S) `[Q, D]` from f'(x) `[Q, D]` and g(S) `[n, D]`; the K steps are unrolled."""
        hidden, cell = queries, ops.zeros_like(queries)
        for _ in range(self.read_steps):
            attention = ops.softmax(ops.matmul(hidden, ops.transpose(support)), axis=-1)
            read = ops.matmul(attention, support)
            hidden, cell = self.step(queries, hidden, read, cell)
            hidden = hidden + queries
        return hidden

    def compute_output_shape(self, queries_shape, support_shape=None):
        return tuple(queries_shape)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, read_steps=self.read_steps)
        return config


def _unit_forget_bias(shape, dtype=None):
    """Zero biases but 1 for the forget gate, as Keras' LSTM starts (`unit_forget_bias`)."""
    units = shape[0] // 4
    return ops.concatenate(
        [ops.zeros((units,), dtype), ops.ones((units,), dtype), ops.zeros((2 * units,), dtype)]
    )
