"""Checks of user input, each failing with an error that names the problem."""

import numpy as np
import tensorflow as tf


class EpisodeError(ValueError):
    """An episode or support set that a meta-learner cannot use."""


CHANNEL_NAMES = {1: "grayscale", 3: "RGB", 4: "RGBA"}


def channels_text(channels):
    """`1 (grayscale), shape [n, H, W, 1]`: a model's channel count as error messages say it."""
    kind = CHANNEL_NAMES.get(int(channels))
    kind = f" ({kind})" if kind else ""
    return f"{channels}{kind}, shape [n, H, W, {channels}]"


def check_channels(name, found, channels):
    """The one check of an image batch's channel count against the model's.

    Args:
        name: what the images are, for the message (e.g. `"query_images"`).
        found: the batch's last dimension (None when unknown, as in a traced graph: accepted).
        channels: the model's channel count C.

    Raises:
        EpisodeError: naming both counts, e.g. "query_images has 3 channels: this model takes
            1 (grayscale), shape [n, H, W, 1]".
    """
    if found is not None and int(found) != int(channels):
        raise EpisodeError(
            f"{name} has {found} channels: this model takes {channels_text(channels)}"
        )


def check_images(images, name, channels=1):
    """Returns `images` as a float32 array `[n, H, W, C]` (C = `channels`), or raises
    `EpisodeError`."""
    array = np.asarray(images)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise EpisodeError(f"{name} must be numeric pixels, got dtype {array.dtype}")
    expected = f"[n, H, W, {channels}]"
    if array.ndim == 3 and channels == 1:
        raise EpisodeError(
            f"{name} has shape {array.shape}: expected {expected}; add the channel axis "
            "with images[..., None]"
        )
    if array.ndim != 4:
        raise EpisodeError(f"{name} has shape {array.shape}: expected {expected}")
    check_channels(name, array.shape[-1], channels)
    if array.shape[0] == 0:
        raise EpisodeError(f"{name} is empty: at least one image is needed")
    if array.shape[1] == 0 or array.shape[2] == 0:
        raise EpisodeError(f"{name} has empty images of shape {array.shape[1:3]}")
    array = array.astype("float32")
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise EpisodeError(f"{name} holds {bad} NaN or infinite pixel values")
    return array


def check_labels(labels, count, ways=None):
    """Returns support labels as int32 `[count]` covering every class `0..N-1`.

    Args:
        labels: the support labels.
        count: the number of support images they label.
        ways: the number of classes the model expects, if it is fixed.

    Raises:
        EpisodeError: when labels are not integers, disagree with the images in number, fall
            outside `0..N-1`, or leave a class without an example.
    """
    array = np.asarray(labels)
    if array.ndim != 1:
        raise EpisodeError(f"support_labels must be 1-D, got shape {array.shape}")
    if array.shape[0] != count:
        raise EpisodeError(f"support_labels has {array.shape[0]} labels for {count} support images")
    if array.size == 0:
        raise EpisodeError("support_labels is empty: every class needs a support example")
    if not np.issubdtype(array.dtype, np.integer):
        whole = np.issubdtype(array.dtype, np.floating) and np.all(np.isfinite(array))
        if whole and np.all(array == np.round(array)):
            array = array.astype("int64")
        else:
            raise EpisodeError(f"support_labels must be integers, got dtype {array.dtype}")
    present = np.unique(array)
    classes = int(present[-1]) + 1 if ways is None else int(ways)
    outside = present[(present < 0) | (present >= classes)]
    if outside.size:
        raise EpisodeError(
            f"support_labels must lie in 0..{classes - 1}, found {_some(outside.tolist())}"
        )
    if present.size < classes:
        # Only the first gaps: range(classes) may be huge (labels such as raw class ids).
        missing = np.setdiff1d(np.arange(min(classes, present.size + 10)), present)
        raise EpisodeError(
            f"classes {_some(missing.tolist(), classes - present.size)} of 0..{classes - 1} "
            "have no support example; every class 0..N-1 needs at least one"
        )
    return array.astype("int32")


def _some(values, total=None, shown=10):
    """A short text listing the first `shown` of `values` (of `total` in all)."""
    total = len(values) if total is None else total
    listed = ", ".join(str(value) for value in values[:shown])
    return f"[{listed}, ... ({total} in all)]" if total > shown else f"[{listed}]"


