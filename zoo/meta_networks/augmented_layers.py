"""Layer augmentation: a layer with slow weights W and fast weights W*, each branch activated."""

import keras
from keras import ops


def per_example_conv(inputs, kernels):
    """A 'same' stride-1 convolution of each example with its own kernel.

    conv(x_b, W_b) for every b, as one batched matrix product over 'im2col' patches (padding,
    shifted slices, a concatenation): no grouped convolution, so it runs and exports (ONNX)
    everywhere.

    Args:
        inputs: `[B, H, W, C]`.
        kernels: `[B, kh, kw, C, F]`.

    Returns:
        `[B, H, W, F]`.
    """
    kh, kw, channels, filters = kernels.shape[1:]
    height = inputs.shape[1] or ops.shape(inputs)[1]
    width = inputs.shape[2] or ops.shape(inputs)[2]
    top, left = (kh - 1) // 2, (kw - 1) // 2  # TensorFlow's 'same' padding
    padded = ops.pad(inputs, [[0, 0], [top, kh - 1 - top], [left, kw - 1 - left], [0, 0]])
    patches = ops.concatenate(
        [padded[:, i : i + height, j : j + width, :] for i in range(kh) for j in range(kw)],
        axis=-1,
    )
    batch = ops.shape(inputs)[0]
    patches = ops.reshape(patches, (batch, -1, kh * kw * channels))
    outputs = ops.matmul(patches, ops.reshape(kernels, (batch, kh * kw * channels, filters)))
    return ops.reshape(outputs, (batch, height, width, filters))


@keras.saving.register_keras_serializable(package="metazoo")
class AugmentedConv2D(keras.layers.Layer):
    """A 'same' convolution without bias augmented with fast weights: act(W x) + act(W* x).

    The slow kernel W is the layer's weight; the fast kernel W* is an input of `call`: none
    (the slow branch alone), one kernel `[kh, kw, C, F]` for the whole batch (task-level fast
    weights) or one per example `[B, kh, kw, C, F]` (example-level fast weights read from the
    memory). Each branch goes through the activation, then the two are summed (figure 1 of
    the paper; `Block` and `call_on_W` of the authors' code).

    Reference:
        Munkhdalai & Yu, "Meta Networks", ICML 2017, section 3.3 (layer augmentation).

    Args:
        filters: output channels F.
        kernel_size: side of the square kernel.
        activation: the activation of each branch (ReLU in the paper).
        kernel_initializer: of W (Chainer's default, LeCun normal, as the authors' code).
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        activation="relu",
        kernel_initializer="lecun_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        side = self.kernel_size
        self.kernel = self.add_weight(
            shape=(side, side, input_shape[-1], self.filters),
            initializer=self.kernel_initializer,
            name="kernel",
        )

    def call(self, inputs, fast_kernel=None):
        outputs = self.activation(ops.conv(inputs, self.kernel, padding="same"))
        if fast_kernel is None:
            return outputs
        if len(fast_kernel.shape) == 4:
            fast = ops.conv(inputs, fast_kernel, padding="same")
        else:
            fast = per_example_conv(inputs, fast_kernel)
        return outputs + self.activation(fast)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            activation=keras.activations.serialize(self.activation),
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


@keras.saving.register_keras_serializable(package="metazoo")
class AugmentedDense(keras.layers.Layer):
    """A dense layer without bias augmented with fast weights: act(x W) + act(x W*).

    As `AugmentedConv2D`: the fast kernel W* is none, `[D, U]` for the whole batch or
    `[B, D, U]` per example; each branch goes through the activation, then they are summed
    (the authors' code: ReLU on both branches of the hidden layer, none on the output).

    Reference:
        Munkhdalai & Yu, "Meta Networks", ICML 2017, section 3.3 (layer augmentation).

    Args:
        units: output width U.
        activation: the activation of each branch.
        kernel_initializer: of W (LeCun normal, as the authors' code).
    """

    def __init__(self, units, activation=None, kernel_initializer="lecun_normal", **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            name="kernel",
        )

    def call(self, inputs, fast_kernel=None):
        outputs = self.activation(ops.matmul(inputs, self.kernel))
        if fast_kernel is None:
            return outputs
        if len(fast_kernel.shape) == 2:
            fast = ops.matmul(inputs, fast_kernel)
        else:
            fast = ops.matmul(inputs[:, None, :], fast_kernel)[:, 0, :]
        return outputs + self.activation(fast)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=keras.activations.serialize(self.activation),
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config
