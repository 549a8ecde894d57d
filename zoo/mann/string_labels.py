"""Santoro et al.'s string labels: each class a string of 5 characters from an alphabet of 5.

A label is an integer id s in [0, 5^5 = 3125), read as its 5 base-5 digits (the characters,
most significant first). As an input it is "five-hot": the 5 one-hot characters concatenated
(25 values); as an output the network gives 5 x 5 character logits, one softmax per
character, and the log-probability of a string is the sum of its characters' log-softmaxes.
A class never shown in the episode cannot be guessed (one string in 3125), where a one-hot
label can (one class in C): hence the paper's 0.1% at the 1st presentation of 15 classes.

Reference:
    Santoro, Bartunov, Botvinick, Wierstra & Lillicrap, "Meta-Learning with Memory-Augmented
    Neural Networks", ICML 2016 (its 15-class experiments, as we read them; snowkylin/ntm's
    `five_hot` labels).
"""

import numpy as np
from keras import ops

LABELS = ("one_hot", "strings")
"""How a MANN takes and gives labels: one-hot over the N classes, or strings."""

CHARACTERS = 5
"""Characters of a string label."""

ALPHABET = 5
"""Symbols a character can take."""

STRINGS = ALPHABET**CHARACTERS
"""The number of distinct string labels (3125)."""

WIDTH = CHARACTERS * ALPHABET
"""Values of a five-hot label, and the logits a MANN outputs for one (25)."""


def check_labels(labels):
    """Fails unless `labels` is one of `LABELS`."""
    if labels not in LABELS:
        raise ValueError(f"labels must be one of {LABELS}, got {labels!r}")


def string_characters(ids):
    """The characters of string labels: base-5 digits `[..., 5]`, most significant first.

    Args:
        ids: ints in [0, 3125), any shape.
    """
    ids = ops.cast(ids, "int32")
    powers = ops.convert_to_tensor(
        [ALPHABET ** (CHARACTERS - 1 - c) for c in range(CHARACTERS)], "int32"
    )
    return (ids[..., None] // powers) % ALPHABET


def five_hot(ids, dtype="float32"):
    """String labels as inputs: the one-hot of each character, concatenated, `[..., 25]`."""
    one_hot = ops.one_hot(string_characters(ids), ALPHABET, dtype=dtype)
    return ops.reshape(one_hot, (*ops.shape(one_hot)[:-2], WIDTH))


def _spelling(count):
    """`[25, count]`: entry (5 c + a, s) is 1 where character c of string s is a."""
    ids = np.arange(count)
    spelling = np.zeros((WIDTH, count), "float32")
    for c in range(CHARACTERS):
        spelling[c * ALPHABET + (ids // ALPHABET ** (CHARACTERS - 1 - c)) % ALPHABET, ids] = 1
    return spelling


def string_log_probabilities(logits, count=STRINGS):
    """log p(s) of strings s = 0..count-1 from character logits `[..., 25]`: `[..., count]`.

    log p(s) = sum_c log_softmax(logits_c)[s_c], characters independent given the logits. Over
    all 3125 strings these are normalized log-probabilities (logits whose softmax is p), so
    the sparse cross-entropy of a string label is the sum of its 5 characters'
    cross-entropies, and the argmax is the string of each character's argmax.

    Args:
        logits: the network's character logits, 5 x 5 flattened (`WIDTH`), any leading axes.
        count: the strings scored, ids 0..count-1 (all 3125 by default).
    """
    if not 1 <= count <= STRINGS:
        raise ValueError(f"string labels score 1 to {STRINGS} strings, got {count}")
    shape = ops.shape(logits)[:-1]
    characters = ops.reshape(logits, (*shape, CHARACTERS, ALPHABET))
    log_softmax = ops.reshape(ops.log_softmax(characters, axis=-1), (*shape, WIDTH))
    return ops.matmul(log_softmax, ops.convert_to_tensor(_spelling(count), log_softmax.dtype))
