"""TensorFlow's fused batch-normalization kernel, the one path both normalization layers share."""

import keras


def fusable(inputs):
    """Whether TensorFlow's fused batch-normalization kernel can normalize `inputs`.

    The kernel takes 4D float32 `[n, height, width, channels]` tensors on the TensorFlow
    backend; anything else (float64 gradient checks, other backends) takes the explicit
    formula.
    """
    return (
        keras.backend.backend() == "tensorflow"
        and len(inputs.shape) == 4
        and keras.backend.standardize_dtype(inputs.dtype) == "float32"
    )


def fused_batch_normalize(inputs, gamma, beta, epsilon):
    """Normalizes `inputs` with its own batch moments in one fused op.

    y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, over every axis but the last.
    TensorFlow registers the kernel's first and second derivatives and both are exact, so
    MAML's second-order meta-gradient can differentiate through it.

    Args:
        inputs: a float32 `[n, height, width, channels]` tensor (see `fusable`).
        gamma: the scale, `[channels]`.
        beta: the offset, `[channels]`.
        epsilon: added to the variance.

    Returns:
        `(outputs, mean, variance)`. The kernel reports the Bessel-corrected variance
        (divided by count - 1); `population_variance` converts it.
    """
    import tensorflow as tf

    return tf.compat.v1.nn.fused_batch_norm(inputs, gamma, beta, epsilon=epsilon, is_training=True)


def population_variance(inputs, corrected_variance):
    """The kernel's corrected variance of `inputs` as `keras.ops.moments` gives it (/ count)."""
    import tensorflow as tf

    count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), corrected_variance.dtype)
    return corrected_variance * (count - 1.0) / count
