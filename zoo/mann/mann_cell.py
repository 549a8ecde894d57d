"""One time step of a MANN: LSTM controller, LRUA write, cosine read, softmax output."""

import collections

import keras
import tensorflow as tf
from keras import ops

from zoo.mann.lrua import LeastRecentlyUsedAccess
from zoo.mann.memory import cosine_read, initial_memory
from zoo.mann.ntm import NTMAddressing
from zoo.mann.string_labels import (
    STRINGS,
    WIDTH,
    check_labels,
    five_hot,
    string_log_probabilities,
)

ADDRESSINGS = ("lrua", "ntm")

MemoryState = collections.namedtuple(
    "MemoryState",
    ["memory", "usage", "read_weights", "write_weights", "reads", "hidden", "cell"],
)
MemoryState.__doc__ = """The state a MANN carries from step to step, each with a batch axis B.

memory M `[B, R, W]`; usage w^u `[B, R]` (LRUA's; NTM addressing leaves it as it starts);
read_weights w^r `[B, H, R]`; write_weights w^w `[B, R]`, the last step's write (summed over
heads; NTM addressing interpolates from it, LRUA writes from w^r and w^u instead); reads r,
the H read vectors concatenated, `[B, H*W]`; hidden h and cell c of the LSTM controller
`[B, U]`.
"""


