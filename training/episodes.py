"""The seeded episode sampler, as a `tf.data` pipeline."""

import numpy as np
import tensorflow as tf


class EpisodeSampler:
    """Samples N-way K-shot episodes with Q queries per class from a set of classes.

    A class is a character row of `images` turned by a number of quarter turns (Omniglot's
    rotations count as classes of their own). Episode `i` of seed `s` depends only on `(s, i)`:
    the same seed gives the same episodes, in any order and in parallel.

    Args:
        images: `[characters, examples, S, S]` raw pixel values (one channel, as Omniglot), or
            `[characters, examples, S, S, C]` for images of C channels.
        rows: character row of each class.
        turns: quarter turns of each class.
        ways: classes per episode N.
        shots: support examples per class K.
        queries: query examples per class Q.
        seed: integer seed.
        counts: how many of its `examples` each character row really has (the first ones;
            the rest is padding, never sampled), for classes of different sizes; None: all.
    """

    def __init__(self, images, rows, turns, ways, shots, queries, seed=0, counts=None):
        classes, examples = len(rows), images.shape[1]
        if counts is not None:
            examples = int(np.min(np.asarray(counts)[np.asarray(rows)]))
        if ways > classes:
            raise ValueError(f"{ways}-way episodes need {ways} classes, the split has {classes}")
        if shots + queries > examples:
            raise ValueError(
                f"{shots} shots + {queries} queries exceed the {examples} examples per class"
            )
        if min(ways, shots, queries) < 1:
            raise ValueError("ways, shots and queries must each be at least 1")
        self.images = tf.constant(np.asarray(images, "float32"))
        self.rows = tf.constant(rows, tf.int32)
        self.turns = tf.constant(turns, tf.int32)
        self.counts = None if counts is None else tf.constant(counts, tf.int32)
        self.ways, self.shots, self.queries, self.seed = ways, shots, queries, int(seed)

    def episode(self, index):
        """Episode `index` as `(episode dict, query labels)`."""
        n, k, q = self.ways, self.shots, self.queries
        seed = tf.stack([tf.cast(self.seed, tf.int64), tf.cast(index, tf.int64)])
        keys = tf.random.experimental.stateless_split(seed, 2)
        scores = tf.random.stateless_uniform([tf.shape(self.rows)[0]], keys[0])
        picked = tf.argsort(scores)[:n]
        scores = tf.random.stateless_uniform([n, tf.shape(self.images)[1]], keys[1])
        if self.counts is not None:  # padding sorts last: scores of 2 > any uniform in [0, 1)
            count = tf.gather(self.counts, tf.gather(self.rows, picked))
            padding = tf.range(tf.shape(self.images)[1])[None, :] >= count[:, None]
            scores = tf.where(padding, 2.0, scores)
        examples = tf.argsort(scores, axis=1)[:, : k + q]
        images = tf.gather(
            tf.gather(self.images, tf.gather(self.rows, picked)), examples, batch_dims=1
        )
        images = rotate(images, tf.gather(self.turns, picked))
        if len(self.images.shape) == 4:  # one channel, stored without its axis
            images = images[..., None]
        return labelled_episode(images, n, k, q)

    def dataset(self, episodes=None, tasks_per_batch=None, start=0):
        """A data set of episodes `start, start+1, ...` (endless when `episodes` is None).

        Args:
            episodes: number of episodes, or None for an endless stream.
            tasks_per_batch: if set, batch episodes into meta-batches with a leading task axis.
            start: index of the first episode, to resume a stream.
        """
        indices = (
            tf.data.Dataset.range(start, start + episodes)
            if episodes
            else tf.data.Dataset.range(start, 2**62)
        )
        data = indices.map(self.episode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if tasks_per_batch:
            data = data.batch(tasks_per_batch, drop_remainder=True)
        return data.prefetch(tf.data.AUTOTUNE)


def labelled_episode(images, ways, shots, queries):
    """`(episode dict, query labels)` from `[N, K + Q, S, S, C]` images: class n's first K
    images are its support set, the other Q its queries; class n is labelled n."""
    n, k, q = ways, shots, queries
    side, channels = tf.shape(images)[2], images.shape[-1]
    labels = tf.range(n, dtype=tf.int32)
    episode = {
        "support_images": tf.reshape(images[:, :k], [n * k, side, side, channels]),
        "support_labels": tf.repeat(labels, k),
        "query_images": tf.reshape(images[:, k:], [n * q, side, side, channels]),
    }
    return episode, tf.repeat(labels, q)


def rotate(images, turns):
    """Rotates `[N, M, S, S]` (or `[N, M, S, S, C]`) images of class `n` by `turns[n]` quarter
    turns counterclockwise."""
    rotations = [images]
    order = [0, 1, 3, 2] + list(range(4, len(images.shape)))
    for _ in range(3):
        rotations.append(tf.reverse(tf.transpose(rotations[-1], order), [2]))
    stacked = tf.stack(rotations, axis=1)
    return tf.gather(stacked, turns, batch_dims=1)
