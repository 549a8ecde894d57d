"""Base of the optimization family: adapt a network by gradient steps on the support set."""

import keras
import tensorflow as tf
from keras import ops

from zoo.layers.kept_statistics import keeping_statistics
from zoo.layers.network_copy import state_positions
from zoo.meta_learner import MetaLearner


def cross_entropy(labels, logits):
    """Mean sparse categorical cross-entropy of logits."""
    return ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))


class GradientLearner(MetaLearner):
    """A meta-learner that adapts `self.network` by gradient descent on the support loss.

    The inner loop runs the Keras layer stack on fast weights (plain tensors) through
    `stateless_call`, so the same layers serve meta-training, adaptation and the adapted
    classifier. Under an outer `GradientTape` the inner gradients are themselves
    differentiated: exact second-order meta-gradients. With `first_order=True` the inner
    gradients are treated as constants (first-order MAML).

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
    """

    def __init__(
        self,
        inner_steps=1,
        eval_inner_steps=None,
        inner_learning_rate=0.4,
        first_order=False,
        transductive=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.inner_steps = int(inner_steps)
        self.eval_inner_steps = int(
            eval_inner_steps if eval_inner_steps is not None else inner_steps
        )
        self.inner_learning_rate = float(inner_learning_rate)
        self.first_order = bool(first_order)
        self.transductive = bool(transductive)

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
                loss = cross_entropy(labels, self.functional_call(weights, images, training=True))
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
        if self.transductive:
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

    def task_head(self, support, support_labels):
        """A copy of the network holding the fast weights of `eval_inner_steps` steps.

        Not transductive (the default): the copy normalizes every image with the statistics
        of the support set under the fast weights (`keeping_statistics`), so an image's
        prediction does not depend on the rest of its batch. With `transductive=True` it
        normalizes each batch with the batch's own statistics, as Finn et al. evaluate.

        The inner loop runs compiled, traced once per support-set shape (and number of steps
        and step size): its cost grows linearly with the steps.
        """
        steps, alpha, transductive = (
            self.eval_inner_steps,
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
