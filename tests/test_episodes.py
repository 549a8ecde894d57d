"""The episode sampler on synthetic images, and the Omniglot split protocol."""

import numpy as np
import pytest
import tensorflow as tf

from training import protocols
from training.episodes import EpisodeSampler, rotate

CHARACTERS, EXAMPLES, SIDE = 6, 7, 5


@pytest.fixture(scope="module")
def characters():
    """Random images `[characters, examples, S, S]`; every rotation of every image differs."""
    return np.random.default_rng(7).uniform(0, 255, (CHARACTERS, EXAMPLES, SIDE, SIDE))


def sampler_over(characters, ways=4, shots=2, queries=3, seed=0):
    """Each character in its four rotations: 24 classes."""
    rows = np.repeat(np.arange(CHARACTERS), 4)
    turns = np.tile(np.arange(4), CHARACTERS)
    return EpisodeSampler(characters, rows, turns, ways, shots, queries, seed)


def identify(characters, image):
    """The `(character, turns, example)` whose rotated image this is."""
    found = [
        (row, turn, example)
        for row in range(CHARACTERS)
        for turn in range(4)
        for example in range(EXAMPLES)
        if np.array_equal(np.rot90(characters[row, example], turn).astype("float32"), image)
    ]
    assert len(found) == 1, found
    return found[0]


def numpy_episodes(dataset, count):
    return [
        ({key: value.numpy() for key, value in episode.items()}, labels.numpy())
        for episode, labels in dataset.take(count)
    ]


def assert_same_episodes(first, second):
    for (episode_a, labels_a), (episode_b, labels_b) in zip(first, second, strict=True):
        np.testing.assert_array_equal(labels_a, labels_b)
        for key in episode_a:
            np.testing.assert_array_equal(episode_a[key], episode_b[key])


def test_episodes_hold_k_shots_and_q_queries_of_n_distinct_classes(characters):
    ways, shots, queries = 4, 2, 3
    sampler = sampler_over(characters, ways, shots, queries)
    for episode, query_labels in numpy_episodes(sampler.dataset(5), 5):
        assert episode["support_images"].shape == (ways * shots, SIDE, SIDE, 1)
        assert episode["query_images"].shape == (ways * queries, SIDE, SIDE, 1)
        np.testing.assert_array_equal(episode["support_labels"], np.repeat(np.arange(ways), shots))
        np.testing.assert_array_equal(query_labels, np.repeat(np.arange(ways), queries))
        classes = []
        for label in range(ways):
            support = [
                identify(characters, image[..., 0])
                for image in episode["support_images"][episode["support_labels"] == label]
            ]
            query = [
                identify(characters, image[..., 0])
                for image in episode["query_images"][query_labels == label]
            ]
            assert len(support) == shots and len(query) == queries
            # One class (character and rotation) per label, with distinct examples.
            assert len({(row, turn) for row, turn, _ in support + query}) == 1
            assert len({example for _, _, example in support + query}) == shots + queries
            classes.append(support[0][:2])
        assert len(set(classes)) == ways


def test_the_same_seed_gives_the_same_episodes_and_another_seed_others(characters):
    first = numpy_episodes(sampler_over(characters, seed=3).dataset(4), 4)
    again = numpy_episodes(sampler_over(characters, seed=3).dataset(4), 4)
    assert_same_episodes(first, again)
    other = numpy_episodes(sampler_over(characters, seed=4).dataset(4), 4)
    assert any(
        not np.array_equal(a["support_images"], b["support_images"])
        for (a, _), (b, _) in zip(first, other, strict=True)
    )
    # Episodes of one seed differ from one another too.
    assert not np.array_equal(first[0][0]["support_images"], first[1][0]["support_images"])


def test_a_stream_started_later_continues_the_same_episodes(characters):
    sampler = sampler_over(characters, seed=5)
    whole = numpy_episodes(sampler.dataset(6), 6)
    resumed = numpy_episodes(sampler.dataset(3, start=3), 3)
    assert_same_episodes(whole[3:], resumed)
    assert_same_episodes(whole[3:4], [tuple(map(_numpy, sampler.episode(3)))])


def _numpy(value):
    if isinstance(value, dict):
        return {key: item.numpy() for key, item in value.items()}
    return value.numpy()


