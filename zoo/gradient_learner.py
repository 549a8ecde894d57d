"""Base of the optimization family: adapt a network by gradient steps on the support set."""

import keras
import tensorflow as tf
from keras import ops

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
    """

    def __init__(
        self,
        inner_steps=1,
        eval_inner_steps=None,
        inner_learning_rate=0.4,
        first_order=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.inner_steps = int(inner_steps)
        self.eval_inner_steps = int(
            eval_inner_steps if eval_inner_steps is not None else inner_steps
        )
        self.inner_learning_rate = float(inner_learning_rate)
        self.first_order = bool(first_order)

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
        return self.functional_call(fast, queries, training=training)

    def task_head(self, support, support_labels):
        """A copy of the network holding the fast weights of `eval_inner_steps` steps.

        The inner loop runs compiled, traced once per support-set shape (and number of steps
        and step size): its cost grows linearly with the steps.
        """
        steps, alpha = self.eval_inner_steps, self.inner_learning_rate
        adapt = self.compiled_function(
            ("inner_loop", steps, alpha),
            lambda images, labels: self.inner_loop(self.initial_weights(), images, labels, steps),
        )
        fast = adapt(support, support_labels)
        values = [weight.value for weight in self.network.weights]
        trainable, _ = state_positions(self.network)
        for position, value in zip(trainable, fast, strict=True):
            values[position] = value
        return [self.network_copy(self.network, values)]

    def transductive_predictor(self):
        """The learner's own logits: its batch-statistics normalization is transductive."""
        return lambda episode: self(episode, training=False)

    # -- meta-training ---------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(
            inner_steps=self.inner_steps,
            eval_inner_steps=self.eval_inner_steps,
            inner_learning_rate=self.inner_learning_rate,
            first_order=self.first_order,
        )
        return config
