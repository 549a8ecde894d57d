"""The mean squared error of Relation Networks' scores against one-hot targets."""

import keras
from keras import ops


def relation_scores(logits):
    """The relation scores r_{q,n} = sigmoid(logit_{q,n}), each in [0, 1].

    Reference:
        Sung et al., "Learning to Compare: Relation Network for Few-Shot Learning", CVPR
        2018, equation (1): the relation module ends in a sigmoid.
    """
    return ops.sigmoid(logits)


@keras.saving.register_keras_serializable(package="metazoo")
class RelationMeanSquaredError(keras.losses.Loss):
    """(r_{q,n} - 1(y_q == n))^2 averaged over classes, with r = sigmoid(logits).

    Sung et al. regress the relation scores to 1 for the matching class and 0 for the others
    rather than classify them with a softmax. The loss takes the relation logits that
    `RelationNetwork` returns and sparse query labels, like Keras' cross-entropy, so it drops
    into `compile`; Keras' reduction then averages over queries.

    Reference:
        Sung, Yang, Zhang, Xiang, Torr & Hospedales, "Learning to Compare: Relation Network
        for Few-Shot Learning", CVPR 2018.
    """

    def __init__(self, name="relation_mean_squared_error", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        scores = relation_scores(y_pred)
        targets = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), ops.shape(y_pred)[-1])
        targets = ops.reshape(targets, ops.shape(scores))
        return ops.mean(ops.square(scores - ops.cast(targets, scores.dtype)), axis=-1)
