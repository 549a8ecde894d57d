"""The adapted Matching Network: query embeddings against a stored, labelled support set."""

import keras

from zoo.matching_network.attention import SIMILARITIES, class_logits, similarities
from zoo.matching_network.context_embedding import AttentionLSTM


@keras.saving.register_keras_serializable(package="metazoo")
class MatchingClassifier(keras.layers.Layer):
    """Maps query embeddings f'(x) to logits log y_hat over the classes of a stored support set.

    Holds the support embeddings g(x_i) (after the bidirectional LSTM for FCE), a trainable
    weight, and their one-hot labels y_i, a fixed one; with `fce=True` also its own attention
    LSTM, which turns f'(x) into f(x, S) by K reads of the stored g(S), unrolled. Then
    logits_k = log sum_{i: y_i = k} exp(scale * c(f(x), g(x_i))), whose softmax is the
    paper's y_hat = sum_i a(x, x_i) y_i.

    Reference:
        Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra, "Matching Networks for One Shot
        Learning", NeurIPS 2016.

    Args:
        support_size: number of support items n.
        ways: number of classes N.
        embedding_size: length D of an embedding.
        fce: whether queries are read through the attention LSTM.
        read_steps: the attention LSTM's number of reads K (with `fce`).
        similarity: `"cosine"` or `"euclidean"`, as in `MatchingNetwork`.
        scale: the factor on the similarity before the softmax.
    """

    def __init__(
        self,
        support_size,
        ways,
        embedding_size,
        fce=False,
        read_steps=2,
        similarity="cosine",
        scale=1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
        self.support_size = int(support_size)
        self.ways = int(ways)
        self.embedding_size = int(embedding_size)
        self.fce = bool(fce)
        self.read_steps = int(read_steps)
        self.similarity = similarity
        self.scale = float(scale)
        self.support_embeddings = self.add_weight(
            shape=(self.support_size, self.embedding_size),
            initializer="zeros",
            name="support_embeddings",
        )
        self.support_labels = self.add_weight(
            shape=(self.support_size, self.ways),
            initializer="zeros",
            trainable=False,
            name="support_labels",
        )
        self.attention = (
            AttentionLSTM(self.embedding_size, self.read_steps, name="attention_lstm")
            if self.fce
            else None
        )
        # Every weight exists now: built, so that Keras does not trace `call` to build the
        # layer when a functional model is made of it (the attention LSTM's reads, per task).
        self.built = True

    def call(self, embeddings):
        if self.attention is not None:
            embeddings = self.attention(embeddings, self.support_embeddings)
        scores = similarities(embeddings, self.support_embeddings, self.similarity)
        return class_logits(self.scale * scores, self.support_labels)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.ways)

    def get_config(self):
        config = super().get_config()
        config.update(
            support_size=self.support_size,
            ways=self.ways,
            embedding_size=self.embedding_size,
            fce=self.fce,
            read_steps=self.read_steps,
            similarity=self.similarity,
            scale=self.scale,
        )
        return config
