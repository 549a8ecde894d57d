"""Relation Networks."""

import keras
from keras import ops

from zoo.backbones import conv4_backbone
from zoo.metric_learner import MetricLearner
from zoo.relation_network.relation_classifier import RelationClassifier
from zoo.relation_network.relation_loss import RelationMeanSquaredError
from zoo.relation_network.relation_module import RelationModule, class_features


@keras.saving.register_keras_serializable(package="metazoo")
class RelationNetwork(MetricLearner):
    """Learns the comparison: r_{q,n} = g_phi(C(sum_{i in S_n} f_phi(x_i), f_phi(x_q))).

    The embedding module f_phi is four [3x3 conv, batch norm, ReLU] blocks with 2x2
    max-pooling after the first two only (unpadded convolutions there, padded after), so that
    28x28 images become 5x5x64 feature maps, not vectors. A class is represented by the sum of
    its K support maps; the relation module g_phi scores the concatenation of a class map and
    a query map with a number in [0, 1], and training regresses the scores to one-hot targets
    (`RelationMeanSquaredError`, the default loss of `compile`).

    The contract's logits are the relation logits, the values before g_phi's sigmoid: their
    argmax is the argmax of the scores, and `adapt`'s probabilities are their softmax over the
    N classes (the scores themselves, bounded in [0, 1], would give an almost flat softmax).

    Batch normalization keeps running statistics for inference, so a query's scores do not
    depend on the other queries (not transductive). The authors' code normalizes with the
    statistics of the batch at test time too; `call(..., training=True)` gives that setting.

    Reference:
        Sung, Yang, Zhang, Xiang, Torr & Hospedales, "Learning to Compare: Relation Network
        for Few-Shot Learning", CVPR 2018.

    Args:
        filters: channels of every convolution.
        hidden_units: width of the relation module's first fully connected layer.
        **kwargs: `image_size`, `invert` and `keras.Model` arguments.
    """

    def __init__(self, filters=64, hidden_units=8, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.hidden_units = int(hidden_units)
        self.backbone = conv4_backbone(
            filters,
            blocks=4,
            image_size=self.image_size,
            name="embedding",
            pooled_blocks=2,
            padding=("valid", "valid", "same", "same"),
            flatten=False,
            channels=self.channels,
        )
        self.feature_size = int(self.backbone.output_shape[1])
        if self.feature_size < 4:
            raise ValueError(
                f"{self.image_size}x{self.image_size} images give {self.feature_size}x"
                f"{self.feature_size} feature maps; the relation module pools twice and needs "
                "at least 4x4 (images of at least 22x22)"
            )
        self.relation_module = RelationModule(filters, hidden_units, name="relation_module")

    def task_logits(self, support, support_labels, queries, training=False):
        ways = ops.max(support_labels) + 1
        maps = self.embed(ops.concatenate([support, queries], axis=0), training=training)
        count = ops.shape(support)[0]
        classes = class_features(maps[:count], support_labels, ways)
        return self.relation_module(classes, maps[count:], training=training)

    def metric_head(self, support_embeddings, support_labels):
        ways = int(ops.max(support_labels)) + 1
        head = RelationClassifier(
            ways, self.feature_size, self.filters, self.hidden_units, name="relations"
        )
        head.class_maps.assign(class_features(support_embeddings, support_labels, ways))
        head.relation_module.set_weights(self.relation_module.get_weights())
        return head

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Like `MetaLearner.compile`, with the paper's mean squared error as the default loss."""
        loss = RelationMeanSquaredError() if loss is None else loss
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, hidden_units=self.hidden_units)
        return config
