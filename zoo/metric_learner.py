"""Base of the metric family: embed support and queries, compare in embedding space."""

import keras

from zoo.backbones import conv4_backbone
from zoo.meta_learner import MetaLearner


def clone_with_weights(model):
    """A copy of a Keras model with its own variables holding the same values."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


class MetricLearner(MetaLearner):
    """A meta-learner whose adaptation keeps support embeddings and compares queries to them.

    Subclasses set `self.backbone` (preprocessed images to embeddings) and implement
    `task_logits` and `metric_head`, the layer that scores embeddings against the stored task
    state. The adapted classifier is preprocessing, a copy of the backbone (a `NetworkCopy`),
    and that layer; the support set is embedded by a compiled `embed`.
    """

    def max_pool_embedding(self, filters, blocks):
        """The Conv-4 embedding with 2x2 max-pooling (Vinyals et al.'s, and Snell et al.'s)
        for this learner's image size and channels, named `embedding`."""
        return conv4_backbone(
            filters,
            blocks,
            downsampling="max_pool",
            image_size=self.image_size,
            name="embedding",
            channels=self.channels,
        )

    def embed(self, images, training=False):
        """Embeddings `[n, D]` of preprocessed images."""
        return self.backbone(images, training=training)

    def task_head(self, support, support_labels):
        embed = self.compiled_function("embed", lambda images: self.embed(images, training=False))
        return [
            self.network_copy(self.backbone),
            self.metric_head(embed(support), support_labels),
        ]

    def metric_head(self, support_embeddings, support_labels):
        """A layer mapping query embeddings to logits over the support classes."""
        raise NotImplementedError
