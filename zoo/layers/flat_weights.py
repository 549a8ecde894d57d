"""Weights laid end to end in one flat vector, and cut back into their shapes."""

import math

import tensorflow as tf
from keras import ops


def flatten(tensors):
    """The tensors flattened and concatenated, in order: a vector `[P]`."""
    return ops.concatenate([ops.reshape(tensor, (-1,)) for tensor in tensors], axis=0)


def unflatten(flat, shapes):
    """Splits a flat `[P]` vector into tensors of the given shapes: the inverse of `flatten`."""
    parts = tf.split(flat, [math.prod(shape) for shape in shapes], axis=0)
    return [ops.reshape(part, shape) for part, shape in zip(parts, shapes, strict=True)]
