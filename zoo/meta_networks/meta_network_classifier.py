"""The adapted Meta Network: task-level fast weights and the memory baked in as weights."""

import math

import keras

from zoo.meta_networks.augmented_network import meta_network_pair
from zoo.meta_networks.fast_weight_memory import read_fast_weights


@keras.saving.register_keras_serializable(package="metazoo")
class MetaNetworkClassifier(keras.layers.Layer):
    """Maps preprocessed images to logits with what a Meta Network drew from a support set.

    Holds its own representation function u and base learner b (copies of the learner's
    slow weights) and, as weights: u's task-level fast weights, the memory's keys r'_i and
    the support examples' fast weights W*_i (flattened, `[n, P]`). Each image on its own:
    key u(x) (slow + task-level fast weights), attention read of its fast weights, then b
    with slow + read fast weights. `fit` trains all of them.

    Reference:
        Munkhdalai & Yu, "Meta Networks", ICML 2017, Algorithm 1 (the test of a query).

    Args:
        ways: the number of classes N.
        support_size: the number n of support examples (rows of the memory).
        filters, blocks, units, image_size: as `MetaNetwork`.
        channels: channels of the input images.
    """

    def __init__(
        self, ways, support_size, filters, blocks, units, image_size, channels=1, **kwargs
    ):
        super().__init__(**kwargs)
        self.ways = int(ways)
        self.support_size = int(support_size)
        self.filters, self.blocks = int(filters), int(blocks)
        self.units, self.image_size = int(units), int(image_size)
        self.channels = int(channels)
        self.representation, self.base_learner = meta_network_pair(
            ways, filters, blocks, units, image_size, self.channels
        )
        self.task_fast_weights = [
            self.add_weight(shape=tuple(kernel.shape), initializer="zeros", name=f"task_fast_{i}")
            for i, kernel in enumerate(self.representation.kernels)
        ]
        self.keys = self.add_weight(
            shape=(self.support_size, self.units), initializer="zeros", name="keys"
        )
        size = sum(math.prod(kernel.shape) for kernel in self.base_learner.kernels)
        self.memory = self.add_weight(
            shape=(self.support_size, size), initializer="zeros", name="memory"
        )

    def set_state(self, task_fast_weights, keys, memory):
        """Assigns the task-level fast weights, the keys and the memory."""
        for weight, value in zip(self.task_fast_weights, task_fast_weights, strict=True):
            weight.assign(value)
        self.keys.assign(keys)
        self.memory.assign(memory)

    def call(self, images):
        query_keys = self.representation(images, list(self.task_fast_weights))
        shapes = [tuple(kernel.shape) for kernel in self.base_learner.kernels]
        fast_weights = read_fast_weights(query_keys, self.keys, self.memory, shapes)
        return self.base_learner(images, fast_weights)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.ways)

    def get_config(self):
        config = super().get_config()
        config.update(
            ways=self.ways,
            support_size=self.support_size,
            filters=self.filters,
            blocks=self.blocks,
            units=self.units,
            image_size=self.image_size,
            channels=self.channels,
        )
        return config
