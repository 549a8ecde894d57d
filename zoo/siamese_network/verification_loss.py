"""Binary cross-entropy of same/different pairs, balanced between the two."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="metazoo")
class BalancedVerificationLoss(keras.losses.Loss):
    """Koch et al.'s verification loss on the (query, class) pairs of an episode.

    Each query forms one same pair, with its own class, and N - 1 different pairs: the
    binary cross-entropy of the similarity p = sigmoid(logit) is averaged over each kind and
    the two kinds weigh one half each, as training on balanced same and different pairs.
    It takes class logits `[Q, N]` and sparse labels, like Keras' cross-entropy.

    Reference:
        Koch, Zemel & Salakhutdinov, "Siamese Neural Networks for One-shot Image
        Recognition", ICML Deep Learning Workshop 2015.
    """

    def __init__(self, name="balanced_verification_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        ways = ops.shape(y_pred)[-1]
        same = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), ways)
        same = ops.cast(ops.reshape(same, ops.shape(y_pred)), y_pred.dtype)
        cross_entropy = ops.binary_crossentropy(same, y_pred, from_logits=True)
        positive = ops.sum(same * cross_entropy, axis=-1)
        different = ops.cast(ops.maximum(ways - 1, 1), y_pred.dtype)
        negative = ops.sum((1.0 - same) * cross_entropy, axis=-1) / different
        return 0.5 * (positive + negative)
