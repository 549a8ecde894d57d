"""Random raw images in the shapes of few-shot episodes, so no data set is needed."""

import numpy as np


def raw_images(count, side, rng):
    """`[count, side, side, 1]` float32 pixel values 0..255."""
    return rng.integers(0, 256, (count, side, side, 1)).astype("float32")


def episode(ways, shots, queries, side, seed=0):
    """One episode as `(episode dict, query labels)` of numpy arrays."""
    rng = np.random.default_rng(seed)
    labels = np.arange(ways, dtype="int32")
    data = {
        "support_images": raw_images(ways * shots, side, rng),
        "support_labels": np.repeat(labels, shots),
        "query_images": raw_images(ways * queries, side, rng),
    }
    return data, np.repeat(labels, queries)


def meta_batch(tasks, ways, shots, queries, side, seed=0):
    """`tasks` episodes stacked on a leading task axis, as `zoo` meta-learners take them."""
    episodes = [episode(ways, shots, queries, side, seed + t) for t in range(tasks)]
    data = {key: np.stack([e[key] for e, _ in episodes]) for key in episodes[0][0]}
    return data, np.stack([labels for _, labels in episodes])


def sequences(tasks, classes, instances, side, seed=0):
    """`tasks` sequences of Santoro et al.'s episodes: `classes` x `instances` raw images in a
    shuffled order, as `training.sequences.SequenceSampler` gives them stacked.

    Returns:
        `({"images": [tasks, T, side, side, 1], "labels": [tasks, T]}, labels)`, T = C * I.
    """
    rng = np.random.default_rng(seed)
    labels = np.stack(
        [
            rng.permutation(np.repeat(np.arange(classes, dtype="int32"), instances))
            for _ in range(tasks)
        ]
    )
    images = raw_images(tasks * classes * instances, side, rng)
    data = {"images": images.reshape(tasks, classes * instances, side, side, 1), "labels": labels}
    return data, labels