@keras.saving.register_keras_serializable(package="metazoo")
class MANNCell(keras.layers.Layer):
    """A step of the Memory-Augmented Neural Network with LRUA addressing.

    From the input x_t (a flattened image), the previous one-hot label y_{t-1} and the state:

        h_t, c_t = LSTM([x_t, y_{t-1}, r_{t-1}], h_{t-1}, c_{t-1})     the controller
        k_t(h) = tanh(W_k(h) h_t + b_k(h))                              a key per head
        M_t, w^w_t = LRUA write of k_t (`LeastRecentlyUsedAccess`)      (or of a_t, below)
        w^r_t(h), r_t(h) = cosine read of M_t with k_t(h)               (`cosine_read`)
        w^u_t = gamma w^u_{t-1} + sum_h w^r_t(h) + sum_h w^w_t(h)
        logits_t = W_o [h_t, r_t] + b_o                                 (softmax: p(y_t | ...))

    With `write_vector="add"` each head writes an add vector a_t(h) = tanh(W_a(h) h_t + b_a(h))
    of its own instead of its key, as the reference code does; the key still reads. The default,
    `"key"`, is the paper's equation M_t(i) = M_{t-1}(i) + w^w_t(i) k_t.

    With `labels="strings"` (the paper's 15-class experiments) y is a string label of 5
    characters (`zoo.mann.string_labels`): a five-hot input (25 values) and 5 x 5 character
    logits out; `classify` scores the N classes as the strings 0..N-1 by their
    log-probabilities.

    With `addressing="ntm"` the LRUA write and the cosine read are replaced by a Neural Turing
    Machine's (`NTMAddressing`: content and location addressing, one write head with erase
    and add vectors, the read heads addressed in the written memory), the comparison the
    paper makes.

    The controller is Keras' `LSTMCell` (gates i, f, c, o; forget bias 1 at the start). The
    order (write, then read the written memory; the output from h_t and r_t) is the paper's
    and its reference code's (tristandeleu/ntm-one-shot); the key is tanh-squashed as there.

    Initial state (`initial_state`), as in the reference code: memory 1e-6 everywhere,
    usage, every head's read weights and the write weights one-hot on row 0, reads, h and c
    zero.

    Reference:
        Santoro, Bartunov, Botvinick, Wierstra & Lillicrap, "Meta-Learning with
        Memory-Augmented Neural Networks", ICML 2016.

    Args:
        ways: the number of classes N (size of the one-hot labels and of the output, or the
            strings `classify` scores with `labels="strings"`).
        controller_units: LSTM units U.
        memory_rows: rows R of the memory.
        memory_width: width W of a row (and of a key, and of an add vector).
        read_heads: number of heads H (each reads and writes).
        gamma: the usage decay of LRUA.
        addressing: `"lrua"` (the paper's MANN) or `"ntm"`.
        write_vector: what an LRUA head writes: `"key"` (k_t, the default) or `"add"` (a_t).
            NTM addressing writes its own add vector: it takes only `"key"`, the default.
        labels: `"one_hot"` (N classes, the default) or `"strings"` (five-character strings).
    """

    def __init__(
        self,
        ways,
        controller_units=200,
        memory_rows=128,
        memory_width=40,
        read_heads=4,
        gamma=0.95,
        addressing="lrua",
        write_vector="key",
        labels="one_hot",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_labels(labels)
        if labels == "strings" and not 1 <= int(ways) <= STRINGS:
            raise ValueError(f"string labels name at most {STRINGS} classes, got ways={ways}")
        if addressing not in ADDRESSINGS:
            raise ValueError(f"addressing must be one of {ADDRESSINGS}, got {addressing!r}")
        if addressing == "ntm" and write_vector != "key":
            raise ValueError(
                f"write_vector={write_vector!r} is an option of LRUA: NTM addressing writes "
                "its own add vector"
            )
        self.addressing = addressing
        self.write_vector = write_vector
        self.ways = int(ways)
        self.labels = labels
        self.controller_units = int(controller_units)
        self.memory_rows = int(memory_rows)
        self.memory_width = int(memory_width)
        self.read_heads = int(read_heads)
        self.gamma = float(gamma)
        if self.read_heads > self.memory_rows:
            raise ValueError(f"{read_heads} read heads need as many memory rows, got {memory_rows}")
        self.controller = keras.layers.LSTMCell(self.controller_units, name="controller")
        self.key = keras.layers.Dense(
            self.read_heads * self.memory_width, activation="tanh", name="key"
        )
        if addressing == "lrua":
            self.lrua = LeastRecentlyUsedAccess(
                self.read_heads, self.gamma, write_vector, self.memory_width, name="lrua"
            )
        else:
            self.ntm = NTMAddressing(self.read_heads, self.memory_width, name="ntm")
        self.output_layer = keras.layers.Dense(self.label_size, name="output")

    @property
    def label_size(self):
        """Length of a label input y_t and of the logits: N one-hot, or 25 (five-hot)."""
        return self.ways if self.labels == "one_hot" else WIDTH

    def encode_labels(self, labels, dtype="float32"):
        """Label ids `[...]` as inputs `[..., label_size]`: one-hot, or five-hot strings."""
        if self.labels == "one_hot":
            return ops.one_hot(labels, self.ways, dtype=dtype)
        return five_hot(labels, dtype)

    @property
    def label_count(self):
        """The label ids a sequence may use: N with one-hot labels, all 3125 with strings."""
        return self.ways if self.labels == "one_hot" else STRINGS

    def class_logits(self, logits, count=None):
        """The logits of label ids 0..count-1 (default: the N classes) from the output
        `[..., label_size]`: the output itself with one-hot labels (count N); the strings'
        log-probabilities with strings."""
        if self.labels == "one_hot":
            return logits
        return string_log_probabilities(logits, count or self.ways)

    @property
    def read_size(self):
        """Length of r_t, the concatenated read vectors: H * W."""
        return self.read_heads * self.memory_width

    def build(self, input_shape):
        """Builds every weight for inputs x_t of shape `[B, D]`."""
        features = int(input_shape[-1])
        units = self.controller_units
        self.controller.build((None, features + self.label_size + self.read_size))
        self.key.build((None, units))
        (self.lrua if self.addressing == "lrua" else self.ntm).build((None, units))
        self.output_layer.build((None, units + self.read_size))

    def initial_state(self, batch, dtype="float32"):
        """The `MemoryState` at the start of an episode, for `batch` sequences."""
        rows, heads = self.memory_rows, self.read_heads
        first_row = ops.one_hot(ops.zeros((batch,), "int32"), rows, dtype=dtype)
        return MemoryState(
            memory=initial_memory(batch, rows, self.memory_width, dtype),
            usage=first_row,
            read_weights=ops.repeat(first_row[:, None, :], heads, axis=1),
            write_weights=first_row,
            reads=ops.zeros((batch, self.read_size), dtype),
            hidden=ops.zeros((batch, self.controller_units), dtype),
            cell=ops.zeros((batch, self.controller_units), dtype),
        )

    def call(self, inputs, previous_labels, state):
        """One step: `(logits_t, MemoryState_t)` from x_t `[B, D]`, the label input y_{t-1}
        and the `MemoryState` of step t-1 (labels and logits `[B, label_size]`)."""
        state = MemoryState(*state)
        controls = ops.concatenate([inputs, previous_labels, state.reads], axis=-1)
        hidden, (_, cell) = self.controller(controls, [state.hidden, state.cell])
        keys = ops.reshape(self.key(hidden), (-1, self.read_heads, self.memory_width))
        if self.addressing == "lrua":
            memory, heads_writes = self.lrua(
                hidden, keys, state.memory, state.usage, state.read_weights
            )
            read_weights, reads = cosine_read(keys, memory)
            usage = self.lrua.usage(state.usage, read_weights, heads_writes)
            write_weights = ops.sum(heads_writes, axis=1)
        else:
            memory, write_weights = self.ntm.write(hidden, state.memory, state.write_weights)
            read_weights = self.ntm.read_weights(hidden, keys, memory, state.read_weights)
            reads = ops.matmul(read_weights, memory)
            usage = state.usage
        reads = ops.reshape(reads, (-1, self.read_size))
        logits = self.output_layer(ops.concatenate([hidden, reads], axis=-1))
        state = MemoryState(memory, usage, read_weights, write_weights, reads, hidden, cell)
        return logits, state

    def sequence(self, inputs, previous_labels, state=None):
        """Runs a batch of sequences from `state` (default: the initial state).

        A `tf.while_loop` over the steps, so the graph holds one step whatever the length.

        Args:
            inputs: x_1..x_T, `[B, T, D]`.
            previous_labels: y_0..y_{T-1} encoded (`encode_labels`; y_0 = 0, the null label),
                `[B, T, label_size]`.
            state: the `MemoryState` before the first step.

        Returns:
            `(logits [B, T, label_size], MemoryState after step T)`.
        """
        inputs = ops.convert_to_tensor(inputs)
        previous_labels = ops.cast(previous_labels, inputs.dtype)
        if state is None:
            state = self.initial_state(ops.shape(inputs)[0], inputs.dtype)
        steps = ops.shape(inputs)[1]
        time_major = ops.transpose(inputs, (1, 0, 2)), ops.transpose(previous_labels, (1, 0, 2))
        outputs = tf.TensorArray(inputs.dtype, size=steps)

        def body(t, state, outputs):
            logits, state = self(time_major[0][t], time_major[1][t], state)
            return t + 1, state, outputs.write(t, logits)

        _, state, outputs = tf.while_loop(
            lambda t, *_: t < steps, body, (tf.constant(0), MemoryState(*state), outputs)
        )
        return ops.transpose(outputs.stack(), (1, 0, 2)), MemoryState(*state)

    def classify(self, inputs, state):
        """The classes' logits `[B, Q, N]` of Q inputs per sequence, each on its own.

        Each input x is one step from its sequence's `state` (e.g. after a support sequence)
        with the null label y_{t-1} = 0: its own write, its own read and its output. Nothing
        passes between the inputs, so an input gets the same logits alone or in any batch.

        Args:
            inputs: `[B, Q, D]`.
            state: a `MemoryState` of batch B.
        """
        inputs = ops.convert_to_tensor(inputs)
        batch, count = ops.shape(inputs)[0], ops.shape(inputs)[1]

        def per_input(part):  # [B, ...] -> [B * Q, ...], each sequence's state Q times
            shape = part.shape[1:]
            repeated = ops.broadcast_to(part[:, None], (batch, count, *shape))
            return ops.reshape(repeated, (-1, *shape))

        state = MemoryState(*(per_input(part) for part in MemoryState(*state)))
        flat = ops.reshape(inputs, (-1, inputs.shape[-1]))
        null_labels = ops.zeros((ops.shape(flat)[0], self.label_size), inputs.dtype)
        logits = self.class_logits(self(flat, null_labels, state)[0])
        return ops.reshape(logits, (batch, count, self.ways))

    def compute_output_shape(self, input_shape, previous_labels_shape=None, state_shape=None):
        return (input_shape[0], self.label_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            ways=self.ways,
            controller_units=self.controller_units,
            memory_rows=self.memory_rows,
            memory_width=self.memory_width,
            read_heads=self.read_heads,
            gamma=self.gamma,
            addressing=self.addressing,
            write_vector=self.write_vector,
            labels=self.labels,
        )
        return config
