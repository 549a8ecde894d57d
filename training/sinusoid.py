"""Sinusoid regression tasks (Finn et al. section 5.1), generated: nothing is read from disk."""

import math

import numpy as np
import tensorflow as tf

from zoo.gradient_learner import REGRESSION_KEYS

AMPLITUDE = (0.1, 5.0)
"""Range of a task's amplitude A (uniform)."""

PHASE = (0.0, math.pi)
"""Range of a task's phase phi (uniform)."""

INPUT_RANGE = (-5.0, 5.0)
"""Range of the inputs x (uniform); a task's function is y = A * sin(x - phi)."""


def sinusoid(inputs, amplitude, phase):
    """The task function y = A * sin(x - phi) of Finn et al.'s code (`generate_sinusoid_batch`)."""
    return amplitude * np.sin(np.asarray(inputs) - phase)


class SinusoidSampler:
    """Regression tasks y = A * sin(x - phi), each with K support and Q query points.

    Task `i` of a sampler is a function of `(seed, i)` alone (stateless random numbers): the
    same seed gives the same tasks in any order, on any run, and a resumed training run picks
    up at the task it stopped at (`start`). Amplitude, phase and inputs are uniform in
    `AMPLITUDE`, `PHASE` and `INPUT_RANGE`.

    Reference:
        Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
        Networks", ICML 2017 (section 5.1).

    Args:
        shots: K, support points per task (10 in Finn et al.'s training).
        queries: query points per task (default K, as in their code, which draws 2K points).
        seed: an int; tasks of different seeds are independent.
    """

    def __init__(self, shots=10, queries=None, seed=0):
        self.shots = int(shots)
        self.queries = self.shots if queries is None else int(queries)
        self.seed = int(seed)
        if self.shots < 1 or self.queries < 1:
            raise ValueError(f"shots and queries must be >= 1, got {shots} and {queries}")

    def task(self, index):
        """Task `index` as `(episode, query_targets, amplitude, phase)`, float32 tensors."""
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(index, tf.int64)])
        points = self.shots + self.queries
        uniform = tf.random.stateless_uniform([points + 2], seed, dtype=tf.float32)
        amplitude = AMPLITUDE[0] + (AMPLITUDE[1] - AMPLITUDE[0]) * uniform[0]
        phase = PHASE[0] + (PHASE[1] - PHASE[0]) * uniform[1]
        inputs = INPUT_RANGE[0] + (INPUT_RANGE[1] - INPUT_RANGE[0]) * uniform[2:, None]
        targets = amplitude * tf.sin(inputs - phase)
        episode = dict(
            zip(
                REGRESSION_KEYS,
                (inputs[: self.shots], targets[: self.shots], inputs[self.shots :]),
                strict=True,
            )
        )
        return episode, targets[self.shots :], amplitude, phase

    def dataset(self, tasks=None, tasks_per_batch=25, start=0):
        """A `tf.data.Dataset` of `(episode, query_targets)` that `fit` consumes.

        Args:
            tasks: the number of tasks, or None for an endless stream.
            tasks_per_batch: tasks per meta-batch (Finn et al.'s 25), or None for single
                episodes. Meta-batches keep a static task axis (`drop_remainder=True`).
            start: the index of the first task.
        """
        stop = None if tasks is None else start + int(tasks)
        indices = (
            tf.data.Dataset.range(start, stop) if stop else tf.data.Dataset.range(start, 2**62)
        )
        data = indices.map(lambda index: self.task(index)[:2])
        if tasks_per_batch:
            data = data.batch(int(tasks_per_batch), drop_remainder=True)
        return data.prefetch(tf.data.AUTOTUNE)

    def sample(self, tasks, start=0):
        """`tasks` tasks as numpy arrays: a dict of the episode keys, `query_targets`,
        `amplitude` and `phase`, each with a leading task axis."""
        indices = tf.data.Dataset.range(start, start + int(tasks))
        # The dataset's own map, so the values are bit for bit those `dataset` gives.
        episode, query_targets, amplitude, phase = next(
            iter(indices.map(self.task).batch(int(tasks)))
        )
        arrays = {key: value.numpy() for key, value in episode.items()}
        arrays.update(
            query_targets=query_targets.numpy(), amplitude=amplitude.numpy(), phase=phase.numpy()
        )
        return arrays
