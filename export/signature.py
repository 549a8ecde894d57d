"""Checks that a model can be exported and derives the signature of its exported form."""

import keras
import tensorflow as tf

INPUT_NAME = "images"
OUTPUT_NAME = "probabilities"


def image_signature(model):
    """The input spec of the exported model: float32 `[None, H, W, C]` named `"images"`.

    `H`, `W` and `C` are taken from the model's input, so `H` and `W` stay dynamic (`None`) for
    the classifiers returned by `MetaLearner.adapt`, whose input spec is `(None, None, C)` (C
    the learner's `channels`; an unknown C is taken as 1). A
    regression model (a `GradientLearner` with `network="sinusoid"` adapts to one) takes
    points `[None, F]` instead: its spec is `[None, F]`, under the same name.

    Args:
        model: the model to export.

    Returns:
        A `tf.TensorSpec` of shape `[None, H, W, C]` (or `[None, F]`), dtype float32, named
        `"images"`.

    Raises:
        TypeError: when `model` is not a `keras.Model`.
        ValueError: when the model has no defined input, more than one input or output, or an
            input that is not a batch of images `[None, H, W, C]`.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"expected a keras.Model such as the one learner.adapt(...) returns, got "
            f"{type(model).__module__}.{type(model).__qualname__}"
        )
    try:
        inputs, outputs = model.inputs, model.outputs
    except AttributeError:
        inputs = outputs = None
    if not inputs:
        raise ValueError(
            f"model {model.name!r} has no defined input: export a functional model from raw "
            "images to probabilities, e.g. learner.adapt(support_images, support_labels), "
            "not the meta-learner itself"
        )
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(
            f"model {model.name!r} has {len(inputs)} inputs and {len(outputs)} outputs: "
            "expected one input (images) and one output (probabilities)"
        )
    shape = tuple(inputs[0].shape)
    if len(shape) == 2 and shape[0] is None and shape[1] is not None:  # points, not images
        return tf.TensorSpec((None, shape[1]), tf.float32, name=INPUT_NAME)
    if len(shape) != 4 or shape[0] is not None:
        raise ValueError(
            f"model {model.name!r} takes inputs of shape {shape}: expected a batch of "
            "images [None, H, W, C] (H and W may be None), or of points [None, F]"
        )
    channels = 1 if shape[3] is None else shape[3]
    return tf.TensorSpec((None, shape[1], shape[2], channels), tf.float32, name=INPUT_NAME)
