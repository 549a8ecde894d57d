"""Koch et al.'s learned, component-weighted L1 similarity, and class scores from it."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="metazoo")
class WeightedL1Similarity(keras.layers.Layer):
    """p(x1, x2) = sigmoid(sum_j alpha_j |h1_j - h2_j| + b) for every pair of two sets.

    Returns the logit, the value inside the sigmoid, of every pair: `[n1, n2]` from embeddings
    `[n1, D]` and `[n2, D]`. The weights alpha_j are learned and weigh the importance of each
    component of the distance.

    Reference:
        Koch, Zemel & Salakhutdinov, "Siamese Neural Networks for One-shot Image
        Recognition", ICML Deep Learning Workshop 2015.
    """

    def build(self, first_shape, second_shape=None):
        self.alpha = self.add_weight(
            shape=(first_shape[-1],),
            initializer=keras.initializers.RandomNormal(0.0, 0.2),
            name="alpha",
        )
        self.bias = self.add_weight(shape=(), initializer="zeros", name="bias")

    def call(self, first, second):
        distances = ops.abs(first[:, None, :] - second[None, :, :])
        return ops.tensordot(distances, self.alpha, axes=1) + self.bias

    def compute_output_shape(self, first_shape, second_shape):
        return (first_shape[0], second_shape[0])


def class_scores(pair_logits, support_labels, ways, shot_pooling="mean"):
    """A class's score for each query: the mean (or max) of its shots' similarity logits.

    Args:
        pair_logits: `[Q, N*K]` similarity logits of every query against every support image.
        support_labels: `[N*K]` ints in 0..N-1.
        ways: the number of classes N.
        shot_pooling: `"mean"` or `"max"` over a class's support images.

    Returns:
        `[Q, N]` class scores; with one shot per class, the pair logits themselves.
    """
    one_hot = ops.one_hot(support_labels, ways, dtype=pair_logits.dtype)
    if shot_pooling == "mean":
        return ops.matmul(pair_logits, one_hot) / ops.sum(one_hot, axis=0)[None, :]
    masked = ops.where(ops.cast(one_hot, "bool")[None], pair_logits[:, :, None], -1e9)
    return ops.max(masked, axis=1)
