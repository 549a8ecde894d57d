"""The networks of Meta Networks: convolution blocks then dense layers, all augmented."""

import math

import keras
from keras import ops

from zoo.meta_networks.augmented_layers import AugmentedConv2D, AugmentedDense


@keras.saving.register_keras_serializable(package="metazoo")
class AugmentedNetwork(keras.layers.Layer):
    """`blocks` x [augmented 3x3 conv, 2x2 max-pool] -> flatten -> augmented dense layers.

    The shape of both networks of the authors' Omniglot code: the base learner b
    (`units=(64, N)`: a ReLU hidden layer, then the logits) and the representation function
    u (`units=(64,)`: the key, no activation). No biases and no batch normalization, so each
    image is processed on its own. Pooling is Chainer's (ceil: 28 -> 14 -> 7 -> 4 -> 2 -> 1).
    Every dense layer but the last has ReLU branches.

    `call(images, fast_weights)` takes one fast weight per augmented layer
    (`augmented_layers` order), none (slow weights only), task-level (shaped as the kernels)
    or example-level (a leading batch axis).

    Reference:
        Munkhdalai & Yu, "Meta Networks", ICML 2017, section 4 (the Omniglot networks).

    Args:
        filters: channels of every convolution.
        blocks: number of convolution blocks.
        units: widths of the dense layers, the last one the output.
        image_size: side of the square input.
        channels: input channels.
    """

    def __init__(self, filters=64, blocks=5, units=(64, 5), image_size=28, channels=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.blocks = int(blocks)
        self.units = tuple(int(u) for u in units)
        self.image_size = int(image_size)
        self.channels = int(channels)
        self.convolutions = [
            AugmentedConv2D(self.filters, name=f"conv_{i + 1}") for i in range(self.blocks)
        ]
        self.pool = keras.layers.MaxPooling2D(2, padding="same", name="pool")
        last = len(self.units) - 1
        self.dense_layers = [
            AugmentedDense(width, activation=None if i == last else "relu", name=f"dense_{i + 1}")
            for i, width in enumerate(self.units)
        ]
        side = self.image_size
        shape = (None, side, side, self.channels)
        for convolution in self.convolutions:
            convolution.build(shape)
            side = math.ceil(side / 2)
            shape = (None, side, side, self.filters)
        self.flat_size = side * side * (self.filters if self.blocks else self.channels)
        width = self.flat_size
        for dense in self.dense_layers:
            dense.build((None, width))
            width = dense.units
        self.built = True

    @property
    def augmented_layers(self):
        """The layers with fast weights, in order: the convolutions, then the dense layers."""
        return [*self.convolutions, *self.dense_layers]

    @property
    def kernels(self):
        """The slow weights W, one per augmented layer."""
        return [layer.kernel for layer in self.augmented_layers]

    def call(self, images, fast_weights=None):
        fast_weights = fast_weights or [None] * len(self.augmented_layers)
        outputs = images
        for convolution, fast in zip(self.convolutions, fast_weights[: self.blocks], strict=True):
            outputs = self.pool(convolution(outputs, fast))
        outputs = ops.reshape(outputs, (-1, self.flat_size))
        for dense, fast in zip(self.dense_layers, fast_weights[self.blocks :], strict=True):
            outputs = dense(outputs, fast)
        return outputs

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            blocks=self.blocks,
            units=list(self.units),
            image_size=self.image_size,
            channels=self.channels,
        )
        return config


def meta_network_pair(ways, filters, blocks, units, image_size, channels):
    """`(representation, base_learner)`: the two augmented networks of a Meta Network, u (to
    `units` features) and b (to `units`, then `ways` logits), named as the learner's weights."""
    common = {"filters": filters, "blocks": blocks, "image_size": image_size, "channels": channels}
    return (
        AugmentedNetwork(units=(units,), name="representation", **common),
        AugmentedNetwork(units=(units, ways), name="base_learner", **common),
    )
