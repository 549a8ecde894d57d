"""Koch et al.'s Omniglot protocol: 40 background and 10 evaluation alphabets, drawers split
12 / 4 / 4, affine distortions of the training pairs, and Lake et al.'s 20-way within-alphabet
one-shot task.

The splits, as Koch et al. describe them: the 30 alphabets of `images_background` train
(drawers 1-12), the 10 alphabets of `images_evaluation` that Lake et al.'s one-shot task does
not use validate (drawers 13-16), and Lake et al.'s 10 one-shot alphabets test (drawers
17-20). Which 12 / 4 / 4 drawers the paper used is not stated: here the first 12, the next 4
and the last 4 by drawer number. No rotations: each character is one class, at 105x105.

The test task, as Lake et al.'s 20 runs: 20 characters of one evaluation alphabet, the support
image of each from one drawer and the query of each from another, the same two drawers for all
20 characters (`WithinAlphabetSampler`); Lake's 20 fixed runs are not in the archives, so
episodes are drawn at random from the 10 alphabets and the 4 test drawers.

Reference:
    Koch, Zemel & Salakhutdinov, "Siamese Neural Networks for One-shot Image Recognition",
    ICML Deep Learning Workshop 2015; Lake, Salakhutdinov & Tenenbaum, "Human-level concept
    learning through probabilistic program induction", Science 2015.
"""

import math

import numpy as np
import tensorflow as tf
from keras import ops

from training.episodes import EpisodeSampler, labelled_episode

PROTOCOL = "omniglot-koch-105x105-within-alphabet"
IMAGE_SIZE = 105
TEST_QUERIES = 1  # Lake's runs: one query per class, from one other drawer
# The alphabets of Lake et al.'s 20 one-shot runs (two runs each), all of images_evaluation.
LAKE_ONE_SHOT_ALPHABETS = (
    "Atlantean",
    "Ge_ez",
    "Glagolitic",
    "Gurmukhi",
    "Kannada",
    "Malayalam",
    "Manipuri",
    "Old_Church_Slavonic_(Cyrillic)",
    "Tengwar",
    "Tibetan",
)
# The other 10 alphabets of images_evaluation: with the 30 of images_background, Koch's 40.
VALIDATION_ALPHABETS = (
    "Angelic",
    "Atemayar_Qelisayer",
    "Aurek-Besh",
    "Avesta",
    "Keble",
    "Mongolian",
    "Oriya",
    "Sylheti",
    "Syriac_(Serto)",
    "ULOG",
)
DRAWERS = {"train": range(0, 12), "val": range(12, 16), "test": range(16, 20)}
# Koch et al.'s distortion ranges: rotation theta (degrees), shears rho_x and rho_y, scales
# s_x and s_y, translations t_x and t_y (pixels); each component is applied with probability
# 1/2, else left at its identity value.
DISTORTIONS = {
    "theta": (-10.0, 10.0),
    "rho_x": (-0.3, 0.3),
    "rho_y": (-0.3, 0.3),
    "s_x": (0.8, 1.2),
    "s_y": (0.8, 1.2),
    "t_x": (-2.0, 2.0),
    "t_y": (-2.0, 2.0),
}
_IDENTITY = {name: 1.0 if name in ("s_x", "s_y") else 0.0 for name in DISTORTIONS}


def alphabet_of(character):
    """`"Alphabet/characterNN"` -> `"Alphabet"`."""
    return character.split("/")[0]


def koch_split(data, split):
    """A split of Koch's protocol: `(images, alphabets)`.

    Args:
        data: an `Omniglot` (`training.omniglot.load_omniglot`).
        split: `"train"`, `"val"` or `"test"`.

    Returns:
        `images`, `[characters, drawers, S, S]`, the split's characters with only its drawers;
        `alphabets`, the alphabet of each character row.
    """
    if split not in DRAWERS:
        raise ValueError(f"unknown split {split!r}; choose one of {tuple(DRAWERS)}")
    evaluation = set(LAKE_ONE_SHOT_ALPHABETS) | set(VALIDATION_ALPHABETS)
    wanted = {
        "train": lambda alphabet: alphabet not in evaluation,
        "val": lambda alphabet: alphabet in VALIDATION_ALPHABETS,
        "test": lambda alphabet: alphabet in LAKE_ONE_SHOT_ALPHABETS,
    }[split]
    rows = [row for row, name in enumerate(data.characters) if wanted(alphabet_of(name))]
    if not rows:
        raise ValueError(f"the data holds no character of Koch's {split} alphabets")
    drawers = list(DRAWERS[split])
    images = np.asarray(data.images)[np.asarray(rows)][:, drawers]
    return images, [alphabet_of(data.characters[row]) for row in rows]


