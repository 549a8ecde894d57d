"""Prototypes and the squared-Euclidean softmax of Prototypical Networks."""

import keras
from keras import ops


def class_prototypes(embeddings, labels, ways):
    """c_k = (1 / |S_k|) sum_{(x_i, y_i) in S_k} f(x_i): the mean embedding of each class."""
    one_hot = ops.one_hot(labels, ways, dtype=embeddings.dtype)
    return ops.matmul(ops.transpose(one_hot), embeddings) / ops.sum(one_hot, axis=0)[:, None]


def negative_squared_distances(queries, prototypes):
    """Logits -||f(x) - c_k||^2 for every query and prototype, `[Q, N]`."""
    squared = (
        ops.sum(queries**2, axis=-1, keepdims=True)
        - 2.0 * ops.matmul(queries, ops.transpose(prototypes))
        + ops.sum(prototypes**2, axis=-1)[None, :]
    )
    return -ops.maximum(squared, 0.0)


@keras.saving.register_keras_serializable(package="metazoo")
class PrototypeClassifier(keras.layers.Layer):
    """Scores embeddings by negative squared Euclidean distance to stored class prototypes.

    The prototypes are a trainable weight, so fine-tuning the adapted classifier with `fit`
    moves them too.

    Reference:
        Snell, Swersky & Zemel, "Prototypical Networks for Few-shot Learning", NeurIPS 2017.

    Args:
        ways: number of classes N.
        embedding_size: length D of an embedding.
    """

    def __init__(self, ways, embedding_size, **kwargs):
        super().__init__(**kwargs)
        self.ways = int(ways)
        self.embedding_size = int(embedding_size)
        self.prototypes = self.add_weight(
            shape=(self.ways, self.embedding_size), initializer="zeros", name="prototypes"
        )

    def call(self, embeddings):
        return negative_squared_distances(embeddings, self.prototypes)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.ways)

    def get_config(self):
        config = super().get_config()
        config.update(ways=self.ways, embedding_size=self.embedding_size)
        return config
