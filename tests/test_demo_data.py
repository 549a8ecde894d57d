"""The embedded demo set: procedurally drawn glyph classes, deterministic and learnable."""

import numpy as np
import pytest

from training import demo_data


@pytest.fixture(scope="module")
def glyphs():
    return demo_data.demo_classes(classes=12, examples=6, seed=3)


def test_classes_are_omniglot_like_images(glyphs):
    assert glyphs.shape == (12, 6, 105, 105)
    assert glyphs.dtype == np.uint8
    assert set(np.unique(glyphs)) <= {0, 255}
    ink = (glyphs == 0).mean(axis=(2, 3))
    # White background, black strokes, every image has some ink but mostly background.
    assert ink.min() > 0.005 and ink.max() < 0.3
    assert (glyphs[..., 0, :] == 255).all() and (glyphs[..., -1, :] == 255).all()


def test_deterministic_by_seed_and_independent_of_how_many(glyphs):
    np.testing.assert_array_equal(glyphs, demo_data.demo_classes(classes=12, examples=6, seed=3))
    fewer = demo_data.demo_classes(classes=3, examples=2, seed=3, first=4)
    np.testing.assert_array_equal(fewer, glyphs[4:7, :2])
    other = demo_data.demo_classes(classes=12, examples=6, seed=4)
    assert not np.array_equal(other, glyphs)


def test_examples_vary_within_a_class(glyphs):
    for row in glyphs:
        assert len({example.tobytes() for example in row}) == len(row)


def test_examples_of_a_class_are_closer_than_examples_of_different_classes(glyphs):
    from training.omniglot import resize_images

    small = resize_images(glyphs, 28).reshape(12, 6, -1) / 255.0
    distances = ((small[:, :, None, None] - small[None, None]) ** 2).sum(-1)
    same = np.eye(12, dtype=bool)[:, None, :, None] & ~np.eye(6, dtype=bool)[None, :, None, :]
    different = ~np.eye(12, dtype=bool)[:, None, :, None] & np.ones((1, 6, 1, 6), bool)
    within, across = distances[same].mean(), distances[different].mean()
    assert within < 0.8 * across
    # Nearly every example is nearer, on average, to its own class than to the others.
    means = distances.sum(axis=3) / 6
    own = np.array([[means[c, e, c] * 6 / 5 for e in range(6)] for c in range(12)])  # not self
    other = np.array([[np.delete(means[c, e], c).mean() for e in range(6)] for c in range(12)])
    assert (own < other).mean() > 0.9


@pytest.mark.parametrize("ways, shots, queries", [(5, 1, 5), (3, 5, 2), (20, 1, 1)])
def test_task_layout(ways, shots, queries):
    task = demo_data.demo_task(ways=ways, shots=shots, queries=queries, seed=1)
    assert task["support_images"].shape == (ways * shots, 105, 105, 1)
    assert task["query_images"].shape == (ways * queries, 105, 105, 1)
    assert task["support_images"].dtype == task["query_images"].dtype == np.uint8
    np.testing.assert_array_equal(task["support_labels"], np.repeat(np.arange(ways), shots))
    np.testing.assert_array_equal(task["query_labels"], np.repeat(np.arange(ways), queries))
    assert task["support_labels"].dtype == np.int32
    assert len(set(task["classes"])) == ways and task["classes"] == sorted(task["classes"])


def test_task_is_deterministic_and_support_differs_from_queries():
    first, again = demo_data.demo_task(seed=7), demo_data.demo_task(seed=7)
    for key in ("support_images", "support_labels", "query_images", "query_labels"):
        np.testing.assert_array_equal(first[key], again[key])
    other = demo_data.demo_task(seed=8)
    assert not np.array_equal(first["support_images"], other["support_images"])
    support = {image.tobytes() for image in first["support_images"]}
    assert not support & {image.tobytes() for image in first["query_images"]}


def test_task_rejects_empty_settings():
    with pytest.raises(ValueError, match="at least"):
        demo_data.demo_task(ways=0)


def test_sampler_gives_episodes_a_learner_can_use():
    from contract_learners import tiny_protonet

    sampler = demo_data.demo_sampler(ways=3, shots=1, queries=2, classes=6, image_size=8)
    episode, labels = next(iter(sampler.dataset(1)))
    assert episode["support_images"].shape == (3, 8, 8, 1)
    assert episode["query_images"].shape == (6, 8, 8, 1)
    logits = tiny_protonet()(episode)
    assert logits.shape == (6, 3)
    np.testing.assert_array_equal(labels.numpy(), np.repeat(np.arange(3), 2))


def test_task_folders_round_trip(tmp_path):
    from metazoo.image_folders import read_queries, read_support_folder

    task = demo_data.demo_task(ways=3, shots=2, queries=1, seed=2)
    support, query = demo_data.write_task_folders(task, str(tmp_path))
    names, images, labels, resized = read_support_folder(support)
    assert names == [f"glyph{index:03d}" for index in task["classes"]] and resized == 0
    np.testing.assert_array_equal(images, task["support_images"])
    np.testing.assert_array_equal(labels, task["support_labels"])
    _, queries, truth, _ = read_queries([query], names, (105, 105))
    np.testing.assert_array_equal(queries, task["query_images"])
    np.testing.assert_array_equal(truth, task["query_labels"])