def distortion_parameters(key, count):
    """Koch et al.'s random affine parameters for `count` images: `{name: [count]}`.

    Each component is drawn uniformly from its range in `DISTORTIONS` and kept with
    probability 1/2 (else its identity value), independently of the others.
    """
    keys = tf.random.experimental.stateless_split(key, 2 * len(DISTORTIONS))
    parameters = {}
    for i, (name, (low, high)) in enumerate(DISTORTIONS.items()):
        value = tf.random.stateless_uniform([count], keys[2 * i], low, high)
        kept = tf.random.stateless_uniform([count], keys[2 * i + 1]) < 0.5
        parameters[name] = tf.where(kept, value, _IDENTITY[name])
    return parameters


def affine_transforms(parameters, side):
    """The `[count, 8]` output-to-input transforms of `keras.ops.image.affine_transform`.

    The distortion maps a pixel p of the input to A (p - c) + c + t in the output, with c the
    image centre, t = (t_x, t_y) and A = R(theta) [[1, rho_x], [rho_y, 1]] diag(s_x, s_y);
    the transform sampled is its inverse, p = A^-1 (q - c - t) + c for an output pixel q.
    """
    theta = parameters["theta"] * (math.pi / 180.0)
    cos, sin = tf.cos(theta), tf.sin(theta)
    shear = [[1.0, parameters["rho_x"]], [parameters["rho_y"], 1.0]]
    s_x, s_y = parameters["s_x"], parameters["s_y"]
    # A = R @ shear @ diag(s), written out entry by entry.
    a00 = (cos * shear[0][0] - sin * shear[1][0]) * s_x
    a01 = (cos * shear[0][1] - sin * shear[1][1]) * s_y
    a10 = (sin * shear[0][0] + cos * shear[1][0]) * s_x
    a11 = (sin * shear[0][1] + cos * shear[1][1]) * s_y
    determinant = a00 * a11 - a01 * a10
    i00, i01 = a11 / determinant, -a01 / determinant
    i10, i11 = -a10 / determinant, a00 / determinant
    centre = (tf.cast(side, tf.float32) - 1.0) / 2.0
    shift_x = centre + parameters["t_x"]
    shift_y = centre + parameters["t_y"]
    b0 = centre - (i00 * shift_x + i01 * shift_y)
    b1 = centre - (i10 * shift_x + i11 * shift_y)
    zeros = tf.zeros_like(theta)
    return tf.stack([i00, i01, b0, i10, i11, b1, zeros, zeros], axis=1)


def distort(images, key, background=255.0):
    """Koch et al.'s random affine distortion of each image of `[n, S, S, C]` raw pixels.

    Bilinear sampling; pixels from outside the image take the `background` (Omniglot's white).
    Values stay within the input's range.
    """
    side = tf.shape(images)[1]
    transforms = affine_transforms(distortion_parameters(key, tf.shape(images)[0]), side)
    return ops.image.affine_transform(
        images, transforms, interpolation="bilinear", fill_mode="constant", fill_value=background
    )


class DistortedEpisodeSampler(EpisodeSampler):
    """An `EpisodeSampler` whose every image gets Koch et al.'s random affine distortion.

    The distortion of episode `i` depends only on `(seed, i)`, like its classes and examples.
    Same arguments as `EpisodeSampler`.
    """

    def episode(self, index):
        episode, labels = super().episode(index)
        seed = tf.stack([tf.cast(self.seed, tf.int64), tf.cast(index, tf.int64)])
        keys = tf.random.experimental.stateless_split(
            tf.random.experimental.stateless_fold_in(seed, 1), 2
        )
        episode["support_images"] = distort(episode["support_images"], keys[0])
        episode["query_images"] = distort(episode["query_images"], keys[1])
        return episode, labels


