"""The meta-learner LSTM cell whose cell state is the learner's parameters."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="metazoo")
class MetaLSTMCell(keras.layers.Layer):
    """One update of the learner's parameters, the cell state of a coordinate-wise LSTM.

    For every parameter (a coordinate of the flattened learner), from the first layer's
    output h_t, the learner's gradient grad_t and the previous state (theta_{t-1}, f_{t-1},
    i_{t-1}):

        f_t = sigmoid(W_F . [h_t, theta_{t-1}, f_{t-1}] + b_F)
        i_t = sigmoid(W_I . [h_t, theta_{t-1}, i_{t-1}] + b_I)
        theta_t = c_t = f_t * theta_{t-1} + i_t * (-grad_t)

    The paper writes the gates' inputs as [grad_t, L_t, theta_{t-1}, gate_{t-1}]; its code
    feeds [grad_t, L_t] through the first LSTM layer and uses that layer's output h_t here,
    as this cell does. The previous gate is the gate's value, as the paper writes it (the
    authors' code carries the gate's pre-activation instead); both start at 0. The weights
    W_F, W_I `[units + 2]` start in U(-0.01, 0.01); b_F in U(4, 5) and b_I in U(-5, -4), so
    that f_t starts near 1 and i_t near 0.01: the cell starts as gradient descent with a
    small step. With f_t = 1 and i_t = alpha this is gradient descent with rate alpha.

    Reference:
        Ravi & Larochelle, "Optimization as a Model for Few-Shot Learning", ICLR 2017,
        section 3.1 (equations 2 and 3) and 3.4.
    """

    def build(self, hidden_shape, gradient_shape=None, states_shape=None):
        units = hidden_shape[-1]
        # One initializer each: a Keras initializer without a seed repeats its draws.
        self.forget_kernel = self.add_weight(
            shape=(units + 2,),
            initializer=keras.initializers.RandomUniform(-0.01, 0.01),
            name="forget_kernel",
        )
        self.input_kernel = self.add_weight(
            shape=(units + 2,),
            initializer=keras.initializers.RandomUniform(-0.01, 0.01),
            name="input_kernel",
        )
        self.forget_bias = self.add_weight(
            shape=(), initializer=keras.initializers.RandomUniform(4.0, 5.0), name="forget_bias"
        )
        self.input_bias = self.add_weight(
            shape=(), initializer=keras.initializers.RandomUniform(-5.0, -4.0), name="input_bias"
        )

    def initial_gates(self, count, dtype=None):
        """The gates before the first step, f_0 = i_0 = 0, each `[count]`."""
        zeros = ops.zeros((count,), dtype or self.compute_dtype)
        return zeros, zeros

    def call(self, hidden, gradient, states):
        """One step.

        Args:
            hidden: the first layer's output h_t, `[P, units]`.
            gradient: the learner's gradient grad_t, `[P]`.
            states: `(theta_{t-1}, f_{t-1}, i_{t-1})`, each `[P]`.

        Returns:
            `(theta_t, f_t, i_t)`, each `[P]`.
        """
        parameters, forget, update = states
        forget = self._gate(hidden, parameters, forget, self.forget_kernel, self.forget_bias)
        update = self._gate(hidden, parameters, update, self.input_kernel, self.input_bias)
        return forget * parameters - update * gradient, forget, update

    @staticmethod
    def _gate(hidden, parameters, previous, kernel, bias):
        """sigmoid(W . [h_t, theta_{t-1}, gate_{t-1}] + b) for every coordinate."""
        inputs = ops.concatenate([hidden, parameters[:, None], previous[:, None]], axis=1)
        return ops.sigmoid(ops.matmul(inputs, kernel[:, None])[:, 0] + bias)

    def compute_output_shape(self, hidden_shape, gradient_shape=None, states_shape=None):
        shape = (hidden_shape[0],)
        return shape, shape, shape
