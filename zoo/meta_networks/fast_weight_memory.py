"""The memory of example-level fast weights, keyed by the support examples' representations."""

import math

from keras import ops

from zoo.layers.cosine_attention import cosine_attention


def flatten_weights(weights):
    """Weights `[n, *shape]` (one list entry per layer) as one row per example `[n, P]`."""
    return ops.concatenate([ops.reshape(w, (ops.shape(w)[0], -1)) for w in weights], axis=1)


def unflatten_weights(rows, shapes):
    """Rows `[n, P]` as one weight `[n, *shape]` per shape: the inverse of `flatten_weights`."""
    weights, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        weights.append(ops.reshape(rows[:, start : start + size], (-1, *shape)))
        start += size
    return weights


def fan_in_scales(kernels):
    """1 / sqrt(fan_in) of each kernel, repeated over its entries: a row `[P]` that multiplies
    the generators' flattened outputs (`flatten_weights` order).

    The weight generators give every coordinate a fast weight of order 1, whatever its layer;
    scaled by the LeCun standard deviation of the layer's slow weights, a fast branch starts
    at the scale of its slow branch (fan_in = kh * kw * C for a convolution, D for a dense
    layer).
    """
    return ops.concatenate(
        [
            ops.full((math.prod(kernel.shape),), 1.0 / math.sqrt(math.prod(kernel.shape[:-1])))
            for kernel in kernels
        ]
    )


def read_fast_weights(query_keys, keys, memory, shapes):
    """W*_q = sum_i a_qi W*_i, a_q = softmax_i cos(u(x_q), r'_i): each query's fast weights.

    Reference:
        Munkhdalai & Yu, "Meta Networks", ICML 2017, section 3.2, eqs. 7-8 (and the
        authors' code: softmax over the support set of `cosine_similarity2d`).

    Args:
        query_keys: u(x) of the queries `[Q, D]`.
        keys: the support keys r'_i `[n, D]`.
        memory: the support examples' fast weights, flattened `[n, P]` (`flatten_weights`).
        shapes: the kernel shapes the P numbers make up.

    Returns:
        One per-query fast weight `[Q, *shape]` per shape. With an empty memory (n = 0) the
        read is zero: the fast branches then add act(0) = 0, the base learner's slow output.
    """
    _, rows = cosine_attention(query_keys, keys, memory)
    return unflatten_weights(rows, shapes)
