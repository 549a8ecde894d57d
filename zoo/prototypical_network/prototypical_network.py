"""Prototypical Networks."""

import keras
from keras import ops

from zoo.backbones import embedding_size
from zoo.metric_learner import MetricLearner
from zoo.prototypical_network.prototype_classifier import (
    PrototypeClassifier,
    class_prototypes,
    negative_squared_distances,
)


@keras.saving.register_keras_serializable(package="metazoo")
class PrototypicalNetwork(MetricLearner):
    """Classifies a query by softmax over -||f(x) - c_k||^2 to the class prototypes c_k.

    Support and queries are embedded in one batch by the Conv-4 network with max-pooling;
    batch normalization uses running statistics at inference, so results are not
    transductive.

    Reference:
        Snell, Swersky & Zemel, "Prototypical Networks for Few-shot Learning", NeurIPS 2017.

    Args:
        filters: channels of each Conv-4 block.
        blocks: number of Conv-4 blocks.
        **kwargs: `image_size`, `invert` and `keras.Model` arguments.
    """

    def __init__(self, filters=64, blocks=4, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.blocks = int(blocks)
        self.backbone = self.max_pool_embedding(filters, blocks)

    def task_logits(self, support, support_labels, queries, training=False):
        ways = ops.max(support_labels) + 1
        embeddings = self.embed(ops.concatenate([support, queries], axis=0), training=training)
        count = ops.shape(support)[0]
        prototypes = class_prototypes(embeddings[:count], support_labels, ways)
        return negative_squared_distances(embeddings[count:], prototypes)

    def metric_head(self, support_embeddings, support_labels):
        ways = int(ops.max(support_labels)) + 1
        head = PrototypeClassifier(ways, embedding_size(self.backbone), name="prototypes")
        head.prototypes.assign(class_prototypes(support_embeddings, support_labels, ways))
        return head

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, blocks=self.blocks)
        return config
