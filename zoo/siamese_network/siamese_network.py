"""Siamese networks."""

import keras
from keras import ops

from zoo.backbones import conv4_backbone, embedding_size
from zoo.metric_learner import MetricLearner
from zoo.siamese_network.koch_encoder import koch_encoder
from zoo.siamese_network.siamese_classifier import SiameseClassifier
from zoo.siamese_network.similarity import WeightedL1Similarity, class_scores
from zoo.siamese_network.verification_loss import BalancedVerificationLoss

ENCODERS = ("conv4", "koch")
SHOT_POOLING = ("mean", "max")


@keras.saving.register_keras_serializable(package="metazoo")
class SiameseNetwork(MetricLearner):
    """Twin encoders with shared weights and a learned weighted-L1 similarity of two images.

    p(x1, x2) = sigmoid(sum_j alpha_j |h(x1)_j - h(x2)_j| + b), trained as verification: the
    binary cross-entropy of same and different pairs, balanced (`BalancedVerificationLoss`,
    the default loss of `compile`; an episode gives each query one same pair and N - 1
    different ones). One-shot classification as the paper does it: a query goes to the class
    of the most similar support image. With K shots, a class scores by the mean (or max,
    `shot_pooling`) of its shots' similarity logits. The contract's logits are those class
    scores (the similarity logits, before the sigmoid).

    Two encoders: `"conv4"`, the Conv-4 embedding with max-pooling on 28x28 images, as
    Vinyals et al. re-ran the Siamese network on their protocol (batch normalization with
    running statistics at inference: not transductive); `"koch"`, Koch et al.'s network on
    105x105 images (`koch_encoder`).

    Reference:
        Koch, Zemel & Salakhutdinov, "Siamese Neural Networks for One-shot Image
        Recognition", ICML Deep Learning Workshop 2015.

    Args:
        encoder: `"conv4"` or `"koch"`.
        filters: channels of each Conv-4 block (`"conv4"` only).
        blocks: number of Conv-4 blocks (`"conv4"` only).
        shot_pooling: `"mean"` or `"max"` over a class's shots.
        **kwargs: `image_size` (default 28 for conv4, 105 for koch), `invert` and
            `keras.Model` arguments.
    """

    def __init__(self, encoder="conv4", filters=64, blocks=4, shot_pooling="mean", **kwargs):
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        if shot_pooling not in SHOT_POOLING:
            raise ValueError(f"shot_pooling must be one of {SHOT_POOLING}, got {shot_pooling!r}")
        kwargs.setdefault("image_size", 105 if encoder == "koch" else 28)
        super().__init__(**kwargs)
        self.encoder = encoder
        self.filters = int(filters)
        self.blocks = int(blocks)
        self.shot_pooling = shot_pooling
        if encoder == "koch":
            self.backbone = koch_encoder(self.image_size, name="embedding", channels=self.channels)
        else:
            self.backbone = conv4_backbone(
                filters,
                self.blocks,
                image_size=self.image_size,
                name="embedding",
                channels=self.channels,
            )
        self.similarity = WeightedL1Similarity(name="similarity")

    def task_logits(self, support, support_labels, queries, training=False):
        ways = ops.max(support_labels) + 1
        embeddings = self.embed(ops.concatenate([support, queries], axis=0), training=training)
        count = ops.shape(support)[0]
        pairs = self.similarity(embeddings[count:], embeddings[:count])
        return class_scores(pairs, support_labels, ways, self.shot_pooling)

    def metric_head(self, support_embeddings, support_labels):
        ways = int(ops.max(support_labels)) + 1
        head = SiameseClassifier(
            ways,
            int(support_embeddings.shape[0]),
            embedding_size(self.backbone),
            self.shot_pooling,
            name="similarities",
        )
        head.support_embeddings.assign(support_embeddings)
        head.support_labels.assign(ops.cast(support_labels, "int32"))
        head.similarity.set_weights(self.similarity.get_weights())
        return head

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Like `MetaLearner.compile`, with the balanced verification loss as the default."""
        loss = BalancedVerificationLoss() if loss is None else loss
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=self.encoder,
            filters=self.filters,
            blocks=self.blocks,
            shot_pooling=self.shot_pooling,
        )
        return config
