"""The adapted Siamese network's head: stored support embeddings and the learned similarity."""

import keras
from keras import ops

from zoo.siamese_network.similarity import WeightedL1Similarity, class_scores


@keras.saving.register_keras_serializable(package="metazoo")
class SiameseClassifier(keras.layers.Layer):
    """Scores query embeddings against stored support embeddings, class by class.

    The support embeddings are a trainable weight (fine-tuning moves them with the encoder
    and the similarity); the support labels are a fixed weight. A query is compared with
    every support image on its own: not transductive.

    Reference:
        Koch, Zemel & Salakhutdinov, "Siamese Neural Networks for One-shot Image
        Recognition", ICML Deep Learning Workshop 2015.

    Args:
        ways: number of classes N.
        support_size: number of support images N*K.
        embedding_size: length D of an embedding.
        shot_pooling: `"mean"` or `"max"` of a class's similarity logits.
    """

    def __init__(self, ways, support_size, embedding_size, shot_pooling="mean", **kwargs):
        super().__init__(**kwargs)
        self.ways = int(ways)
        self.support_size = int(support_size)
        self.embedding_size = int(embedding_size)
        self.shot_pooling = shot_pooling
        self.support_embeddings = self.add_weight(
            shape=(self.support_size, self.embedding_size),
            initializer="zeros",
            name="support_embeddings",
        )
        self.support_labels = self.add_weight(
            shape=(self.support_size,),
            initializer="zeros",
            dtype="int32",
            trainable=False,
            name="support_labels",
        )
        self.similarity = WeightedL1Similarity(name="similarity")
        self.similarity.build((None, self.embedding_size))

    def call(self, embeddings):
        logits = self.similarity(embeddings, self.support_embeddings)
        return class_scores(
            logits, ops.convert_to_tensor(self.support_labels), self.ways, self.shot_pooling
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.ways)

    def get_config(self):
        config = super().get_config()
        config.update(
            ways=self.ways,
            support_size=self.support_size,
            embedding_size=self.embedding_size,
            shot_pooling=self.shot_pooling,
        )
        return config
