"""Meta information: the loss gradients a Meta Network turns into fast weights."""

import keras
import tensorflow as tf


def per_example_gradients(logits_function, weights, images, labels):
    """nabla_W L(x_i, y_i) for every example i alone: `[n, *W.shape]` per weight W, constants.

    One backward pass per example, vectorized over the examples (`tf.vectorized_map`, no
    Python loop): a Jacobian of the batch's losses would run n backward passes over the whole
    batch. The result is under `stop_gradient`: the meta information is an input of the weight
    generators, not a path of the meta-gradient (the authors' code moves it to numpy).

    Reference:
        Munkhdalai & Yu, "Meta Networks", ICML 2017, section 3.1 (meta information: loss
        gradients).

    Args:
        logits_function: images -> logits `[n, N]` (on the slow weights).
        weights: the variables to differentiate by.
        images: `[n, H, W, C]`.
        labels: ints `[n]`.
    """
    # Differentiated by the weights' values as tensors, substituted for the variables
    # (`StatelessScope`): a tape cannot watch a distributed variable outside a replica.
    values = [tf.convert_to_tensor(weight) for weight in weights]

    def gradient(example):
        image, label = example
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(values)
            with keras.StatelessScope(state_mapping=list(zip(weights, values, strict=True))):
                logits = logits_function(image[None])
            loss = keras.losses.sparse_categorical_crossentropy(
                label[None], logits, from_logits=True
            )
        return tape.gradient(loss, values)

    gradients = tf.vectorized_map(gradient, (images, labels))
    return [tf.stop_gradient(g) for g in gradients]


def chunk_gradients(gradients, chunks):
    """The gradients of the mean loss of each of `chunks` consecutive chunks of the examples.

    Example i of n is in chunk floor(i * c / n), c = min(chunks, n): c near-equal chunks in
    the given order (the authors' code splits the support set into IT = 5 chunks of n / 5).

    Args:
        gradients: per-example gradients `[n, ...]`.
        chunks: the number of chunks IT.

    Returns:
        `[c, ...]`.
    """
    count = tf.shape(gradients)[0]
    used = tf.minimum(count, chunks)
    ids = (tf.range(count) * used) // tf.maximum(count, 1)
    return tf.math.unsorted_segment_mean(gradients, ids, used)
