"""NTM-style addressing (content and location), the alternative to LRUA in a MANN."""

import keras
from keras import ops

from zoo.mann.memory import cosine_similarity

SHIFTS = (-1, 0, 1)
"""The shifts a head's location addressing may make, as in Graves et al.'s experiments."""


def content_weights(keys, memory, strengths):
    """w^c(h, i) = softmax_i(beta_h K(k_h, M(i))): `[B, H, R]`.

    Args:
        keys: `[B, H, W]`.
        memory: `[B, R, W]`.
        strengths: the key strengths beta >= 0, `[B, H]`.
    """
    return ops.softmax(strengths[:, :, None] * cosine_similarity(keys, memory), axis=-1)


def interpolate(content, previous, gates):
    """w^g = g w^c + (1 - g) w_{t-1}, with g in (0, 1) `[B, H]`."""
    return gates[:, :, None] * content + (1.0 - gates[:, :, None]) * previous


def shift(weights, shift_weights):
    """The circular convolution w~(i) = sum_j w^g(j) s(i - j), over the shifts `SHIFTS`.

    Args:
        weights: `[B, H, R]`.
        shift_weights: s, a distribution over `SHIFTS` per head, `[B, H, len(SHIFTS)]`.
    """
    rolled = [_roll(weights, offset) for offset in SHIFTS]
    return sum(shift_weights[:, :, k, None] * rolled[k] for k in range(len(SHIFTS)))


def _roll(weights, offset):
    """`weights` rolled by `offset` along the last axis (x(i - offset) at i), by slicing and
    concatenation, which every exporter converts."""
    if offset == 0:
        return weights
    return ops.concatenate([weights[..., -offset:], weights[..., :-offset]], axis=-1)


def sharpen(weights, sharpness):
    """w(i) = w~(i)^gamma / sum_j w~(j)^gamma, with gamma >= 1 `[B, H]`."""
    powered = ops.power(ops.maximum(weights, 1e-30), sharpness[:, :, None])
    return powered / ops.sum(powered, axis=-1, keepdims=True)


def erase_and_add(memory, weights, erase, add):
    """M_t(i) = M_{t-1}(i) * prod_h (1 - w_h(i) e_h) + sum_h w_h(i) a_h.

    Args:
        memory: `[B, R, W]`.
        weights: the write heads' weights `[B, H, R]`.
        erase: e in (0, 1), `[B, H, W]`.
        add: a, `[B, H, W]`.
    """
    for h in range(weights.shape[1]):
        memory = memory * (1.0 - weights[:, h, :, None] * erase[:, h, None, :])
    return memory + ops.matmul(ops.transpose(weights, (0, 2, 1)), add)


@keras.saving.register_keras_serializable(package="metazoo")
class NTMAddressing(keras.layers.Layer):
    """The addressing of a Neural Turing Machine: content, then location, per head.

    From the controller output h_t each head emits a key strength beta = softplus(.), an
    interpolation gate g = sigmoid(.), a shift distribution s = softmax(.) over `SHIFTS` and
    a sharpening gamma = 1 + softplus(.); its weights are

        w^c = softmax(beta K(k, M)),  w^g = g w^c + (1 - g) w_{t-1},
        w~(i) = sum_j w^g(j) s(i - j),  w(i) = w~(i)^gamma / sum_j w~(j)^gamma.

    `write` is one write head (its own key k^w = tanh(.), erase e = sigmoid(.), add
    a = tanh(.)): M_t(i) = M_{t-1}(i) (1 - w^w_t(i) e_t) + w^w_t(i) a_t. `read_weights`
    addresses the read heads, whose keys come from the cell, in the written memory.

    Reference:
        Graves, Wayne & Danihelka, "Neural Turing Machines", arXiv:1410.5401, 2014,
        section 3.3; the addressing Santoro et al. (ICML 2016) compare LRUA with.

    Args:
        heads: the number of read heads H.
        memory_width: the width W of a memory row.
    """

    def __init__(self, heads, memory_width, **kwargs):
        super().__init__(**kwargs)
        self.heads = int(heads)
        self.memory_width = int(memory_width)
        shifts = len(SHIFTS)
        self.read_parameters = keras.layers.Dense(self.heads * (3 + shifts), name="read")
        self.write_parameters = keras.layers.Dense(3 + shifts + 3 * self.memory_width, name="write")

    def build(self, controller_shape):
        self.read_parameters.build(controller_shape)
        self.write_parameters.build(controller_shape)

    def _address(self, parameters, keys, memory, previous):
        """Weights `[B, n, R]` of n heads from their raw parameters `[B, n, 3 + shifts]`."""
        strengths = ops.softplus(parameters[:, :, 0])
        gates = ops.sigmoid(parameters[:, :, 1])
        sharpness = 1.0 + ops.softplus(parameters[:, :, 2])
        shift_weights = ops.softmax(parameters[:, :, 3:], axis=-1)
        weights = interpolate(content_weights(keys, memory, strengths), previous, gates)
        return sharpen(shift(weights, shift_weights), sharpness)

    def write(self, controller_output, memory, previous_write_weights):
        """`(M_t, w^w_t [B, R])` from h_t `[B, U]`, M_{t-1} and w^w_{t-1} `[B, R]`."""
        shifts = len(SHIFTS)
        width = self.memory_width
        parameters = self.write_parameters(controller_output)[:, None, :]
        address = parameters[:, :, : 3 + shifts]
        key = ops.tanh(parameters[:, :, 3 + shifts : 3 + shifts + width])
        erase = ops.sigmoid(parameters[:, :, 3 + shifts + width : 3 + shifts + 2 * width])
        add = ops.tanh(parameters[:, :, 3 + shifts + 2 * width :])
        weights = self._address(address, key, memory, previous_write_weights[:, None, :])
        return erase_and_add(memory, weights, erase, add), weights[:, 0]

    def read_weights(self, controller_output, keys, memory, previous_read_weights):
        """w^r_t `[B, H, R]` of the read heads with keys `[B, H, W]` in M_t."""
        parameters = ops.reshape(
            self.read_parameters(controller_output), (-1, self.heads, 3 + len(SHIFTS))
        )
        return self._address(parameters, keys, memory, previous_read_weights)

    def get_config(self):
        config = super().get_config()
        config.update(heads=self.heads, memory_width=self.memory_width)
        return config
