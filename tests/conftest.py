"""Shared test helpers: tiny random episodes, tiny models and the Omniglot location.

The tiny models' factories are the contract suite's registry (`contract_learners.py`).

Everything here is small enough that the whole suite runs on two CPU cores in well under a
few minutes; tests needing the Omniglot archives are marked `omniglot` and skipped without
them.
"""

import contextlib
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from contract_learners import IMAGE_SIZE, tiny_maml, tiny_protonet  # noqa: E402

import zoo  # noqa: E402
from training.episodes import EpisodeSampler  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
OMNIGLOT_ENV = "METAZOO_OMNIGLOT"


def omniglot_dir():
    """`$METAZOO_OMNIGLOT`, else `../shared/data/omniglot` beside the repository, if it holds
    the two archives (or their folders) and the Vinyals split files; otherwise None."""
    from training.omniglot import OmniglotNotFoundError, find_omniglot

    path = os.environ.get(OMNIGLOT_ENV) or str(REPO_ROOT.parent / "shared" / "data" / "omniglot")
    try:
        find_omniglot(path)
    except OmniglotNotFoundError:
        return None
    splits = pathlib.Path(path) / "splits" / "vinyals"
    if not all((splits / f"{split}.txt").is_file() for split in ("trainval", "test")):
        return None
    return path


def pytest_collection_modifyitems(config, items):
    if omniglot_dir() is not None:
        return
    skip = pytest.mark.skip(
        reason=f"no Omniglot: set ${OMNIGLOT_ENV} or put it in ../shared/data/omniglot"
    )
    for item in items:
        if "omniglot" in item.keywords:
            item.add_marker(skip)


def random_episode(
    ways=3, shots=2, queries=2, size=IMAGE_SIZE, seed=0, dtype="float32", channels=1
):
    """A raw-image episode of random pixels (0..255) and its query labels.

    Returns:
        `(episode, query_labels)`: `episode` holds `support_images` `[ways*shots, size, size,
        channels]`, `support_labels` (class-major, 0..ways-1) and `query_images`.
    """
    rng = np.random.default_rng(seed)
    support_shape = (ways * shots, size, size, channels)
    query_shape = (ways * queries, size, size, channels)
    episode = {
        "support_images": rng.uniform(0, 255, support_shape).astype(dtype),
        "support_labels": np.repeat(np.arange(ways), shots).astype("int32"),
        "query_images": rng.uniform(0, 255, query_shape).astype(dtype),
    }
    return episode, np.repeat(np.arange(ways), queries).astype("int32")


def random_sampler(ways=3, shots=1, queries=2, classes=10, examples=6, size=IMAGE_SIZE, seed=0):
    """An `EpisodeSampler` over `classes` classes of random images, no Omniglot needed."""
    rng = np.random.default_rng(1000 + seed)
    images = rng.uniform(0, 255, (classes, examples, size, size)).astype("float32")
    rows = np.arange(classes, dtype="int32")
    return EpisodeSampler(images, rows, np.zeros_like(rows), ways, shots, queries, seed)


def assert_adapted_matches_learner(learner, episode, ways):
    """`learner.adapt` gives a plain `keras.Model` whose probabilities are the softmax of the
    learner's logits on the same episode; returns those probabilities."""
    classifier = learner.adapt(episode["support_images"], episode["support_labels"])
    assert isinstance(classifier, keras.Model)
    assert not isinstance(classifier, zoo.MetaLearner)
    probabilities = np.asarray(classifier(episode["query_images"]))
    assert probabilities.shape == (len(episode["query_images"]), ways)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(learner(episode, training=False)))
    np.testing.assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-6)
    return classifier, probabilities


def weights_of(model):
    """Copies of all of a model's weights, as numpy arrays."""
    return [np.array(weight) for weight in model.get_weights()]


def assert_weights_equal(before, after):
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)


def any_weight_changed(before, after):
    return any(not np.array_equal(old, new) for old, new in zip(before, after, strict=True))


@pytest.fixture
def episode():
    """A 3-way 2-shot episode with 2 queries per class, 8x8 random pixels, and query labels."""
    return random_episode()


@pytest.fixture
def uneven_episode():
    """16x16 raw images (resized to 8x8), classes shuffled and with 1, 2 and 3 shots."""
    episode, labels = random_episode(ways=3, shots=3, queries=2, size=16, seed=3)
    keep = np.array([5, 0, 7, 3, 8, 6])  # labels 1, 0, 2, 1, 2, 2
    episode["support_images"] = episode["support_images"][keep]
    episode["support_labels"] = episode["support_labels"][keep]
    assert sorted(episode["support_labels"].tolist()) == [0, 1, 1, 2, 2, 2]
    return episode, labels


@pytest.fixture
def protonet():
    keras.utils.set_random_seed(0)
    return tiny_protonet()


@pytest.fixture
def maml():
    keras.utils.set_random_seed(0)
    return tiny_maml()


@contextlib.contextmanager
def float_type(dtype):
    """Makes new layers use `dtype` inside the `with` block.

    Both settings are needed: Keras fixes its global dtype policy from `floatx` the first
    time a layer asks for it, after which `set_floatx` alone no longer changes new layers.
    """
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


@pytest.fixture
def float64():
    """Makes new layers float64 for the duration of a test."""
    with float_type("float64"):
        yield


@pytest.fixture(scope="session")
def omniglot_path():
    path = omniglot_dir()
    if path is None:
        pytest.skip(f"no Omniglot: set ${OMNIGLOT_ENV} or put it in ../shared/data/omniglot")
    return path


@pytest.fixture(scope="session")
def omniglot(omniglot_path):
    """Omniglot at 28x28 (decoded once, then read from the cache)."""
    from training.omniglot import load_omniglot

    return load_omniglot(omniglot_path, 28)