class WithinAlphabetSampler:
    """N-way K-shot episodes of N characters of one alphabet, drawers shared by all classes.

    Lake et al.'s one-shot task: an alphabet with at least N characters, N of its characters,
    and K + Q distinct drawers; class n's support images are its drawings by the first K
    drawers and its queries those by the other Q. Episode `i` of seed `s` depends only on
    `(s, i)`; alphabets are drawn uniformly.

    Args:
        images: `[characters, drawers, S, S]` raw pixel values (`koch_split`).
        alphabets: the alphabet of each character row.
        ways: classes per episode N (20 in Lake et al. and Koch et al.).
        shots: support drawers K (1).
        queries: query drawers Q (1).
        seed: integer seed.
    """

    def __init__(self, images, alphabets, ways, shots, queries, seed=0):
        if min(ways, shots, queries) < 1:
            raise ValueError("ways, shots and queries must each be at least 1")
        if shots + queries > images.shape[1]:
            raise ValueError(
                f"{shots} shots + {queries} queries exceed the {images.shape[1]} drawers"
            )
        names = sorted(set(alphabets))
        members = [[r for r, a in enumerate(alphabets) if a == name] for name in names]
        members = [rows for rows in members if len(rows) >= ways]
        if not members:
            raise ValueError(f"no alphabet has {ways} characters for {ways}-way episodes")
        size = max(len(rows) for rows in members)
        # Rows of each usable alphabet, padded with -1 (never drawn: see `episode`).
        self.members = tf.constant([rows + [-1] * (size - len(rows)) for rows in members])
        self.sizes = tf.constant([len(rows) for rows in members], tf.int32)
        self.images = tf.constant(np.asarray(images, "float32"))
        self.ways, self.shots, self.queries, self.seed = ways, shots, queries, int(seed)

    def episode(self, index):
        """Episode `index` as `(episode dict, query labels)`."""
        n, k, q = self.ways, self.shots, self.queries
        seed = tf.stack([tf.cast(self.seed, tf.int64), tf.cast(index, tf.int64)])
        keys = tf.random.experimental.stateless_split(seed, 3)
        alphabet = tf.random.stateless_uniform(
            [], keys[0], 0, tf.shape(self.sizes)[0], dtype=tf.int32
        )
        rows, size = self.members[alphabet], self.sizes[alphabet]
        scores = tf.random.stateless_uniform(tf.shape(rows), keys[1])
        scores = tf.where(tf.range(tf.shape(rows)[0]) < size, scores, 2.0)  # padding last
        picked = tf.gather(rows, tf.argsort(scores)[:n])
        drawers = tf.argsort(tf.random.stateless_uniform([tf.shape(self.images)[1]], keys[2]))
        images = tf.gather(tf.gather(self.images, picked), drawers[: k + q], axis=1)
        return labelled_episode(images[..., None], n, k, q)

    dataset = EpisodeSampler.dataset


def koch_sampler(
    data_dir, split, ways, shots, queries, seed=0, distorted=None, image_size=IMAGE_SIZE
):
    """Episodes of Koch et al.'s protocol (at 105x105, the paper's size, by default).

    Args:
        data_dir: the Omniglot folder.
        split: `"train"` (episodes across all training characters, distorted, as Koch et
            al.'s verification pairs), `"val"` or `"test"` (within-alphabet, undistorted).
        ways: classes per episode.
        shots: support examples per class.
        queries: query examples per class.
        seed: integer seed.
        distorted: whether to distort the images (default: only for `"train"`).
        image_size: side of the images (the distortions' pixel ranges are the paper's, at
            105; smaller sizes are for tests).
    """
    from training.omniglot import load_omniglot
    from training.protocols import resolve_data_dir

    images, alphabets = koch_split(load_omniglot(resolve_data_dir(data_dir), image_size), split)
    if split == "train":
        rows = np.arange(len(images), dtype="int32")
        sampler = DistortedEpisodeSampler if distorted in (None, True) else EpisodeSampler
        return sampler(images, rows, np.zeros_like(rows), ways, shots, queries, seed)
    if distorted:
        raise ValueError("only the training split is distorted")
    return WithinAlphabetSampler(images, alphabets, ways, shots, queries, seed)
