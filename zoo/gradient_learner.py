"""Base of the optimization family: adapt a network by gradient steps on the support set."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import validation
from zoo.layers.kept_statistics import keeping_statistics
from zoo.layers.network_copy import state_positions
from zoo.meta_learner import EPISODE_KEYS, MetaLearner

REGRESSION_KEYS = ("support_inputs", "support_targets", "query_inputs")
"""The keys of a regression episode: `[K, 1]`, `[K, 1]` and `[Q, 1]` (or with a task axis)."""

NETWORKS = ("conv4", "sinusoid")
"""The networks a GradientLearner adapts: Finn et al.'s Omniglot Conv-4 classifier, or their
sinusoid regression MLP (`sinusoid_mlp`: 1 -> 40 -> 40 -> 1, ReLU, MSE loss)."""


def cross_entropy(labels, logits):
    """Mean sparse categorical cross-entropy of logits."""
    return ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))


def mean_squared_error(targets, predictions):
    """Mean squared error over all points (Finn et al.'s regression loss)."""
    return ops.mean(ops.square(predictions - targets))


class GradientLearner(MetaLearner):
    """A meta-learner that adapts `self.network` by gradient descent on the support loss.

    The inner loop runs the Keras layer stack on fast weights (plain tensors) through
    `stateless_call`, so the same layers serve meta-training, adaptation and the adapted
    classifier. Under an outer `GradientTape` the inner gradients are themselves
    differentiated: exact second-order meta-gradients. With `first_order=True` the inner
    gradients are treated as constants (first-order MAML).

    With `network="sinusoid"` the learner regresses instead of classifying: an episode is
    `{"support_inputs": [K, 1], "support_targets": [K, 1], "query_inputs": [Q, 1]}` (optionally
    with a leading task axis), `call` returns query predictions `[Q, 1]`, the inner and outer
    losses are the mean squared error, there is no image preprocessing and no normalization,
    and `adapt(support_inputs, support_targets)` returns a `keras.Model` from inputs `[n, 1]`
    to predictions `[n, 1]`. The inner loop, meta-training and adaptation are the same code
    as for classification: only `inner_loss` and the episode's keys change.

    Args:
        inner_steps: gradient steps on the support set during meta-training.
        eval_inner_steps: steps when adapting at test time (defaults to `inner_steps`).
        inner_learning_rate: the inner step size alpha.
        first_order: drop second-order terms of the meta-gradient.
        transductive: normalize the queries with their own batch's statistics, in
            meta-training and at test time (`call`, `adapt`), as Finn et al. do, so that a
            query's prediction depends on the other queries. By default every query is
            normalized on its own with the support set's statistics under the fast weights
            (`keeping_statistics`), and the meta-gradient flows through those statistics.
        network: `"conv4"` (few-shot classification of images) or `"sinusoid"` (regression
            of a scalar function, `sinusoid_mlp`); subclasses build `self.network` from it.
    """

    def __init__(
        self,
        inner_steps=1,
        eval_inner_steps=None,
        inner_learning_rate=0.4,
        first_order=False,
        transductive=False,
        network="conv4",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
        self.architecture = network
        self.inner_steps = int(inner_steps)
        self.eval_inner_steps = int(
            eval_inner_steps if eval_inner_steps is not None else inner_steps
        )
        self.inner_learning_rate = float(inner_learning_rate)
        self.first_order = bool(first_order)
        self.transductive = bool(transductive)

    @property
    def regression(self):
        """Whether the learner regresses (`network="sinusoid"`) rather than classifies."""
        return self.architecture == "sinusoid"

    @property
    def episode_keys(self):
        """The keys of the learner's episodes: `REGRESSION_KEYS` or `EPISODE_KEYS`."""
        return REGRESSION_KEYS if self.regression else EPISODE_KEYS

    @property
    def task_rank(self):
        """The rank of one task's support inputs: 2 for `[K, 1]` points, 4 for images."""
        return 2 if self.regression else 4

    def prepare(self, inputs):
        """The network's input from an episode's raw inputs: images are preprocessed."""
        if self.regression:
            return ops.cast(inputs, self.compute_dtype)
        return self.preprocessing(inputs)

    def prepare_targets(self, targets):
        """Support targets as the inner loss takes them: float values or int labels."""
        return ops.cast(targets, self.compute_dtype if self.regression else "int32")

    def inner_loss(self, targets, outputs):
        """The support loss of the inner loop: MSE for regression, else cross-entropy."""
        if self.regression:
            return mean_squared_error(targets, outputs)
        return cross_entropy(targets, outputs)

    def _task_call(self, support, targets, queries, training):
        """One task: images go through `MetaLearner`'s checks; points are taken as floats."""
        if not self.regression:
            return super()._task_call(support, targets, queries, training)
        support, queries = self.prepare(support), self.prepare(queries)
        return self.task_logits(support, self.prepare_targets(targets), queries, training)

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Like `MetaLearner.compile`; a regression learner defaults to MSE and no metric."""
        if self.regression:
            loss = keras.losses.MeanSquaredError() if loss is None else loss
            metrics = [] if metrics is None else metrics
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def build_for_episode(self, ways, shots=1, queries=1, image_size=None):
        """Creates the weights; a regression learner runs `ways * shots` all-zero points."""
        if not self.regression:
            return super().build_for_episode(ways, shots, queries, image_size)
        points = np.zeros((ways * shots, 1), "float32")
        queries = np.zeros((ways * queries, 1), "float32")
        self(dict(zip(REGRESSION_KEYS, (points, points, queries), strict=True)), training=False)
        return self

    def functional_call(self, weights, images, training=False):
        """Runs `self.network` on `images` with `weights` in place of its trainable variables."""
        logits, _ = self.network.stateless_call(
            weights,
            [v.value for v in self.network.non_trainable_variables],
            images,
            training=training,
        )
        return logits

    def inner_loop(self, weights, images, labels, steps):
        """Takes `steps` steps of theta' = theta - alpha * grad L_support(theta).

        Returns:
            The fast weights, a list of tensors aligned with `network.trainable_variables`.
        """
        for _ in range(steps):
            with tf.GradientTape() as tape:
                tape.watch(weights)
                loss = self.inner_loss(labels, self.functional_call(weights, images, training=True))
            gradients = tape.gradient(loss, weights)
            if self.first_order:
                gradients = [tf.stop_gradient(g) for g in gradients]
            weights = [
                w - self.inner_learning_rate * g for w, g in zip(weights, gradients, strict=True)
            ]
        return weights

    def initial_weights(self):
        """The meta-learned initialization theta as tensors (reads recorded by outer tapes)."""
        return [tf.identity(v.value) for v in self.network.trainable_variables]

    def task_logits(self, support, support_labels, queries, training=False):
        steps = self.inner_steps if training else self.eval_inner_steps
        fast = self.inner_loop(self.initial_weights(), support, support_labels, steps)
        if self.transductive or self.regression:  # no normalization in the regression MLP
            return self.functional_call(fast, queries, training=training)
        statistics = self.support_statistics(fast, support)
        logits, _ = self.statistics_network().stateless_call(
            fast, statistics, queries, training=False
        )
        return logits

    def statistics_network(self):
        """The network that normalizes with kept statistics (`keeping_statistics`)."""
        return self.adaptation_cache.network(self.network, keeping_statistics)

    def support_statistics(self, weights, support):
        """The normalization statistics of the adapted network on the support set.

        Returns:
            The means and variances each normalization layer computes on `support` under
            `weights`, aligned with `statistics_network().non_trainable_variables`.
        """
        network = self.statistics_network()
        initial = [v.value for v in network.non_trainable_variables]
        _, statistics = network.stateless_call(weights, initial, support, training=True)
        return statistics

    # -- adaptation ----------------------------------------------------------------------------
    def adapt(self, support_images, support_labels, steps=None):
        """Adapts to one task by `steps` gradient steps on its support set.

        Args:
            support_images: raw images `[N*K, H, W, C]` (classification), or the support
                inputs `[K, 1]` of a regression learner (`network="sinusoid"`).
            support_labels: ints `[N*K]` in 0..N-1 (classification), or the support targets
                `[K, 1]` of a regression learner.
            steps: inner steps, by default `eval_inner_steps` (the preset's).

        Returns:
            A `keras.Model`: from raw images `[n, H, W, C]` to probabilities `[n, N]`, or for
            regression from inputs `[n, 1]` to predictions `[n, 1]`.
        """
        steps = self.eval_inner_steps if steps is None else int(steps)
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        if not self.regression:
            images, labels = validation.check_support_set(
                support_images, support_labels, self.fixed_ways, self.channels
            )
            preprocess = self.compiled_function("preprocessing", self.preprocessing)
            head = self.task_head(preprocess(images), ops.convert_to_tensor(labels), steps)
            return self.classifier(head)
        inputs, targets = validation.check_regression_set(support_images, support_labels)
        fast = self.adapted_weights(inputs, targets, steps)
        copy = self.network_copy(self.network, _weight_values(self.network, fast))
        points = keras.Input((1,), name="inputs")
        return keras.Model(points, copy(points), name=f"adapted_{self.name}")

    def adapted_weights(self, support, targets, steps):
        """The fast weights after `steps` inner steps on a prepared support set, compiled
        once per learner, number of steps and step size (and traced per support shape)."""
        alpha = self.inner_learning_rate

        def adapt_task(support, targets):
            return self.inner_loop(self.initial_weights(), support, targets, steps)

        adapt = self.compiled_function(("adapted_weights", steps, alpha), adapt_task)
        return adapt(support, targets)

    def task_head(self, support, support_labels, steps=None):
        """A copy of the network holding the fast weights of `steps` steps
        (`eval_inner_steps` by default).

        Not transductive (the default): the copy normalizes every image with the statistics
        of the support set under the fast weights (`keeping_statistics`), so an image's
        prediction does not depend on the rest of its batch. With `transductive=True` it
        normalizes each batch with the batch's own statistics, as Finn et al. evaluate.

        The inner loop runs compiled, traced once per support-set shape (and number of steps
        and step size): its cost grows linearly with the steps.
        """
        steps, alpha, transductive = (
            self.eval_inner_steps if steps is None else steps,
            self.inner_learning_rate,
            self.transductive,
        )

        def adapt_task(images, labels):
            fast = self.inner_loop(self.initial_weights(), images, labels, steps)
            return fast, (None if transductive else self.support_statistics(fast, images))

        adapt = self.compiled_function(("inner_loop", steps, alpha, transductive), adapt_task)
        fast, statistics = adapt(support, support_labels)
        if transductive:
            values = _weight_values(self.network, fast)
            return [self.network_copy(self.network, values)]
        values = _weight_values(self.statistics_network(), fast, statistics)
        return [self.network_copy(self.network, values, transform=keeping_statistics)]

    def transductive_predictor(self):
        """Logits with every layer normalized by each query batch's own statistics.

        Finn et al.'s evaluation: the fast weights are the same, but the queries of an
        episode are normalized together, so a query's logits depend on the others.
        """
        config = {**self.get_config(), "transductive": True}
        copy = type(self).from_config(config).build_for_episode(self.fixed_ways or 2)
        copy.set_weights(self.get_weights())
        return lambda episode: copy(episode, training=False)

    # -- meta-training ---------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(
            inner_steps=self.inner_steps,
            eval_inner_steps=self.eval_inner_steps,
            inner_learning_rate=self.inner_learning_rate,
            first_order=self.first_order,
            transductive=self.transductive,
            network=self.architecture,
        )
        return config


def _weight_values(network, trainable, non_trainable=None):
    """Values aligned with `network.weights`: `trainable` in place of its trainable variables,
    `non_trainable` (by default their current values) in place of the others."""
    values = [weight.value for weight in network.weights]
    trainable_positions, non_trainable_positions = state_positions(network)
    for position, value in zip(trainable_positions, trainable, strict=True):
        values[position] = value
    if non_trainable is not None:
        for position, value in zip(non_trainable_positions, non_trainable, strict=True):
            values[position] = value
    return values
