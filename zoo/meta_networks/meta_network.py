"""Meta Networks: fast weights generated from loss gradients, read from a memory by attention."""

import keras
from keras import ops

from zoo.meta_learner import MetaLearner
from zoo.meta_networks.augmented_network import meta_network_pair
from zoo.meta_networks.fast_weight_memory import (
    fan_in_scales,
    flatten_weights,
    read_fast_weights,
    unflatten_weights,
)
from zoo.meta_networks.meta_information import chunk_gradients, per_example_gradients
from zoo.meta_networks.meta_network_classifier import MetaNetworkClassifier
from zoo.meta_networks.weight_generators import ExampleWeightGenerator, TaskWeightGenerator


@keras.saving.register_keras_serializable(package="metazoo")
class MetaNetwork(MetaLearner):
    """A Meta Network (MetaNet): a base learner b and a meta learner (u, d, m) with fast weights.

    For one task, as the paper's Algorithm 1 and the authors' code:

    1. Task-level fast weights of the representation function u: the support set is split
       into T chunks (`chunks`, IT = 5); the gradient of the representation loss of each
       chunk, nabla L_u = nabla_W CE(head(relu(u(x'))), y') on u's slow weights (the loss
       head is a fixed linear layer: it gets no gradient from the query loss, in the
       authors' code too), goes through d (`TaskWeightGenerator`, an LSTM over the T chunks,
       coordinate-wise): W*_u = d(nabla_1, ..., nabla_T).
    2. The memory: for every support example i, its meta information, the gradient of b's
       loss on it alone, nabla_i = nabla_W CE(b(x'_i), y'_i) on b's slow weights, goes through
       m (`ExampleWeightGenerator`, an MLP, coordinate-wise): W*_i = m(nabla_i); its key is
       r'_i = u(x'_i) with u's slow and task-level fast weights.
    3. Each query x alone: its key u(x), attention a_i = softmax_i cos(u(x), r'_i), its fast
       weights W* = sum_i a_i W*_i, its logits b(x) with b's slow weights W and W*.

    Every layer of u and b is augmented (`AugmentedConv2D`, `AugmentedDense`): act(W x) +
    act(W* x). The gradients are preprocessed with log/sign (k = 7). Convolution and dense
    parameters have separate generators (d and m each come twice, as in the authors' code).

    With `scale_fast_weights` (the default, not in the paper or the authors' code), each
    layer's generated fast weights are multiplied by 1 / sqrt(fan_in), the LeCun standard
    deviation of its slow weights (`fan_in_scales`): d and m give every coordinate a value of
    order 1, which makes a 3x3x64 fast kernel about 24 times the scale of its slow kernel:
    through five augmented convolutions the first logits can blow up. Measured on the
    episodes of `metanet_omniglot` (5-way 1-shot, Adam 1e-3, clipping 10), first 100
    episodes from seeds 0, 1, 2: unscaled, the first losses were 24434, 238 and 1.6, and the
    seed-0 run collapsed to the uniform guess (loss ln 5, 20% accuracy; so did a `metazoo
    train` probe whose first 30 losses averaged 1.2e5); scaled, they were 1.8, 1.7 and 1.6,
    and no run collapsed.

    Meta information is a constant (`stop_gradient`; the authors' code moves it to numpy):
    `fit` minimizes the query cross-entropy, whose gradient reaches the slow weights of b
    (through its slow branches) and of u (through the keys) and the weights of d and m
    (through the fast weights), as Algorithm 1. There is no batch normalization: every query
    is classified on its own. The output layer of b has N units: the number of ways is fixed.
    `adapt` runs steps 1 and 2 once and bakes W*_u, the keys and the memory into a
    `MetaNetworkClassifier`.

    Reference:
        Munkhdalai & Yu, "Meta Networks", ICML 2017.

    Args:
        ways: the number of classes N (b's and the loss head's outputs).
        filters: channels of every convolution (64).
        blocks: convolution blocks of u and b (5 for 28x28: 28 -> 14 -> 7 -> 4 -> 2 -> 1).
        units: width of b's hidden layer and of the keys (64).
        chunks: T, the chunks of the support set d reads (5).
        meta_units: width of d's LSTM and of m's hidden layers (20).
        preprocessing_k: k of the log/sign preprocessing of the gradients (7).
        scale_fast_weights: multiply each layer's fast weights by 1 / sqrt(fan_in).
        image_size: side of the square images the networks see (28).
        **kwargs: `invert` and `keras.Model` arguments.
    """

    def __init__(
        self,
        ways=5,
        filters=64,
        blocks=5,
        units=64,
        chunks=5,
        meta_units=20,
        preprocessing_k=7.0,
        scale_fast_weights=True,
        image_size=28,
        **kwargs,
    ):
        super().__init__(image_size=image_size, **kwargs)
        self.ways = int(ways)
        self.filters, self.blocks, self.units = int(filters), int(blocks), int(units)
        self.chunks, self.meta_units = int(chunks), int(meta_units)
        self.preprocessing_k = float(preprocessing_k)
        self.scale_fast_weights = bool(scale_fast_weights)
        if self.blocks < 1 or self.chunks < 1:
            raise ValueError(f"blocks and chunks must be at least 1, got {blocks} and {chunks}")
        self.representation, self.base_learner = meta_network_pair(
            ways, filters, blocks, units, image_size, self.channels
        )
        self.representation_head = keras.layers.Dense(
            self.ways,
            use_bias=False,
            kernel_initializer="lecun_normal",
            trainable=False,
            name="representation_head",
        )
        self.representation_head.build((None, self.units))
        generator = {"units": self.meta_units, "preprocessing_k": self.preprocessing_k}
        self.task_conv_weights = TaskWeightGenerator(name="d_conv", **generator)
        self.task_dense_weights = TaskWeightGenerator(name="d_dense", **generator)
        self.example_conv_weights = ExampleWeightGenerator(name="m_conv", **generator)
        self.example_dense_weights = ExampleWeightGenerator(name="m_dense", **generator)

    @property
    def fixed_ways(self):
        return self.ways

    def representation_logits(self, images):
        """The representation loss's logits: head(relu(u(x))), slow weights only."""
        return self.representation_head(ops.relu(self.representation(images)))

    def task_fast_weights(self, support, support_labels):
        """W*_u = d(chunk gradients of the representation loss): one per layer of u."""
        network = self.representation
        gradients = per_example_gradients(
            self.representation_logits, network.kernels, support, support_labels
        )
        chunked = [chunk_gradients(gradient, self.chunks) for gradient in gradients]
        conv = self.task_conv_weights(flatten_weights(chunked[: self.blocks]))
        dense = self.task_dense_weights(flatten_weights(chunked[self.blocks :]))
        rows = self.scaled(ops.concatenate([conv, dense]), network.kernels)[None]
        shapes = [tuple(kernel.shape) for kernel in network.kernels]
        return [weight[0] for weight in unflatten_weights(rows, shapes)]

    def example_fast_weights(self, support, support_labels):
        """W*_i = m(nabla_i) for every support example: the memory's values `[n, P]`."""
        gradients = per_example_gradients(
            self.base_learner, self.base_learner.kernels, support, support_labels
        )
        conv = self.example_conv_weights(flatten_weights(gradients[: self.blocks]))
        dense = self.example_dense_weights(flatten_weights(gradients[self.blocks :]))
        return self.scaled(ops.concatenate([conv, dense], axis=1), self.base_learner.kernels)

    def scaled(self, rows, kernels):
        """Generated fast weights (flattened, `[..., P]`) times `fan_in_scales(kernels)` if
        `scale_fast_weights`, else as they are."""
        return rows * fan_in_scales(kernels) if self.scale_fast_weights else rows

    def support_state(self, support, support_labels):
        """`(task_fast_weights, keys, memory)` of one task: what `adapt` bakes in."""
        task_fast_weights = self.task_fast_weights(support, support_labels)
        keys = self.representation(support, task_fast_weights)
        memory = self.example_fast_weights(support, support_labels)
        return task_fast_weights, keys, memory

    def classify(self, queries, task_fast_weights, keys, memory):
        """Each query's logits from its key, its read fast weights and b."""
        query_keys = self.representation(queries, task_fast_weights)
        shapes = [tuple(kernel.shape) for kernel in self.base_learner.kernels]
        fast_weights = read_fast_weights(query_keys, keys, memory, shapes)
        return self.base_learner(queries, fast_weights)

    def task_logits(self, support, support_labels, queries, training=False):
        return self.classify(queries, *self.support_state(support, support_labels))

    def task_head(self, support, support_labels):
        run = self.compiled_function(
            "support_state", lambda images, labels: self.support_state(images, labels)
        )
        task_fast_weights, keys, memory = run(support, support_labels)
        head = MetaNetworkClassifier(
            self.ways,
            int(keys.shape[0]),
            self.filters,
            self.blocks,
            self.units,
            self.image_size,
            channels=self.channels,
            name="meta_network",
        )
        head.representation.set_weights(self.representation.get_weights())
        head.base_learner.set_weights(self.base_learner.get_weights())
        head.set_state(task_fast_weights, keys, memory)
        return [head]

    def get_config(self):
        config = super().get_config()
        config.update(
            ways=self.ways,
            filters=self.filters,
            blocks=self.blocks,
            units=self.units,
            chunks=self.chunks,
            meta_units=self.meta_units,
            preprocessing_k=self.preprocessing_k,
            scale_fast_weights=self.scale_fast_weights,
        )
        return config