def check_support_set(support_images, support_labels, ways=None, channels=1):
    """Validates a support set of `channels`-channel images; returns `(images, labels)` as
    float32 and int32 arrays."""
    images = check_images(support_images, "support_images", channels)
    labels = check_labels(support_labels, images.shape[0], ways)
    return images, labels


def check_regression_set(inputs, targets):
    """Returns a regression support set as float32 `[K, 1]` inputs and targets.

    Raises:
        EpisodeError: for non-numeric, empty, misshapen, mismatched or non-finite values.
    """
    arrays = []
    for values, name in ((inputs, "support_inputs"), (targets, "support_targets")):
        array = np.asarray(values)
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            raise EpisodeError(f"{name} must be numeric, got dtype {array.dtype}")
        if array.ndim != 2 or array.shape[1] != 1:
            raise EpisodeError(f"{name} has shape {array.shape}: expected [K, 1]")
        if array.shape[0] == 0:
            raise EpisodeError(f"{name} is empty: at least one point is needed")
        array = array.astype("float32")
        if not np.all(np.isfinite(array)):
            raise EpisodeError(f"{name} holds NaN or infinite values")
        arrays.append(array)
    if arrays[0].shape[0] != arrays[1].shape[0]:
        raise EpisodeError(
            f"{arrays[0].shape[0]} support inputs but {arrays[1].shape[0]} support targets"
        )
    return tuple(arrays)


def check_episode(episode, ways=None, channels=1):
    """Validates an episode dict of `channels`-channel images; returns it with numpy arrays."""
    if not isinstance(episode, dict):
        raise EpisodeError(f"an episode is a dict, got {type(episode).__name__}")
    missing = {"support_images", "support_labels", "query_images"} - set(episode)
    if missing:
        raise EpisodeError(f"the episode lacks {sorted(missing)}")
    images, labels = check_support_set(
        episode["support_images"], episode["support_labels"], ways, channels
    )
    queries = check_images(episode["query_images"], "query_images", channels)
    if queries.shape[1:] != images.shape[1:]:
        raise EpisodeError(
            f"query_images of shape {queries.shape[1:]} disagree with support_images of "
            f"shape {images.shape[1:]}"
        )
    return {"support_images": images, "support_labels": labels, "query_images": queries}


def episode_rank(data):
    """Rank of `support_images` in a `tf.data.Dataset` of episodes (4: single episodes, 5:
    meta-batches), or None for anything else (a distributed data set, too)."""
    if isinstance(data, tf.distribute.DistributedDataset):
        return None
    spec = getattr(data, "element_spec", None)
    episode = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(episode, dict) or "support_images" not in episode:
        return None
    return episode["support_images"].shape.rank


def check_replica_split(data, replicas):
    """Checks that a data set of `(episode, query_labels)` splits evenly across replicas.

    A distribution strategy splits every element of the data set along its first axis. That
    axis must be a task axis (meta-batches), else single episodes are cut apart: each replica
    would get some classes' supports and others' queries.

    Args:
        data: what `fit` was given; only a `tf.data.Dataset` of episode dicts is checked (a
            distributed data set is split already, e.g. `training.distributed`'s).
        replicas: the strategy's number of replicas in sync.
    """
    if isinstance(data, tf.distribute.DistributedDataset):
        return
    spec = getattr(data, "element_spec", None)
    episode = spec[0] if isinstance(spec, tuple) else spec
    if replicas <= 1 or not isinstance(episode, dict) or "support_images" not in episode:
        return
    shape = episode["support_images"].shape
    if shape.rank == 4:
        raise EpisodeError(
            f"a distribution strategy with {replicas} replicas splits each element of the data "
            "along its first axis, which would cut single episodes apart: batch episodes into "
            f"meta-batches with a task axis, e.g. sampler.dataset(tasks_per_batch={replicas})"
        )
    if shape.rank == 5 and shape[0] is not None and shape[0] % replicas:
        raise EpisodeError(
            f"meta-batches of {shape[0]} tasks do not split evenly across {replicas} replicas: "
            f"use a multiple of {replicas} tasks per batch"
        )
