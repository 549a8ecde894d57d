"""MAML's meta-step written by hand in TensorFlow: the reference graph `zoo.MAML` is timed against.

Fast weights are plain tensors, the network is Finn et al.'s stride-2 Conv-4 written with
`tf.nn` ops (3x3 convolutions of stride 2 with SAME padding, batch normalization with the
batch's own statistics by TensorFlow's fused kernel, ReLU, a global average pool, a dense
layer), and one `tf.function` holds the whole meta-step: every task's inner steps on its
support set, the query losses, the meta-gradient and an Adam update. It takes the same raw
images as `zoo.MAML` (values 0..255) and scales and inverts them as `zoo.ImagePreprocessing`
does for images already at the network's size.

The weights are a list in the order of `zoo.MAML(...).network.trainable_variables`:
per block a kernel `[3, 3, in, out]`, a bias, the normalization's gamma and beta; then the
dense kernel `[filters, ways]` and bias. So the same values can be loaded into both.
"""

import numpy as np
import tensorflow as tf

EPSILON = 1e-3  # zoo.BatchStatisticsNormalization's default


def initial_weights(ways=5, filters=64, blocks=4, seed=0):
    """Glorot-uniform kernels, zero biases, unit gammas: numpy arrays in the network's order."""
    rng = np.random.default_rng(seed)

    def glorot(shape, fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape).astype("float32")

    weights, channels = [], 1
    for _ in range(blocks):
        weights += [
            glorot((3, 3, channels, filters), 9 * channels, 9 * filters),
            np.zeros(filters, "float32"),
            np.ones(filters, "float32"),
            np.zeros(filters, "float32"),
        ]
        channels = filters
    weights += [glorot((filters, ways), filters, ways), np.zeros(ways, "float32")]
    return weights


def preprocess(raw_images):
    """Raw 0..255 images at the network's size to inverted intensities in [0, 1]."""
    return 1.0 - tf.cast(raw_images, tf.float32) / 255.0


def forward(weights, images):
    """Logits of the stride-2 Conv-4 with `weights` (a list of tensors) on `images`."""
    features = images
    for index in range(0, len(weights) - 2, 4):
        kernel, bias, gamma, beta = weights[index : index + 4]
        features = tf.nn.conv2d(features, kernel, strides=2, padding="SAME") + bias
        # The fused kernel, as zoo.BatchStatisticsNormalization uses while training: its
        # registered derivatives are exact to second order (not so tf.nn.moments', which
        # stops the gradient through the mean inside the variance).
        features, _, _ = tf.compat.v1.nn.fused_batch_norm(
            features, gamma, beta, epsilon=EPSILON, is_training=True
        )
        features = tf.nn.relu(features)
    pooled = tf.reduce_mean(features, axis=[1, 2])
    return tf.matmul(pooled, weights[-2]) + weights[-1]


def loss(weights, images, labels):
    """Mean cross-entropy of the network's logits."""
    logits = forward(weights, images)
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )


def inner_loop(weights, images, labels, steps, learning_rate, first_order):
    """`steps` steps of theta' = theta - alpha * grad L_support(theta) on tensors."""
    for _ in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(weights)
            support_loss = loss(weights, images, labels)
        gradients = tape.gradient(support_loss, weights)
        if first_order:
            gradients = [tf.stop_gradient(g) for g in gradients]
        weights = [w - learning_rate * g for w, g in zip(weights, gradients, strict=True)]
    return weights


def meta_loss(weights, support, support_labels, queries, query_labels, steps, alpha, first_order):
    """Mean over tasks of the query loss after adaptation; the task axis is leading and static."""
    losses = []
    for task in range(support.shape[0]):
        fast = inner_loop(
            weights,
            preprocess(support[task]),
            support_labels[task],
            steps,
            alpha,
            first_order,
        )
        losses.append(loss(fast, preprocess(queries[task]), query_labels[task]))
    return tf.add_n(losses) / len(losses)


class HandwrittenMAML:
    """Variables, Adam slots and two compiled functions: `meta_gradients` and `train_step`.

    Args:
        weights: initial values in the order of `zoo.MAML`'s network.trainable_variables.
        inner_steps: inner gradient steps per task.
        inner_learning_rate: the inner step size alpha.
        first_order: drop the second-order terms (stop the inner gradients).
        learning_rate, beta_1, beta_2, epsilon: Adam, with Keras' defaults.
    """

    def __init__(
        self,
        weights,
        inner_steps=1,
        inner_learning_rate=0.4,
        first_order=False,
        learning_rate=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
    ):
        self.variables = [tf.Variable(np.asarray(w, "float32")) for w in weights]
        self.first_moments = [tf.Variable(tf.zeros_like(v)) for v in self.variables]
        self.second_moments = [tf.Variable(tf.zeros_like(v)) for v in self.variables]
        self.iterations = tf.Variable(0.0)
        self.inner_steps, self.alpha = int(inner_steps), float(inner_learning_rate)
        self.first_order = bool(first_order)
        self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.epsilon = epsilon
        self.meta_gradients = tf.function(self._meta_gradients)
        self.train_step = tf.function(self._train_step)

    def _meta_gradients(self, support, support_labels, queries, query_labels):
        """The meta-loss and its gradient with respect to the variables."""
        with tf.GradientTape() as tape:
            weights = [tf.identity(v) for v in self.variables]
            value = meta_loss(
                weights,
                support,
                support_labels,
                queries,
                query_labels,
                self.inner_steps,
                self.alpha,
                self.first_order,
            )
        return value, tape.gradient(value, self.variables)

    def _train_step(self, support, support_labels, queries, query_labels):
        """One meta-update with Adam; returns the meta-loss."""
        value, gradients = self._meta_gradients(support, support_labels, queries, query_labels)
        self.iterations.assign_add(1.0)
        step = self.iterations
        rate = self.learning_rate * tf.sqrt(1.0 - self.beta_2**step) / (1.0 - self.beta_1**step)
        for variable, m, v, g in zip(
            self.variables, self.first_moments, self.second_moments, gradients, strict=True
        ):
            m.assign_add((1.0 - self.beta_1) * (g - m))
            v.assign_add((1.0 - self.beta_2) * (tf.square(g) - v))
            variable.assign_sub(rate * m / (tf.sqrt(v) + self.epsilon))
        return value
