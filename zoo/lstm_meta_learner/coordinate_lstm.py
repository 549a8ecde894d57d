"""The first layer of the meta-learner: an LSTM run on every learner parameter separately."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="metazoo")
class CoordinateLSTM(keras.layers.Layer):
    """A standard LSTM shared by all coordinates: the P learner parameters are its batch.

    Each coordinate's input at step t is the preprocessed loss and gradient,
    x_t = [L~_t (2), grad~_t (2)] (the order of the authors' code), and its state (h, c) is
    its own: `[P, 4]` -> `[P, units]`. It is Keras' `LSTMCell` (gates i, f, c, o; sigmoid and
    tanh), every weight drawn from U(-0.01, 0.01) as in the authors' code (no unit forget
    bias). The state starts at zero for each task.

    Reference:
        Ravi & Larochelle, "Optimization as a Model for Few-Shot Learning", ICLR 2017,
        section 3.4 (parameter sharing: a coordinate-wise two-layer LSTM).

    Args:
        units: the hidden size of the LSTM (the paper's 20).
    """

    def __init__(self, units=20, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        # One initializer each: a Keras initializer without a seed repeats its draws.
        self.cell = keras.layers.LSTMCell(
            self.units,
            kernel_initializer=keras.initializers.RandomUniform(-0.01, 0.01),
            recurrent_initializer=keras.initializers.RandomUniform(-0.01, 0.01),
            bias_initializer=keras.initializers.RandomUniform(-0.01, 0.01),
            unit_forget_bias=False,
            dtype=self.dtype_policy,
            name="cell",
        )

    def build(self, input_shape):
        self.cell.build(input_shape)

    def initial_state(self, count, dtype=None):
        """The zero state `[h, c]`, each `[count, units]`."""
        zeros = ops.zeros((count, self.units), dtype or self.compute_dtype)
        return [zeros, zeros]

    def call(self, inputs, states):
        """Returns `(h_t, [h_t, c_t])` from `inputs` `[P, 4]` and `states` `[h, c]`."""
        return self.cell(inputs, states)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config