def test_meta_batches_have_a_task_axis(characters):
    ways, shots, queries, tasks = 4, 2, 3, 3
    sampler = sampler_over(characters, ways, shots, queries)
    batch, labels = next(iter(sampler.dataset(tasks_per_batch=tasks)))
    assert batch["support_images"].shape == (tasks, ways * shots, SIDE, SIDE, 1)
    assert batch["support_labels"].shape == (tasks, ways * shots)
    assert batch["query_images"].shape == (tasks, ways * queries, SIDE, SIDE, 1)
    assert labels.shape == (tasks, ways * queries)
    # Static, so the learners can loop over tasks.
    spec = sampler.dataset(tasks_per_batch=tasks).element_spec
    assert spec[0]["support_images"].shape[0] == tasks
    singles = numpy_episodes(sampler.dataset(tasks), tasks)
    for task, (episode, task_labels) in enumerate(singles):
        np.testing.assert_array_equal(batch["query_images"][task], episode["query_images"])
        np.testing.assert_array_equal(labels[task], task_labels)


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_rotation_is_numpys_rot90(turns):
    images = np.random.default_rng(turns).uniform(size=(3, 2, 5, 5)).astype("float32")
    rotated = rotate(tf.constant(images), tf.constant([turns, 0, turns], tf.int32)).numpy()
    np.testing.assert_array_equal(rotated[0], np.rot90(images[0], turns, axes=(1, 2)))
    np.testing.assert_array_equal(rotated[1], images[1])
    np.testing.assert_array_equal(rotated[2], np.rot90(images[2], turns, axes=(1, 2)))


def test_the_sampler_refuses_impossible_episodes(characters):
    with pytest.raises(ValueError, match="25-way episodes need 25 classes, the split has 24"):
        sampler_over(characters, ways=25)
    with pytest.raises(ValueError, match="exceed the 7 examples per class"):
        sampler_over(characters, shots=4, queries=4)
    with pytest.raises(ValueError, match="at least 1"):
        sampler_over(characters, queries=0)


# -- Omniglot (skipped without the data) --------------------------------------------------------


def split_classes(omniglot_path, split):
    with open(protocols.split_file(omniglot_path, split)) as file:
        return [line.strip() for line in file if line.strip()]


def characters_of(classes):
    return {line.rsplit("/", 1)[0] for line in classes}


@pytest.mark.omniglot
def test_vinyals_splits_are_disjoint_characters_in_four_rotations(omniglot_path):
    trainval = split_classes(omniglot_path, "trainval")
    test = split_classes(omniglot_path, "test")
    assert len(trainval) == len(set(trainval)) == 4800
    assert len(test) == len(set(test)) == 1692
    assert len(characters_of(trainval)) == 1200
    assert len(characters_of(test)) == 423
    assert not characters_of(trainval) & characters_of(test)
    assert {line.rsplit("/", 1)[1] for line in trainval + test} == {
        "rot000",
        "rot090",
        "rot180",
        "rot270",
    }
    train, val = split_classes(omniglot_path, "train"), split_classes(omniglot_path, "val")
    assert set(train) | set(val) == set(trainval)
    assert not characters_of(train) & characters_of(val)


@pytest.mark.omniglot
def test_omniglot_classes_map_to_disjoint_rows(omniglot, omniglot_path):
    assert omniglot.images.shape == (1623, 20, 28, 28)
    assert omniglot.images.dtype == np.float32
    assert 0.0 <= omniglot.images.min() and omniglot.images.max() <= 255.0
    rows, turns = {}, {}
    for split in ("trainval", "test"):
        rows[split], turns[split] = omniglot.classes(protocols.split_file(omniglot_path, split))
        assert set(turns[split].tolist()) == {0, 1, 2, 3}
    assert len(rows["trainval"]) == 4800 and len(set(rows["trainval"].tolist())) == 1200
    assert len(rows["test"]) == 1692 and len(set(rows["test"].tolist())) == 423
    assert not set(rows["trainval"].tolist()) & set(rows["test"].tolist())


@pytest.mark.omniglot
def test_omniglot_sampler_gives_28x28_episodes(omniglot, omniglot_path):
    rows, turns = omniglot.classes(protocols.split_file(omniglot_path, "test"))
    sampler = EpisodeSampler(omniglot.images, rows, turns, 5, 1, 2, seed=0)
    episode, labels = sampler.episode(0)
    assert episode["support_images"].shape == (5, 28, 28, 1)
    assert episode["query_images"].shape == (10, 28, 28, 1)
    # White background: most pixels of a raw Omniglot image are 255.
    assert np.median(episode["support_images"].numpy()) > 250.0
