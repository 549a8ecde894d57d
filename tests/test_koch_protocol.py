"""Koch et al.'s protocol: alphabet and drawer splits, affine distortions, within-alphabet
episodes."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from training import koch_protocol
from training.koch_protocol import (
    DISTORTIONS,
    LAKE_ONE_SHOT_ALPHABETS,
    VALIDATION_ALPHABETS,
    WithinAlphabetSampler,
    affine_transforms,
    distort,
    distortion_parameters,
    koch_split,
)
from training.omniglot import Omniglot

TRAIN = ("Latin", "Greek", "Korean", "Braille")
"""The background alphabets of `fake_omniglot`."""


def fake_omniglot(side=8):
    """3 characters of each of 4 background alphabets, 1 validation and 2 test alphabets;
    pixel value = 100 * character row + drawer, so every image says where it came from."""
    alphabets = list(TRAIN)
    alphabets += [VALIDATION_ALPHABETS[0]] + list(LAKE_ONE_SHOT_ALPHABETS[:2])
    characters = [f"{a}/character{c:02d}" for a in alphabets for c in range(1, 4)]
    rows = np.arange(len(characters))[:, None, None, None]
    drawers = np.arange(20)[None, :, None, None]
    images = np.broadcast_to(100.0 * rows + drawers, (len(characters), 20, side, side))
    return Omniglot(images.astype("float32"), characters)


def origin(image):
    """(character row, drawer) of a fake image."""
    value = int(round(float(np.asarray(image).ravel()[0])))
    return value // 100, value % 100


def test_split_alphabets_and_drawers():
    data = fake_omniglot()
    seen = {}
    for split, drawers in (("train", range(12)), ("val", range(12, 16)), ("test", range(16, 20))):
        images, alphabets = koch_split(data, split)
        assert images.shape[1] == len(drawers)
        rows = {origin(images[c, 0])[0] for c in range(len(images))}
        assert [origin(images[0, d])[1] for d in range(images.shape[1])] == list(drawers)
        seen[split] = (rows, set(alphabets))
    assert seen["train"][1] == {"Latin", "Greek", "Korean", "Braille"}
    assert seen["val"][1] == {VALIDATION_ALPHABETS[0]}
    assert seen["test"][1] == set(LAKE_ONE_SHOT_ALPHABETS[:2])
    assert not (seen["train"][0] & seen["val"][0]) and not (seen["val"][0] & seen["test"][0])
    with pytest.raises(ValueError, match="unknown split"):
        koch_split(data, "trainval")


def test_split_of_omniglot(omniglot):
    counts = {split: koch_split(omniglot, split) for split in ("train", "val", "test")}
    assert {split: len(set(a)) for split, (_, a) in counts.items()} == {
        "train": 30,
        "val": 10,
        "test": 10,
    }
    assert sum(len(images) for images, _ in counts.values()) == 1623
    assert len(counts["train"][0]) == 964  # the whole of images_background


def identity_parameters(count):
    return {name: tf.fill([count], value) for name, value in koch_protocol._IDENTITY.items()}


def test_distortion_is_the_identity_at_zero_magnitude():
    images = tf.random.uniform([3, 105, 105, 1], 0, 255, seed=1)
    transforms = affine_transforms(identity_parameters(3), 105)
    np.testing.assert_allclose(transforms[:, :6], [[1, 0, 0, 0, 1, 0]] * 3, atol=1e-6)
    out = ops.image.affine_transform(images, transforms, fill_value=255.0)
    np.testing.assert_allclose(out, images, atol=1e-4)


def test_transform_inverts_the_distortion():
    """For each output pixel q the transform samples p with A (p - c) + c + t = q."""
    parameters = {"theta": 7.0, "rho_x": 0.2, "rho_y": -0.1, "s_x": 1.1, "s_y": 0.9}
    parameters.update(t_x=1.5, t_y=-2.0)
    batch = {name: tf.constant([value]) for name, value in parameters.items()}
    a0, a1, a2, b0, b1, b2 = np.asarray(affine_transforms(batch, 9))[0, :6]
    theta = math.radians(7.0)
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    forward = rotation @ np.array([[1.0, 0.2], [-0.1, 1.0]]) @ np.diag([1.1, 0.9])
    centre, shift = np.array([4.0, 4.0]), np.array([1.5, -2.0])
    for q in ([0.0, 0.0], [3.0, 7.0], [8.0, 2.0]):
        p = np.array([a0 * q[0] + a1 * q[1] + a2, b0 * q[0] + b1 * q[1] + b2])
        np.testing.assert_allclose(forward @ (p - centre) + centre + shift, q, atol=1e-4)


def test_translation_moves_the_glyph():
    image = np.full([1, 9, 9, 1], 255.0, "float32")
    image[0, 4, 4, 0] = 0.0  # one black pixel in the centre (row 4, column 4)
    parameters = identity_parameters(1)
    parameters["t_x"], parameters["t_y"] = tf.constant([2.0]), tf.constant([-1.0])
    out = ops.image.affine_transform(image, affine_transforms(parameters, 9), fill_value=255.0)
    assert np.argwhere(np.asarray(out)[0, ..., 0] < 128).tolist() == [[3, 6]]


def test_distortion_parameters_ranges_and_probability():
    parameters = distortion_parameters(tf.constant([3, 4], tf.int64), 4000)
    for name, (low, high) in DISTORTIONS.items():
        values = np.asarray(parameters[name])
        identity = values == koch_protocol._IDENTITY[name]
        assert 0.45 < identity.mean() < 0.55, name
        assert low <= values.min() and values.max() <= high, name


def test_distort_keeps_the_pixel_range():
    images = tf.random.uniform([16, 105, 105, 1], 0, 255, seed=2)
    out = np.asarray(distort(images, tf.constant([5, 6], tf.int64)))
    assert out.shape == (16, 105, 105, 1)
    assert out.min() >= 0.0 and out.max() <= 255.0 + 1e-3
    assert not np.allclose(out, images)


def test_within_alphabet_episodes():
    images, alphabets = koch_split(fake_omniglot(), "train")
    sampler = WithinAlphabetSampler(images, alphabets, ways=3, shots=1, queries=2, seed=7)
    for index in range(20):
        episode, labels = sampler.episode(index)
        support = [origin(x) for x in episode["support_images"].numpy()]
        queries = [origin(x) for x in episode["query_images"].numpy()]
        rows = [row for row, _ in support]
        assert len({alphabets[row] for row in rows}) == 1 and len(set(rows)) == 3
        assert [row for row, _ in queries] == [row for row in rows for _ in range(2)]
        drawers = [{d for _, d in support}, {d for _, d in queries[0::2]}]
        drawers.append({d for _, d in queries[1::2]})
        assert all(len(d) == 1 for d in drawers)  # one drawer per position, shared by classes
        assert len(set.union(*drawers)) == 3
        np.testing.assert_array_equal(labels, [0, 0, 1, 1, 2, 2])
    again = WithinAlphabetSampler(images, alphabets, ways=3, shots=1, queries=2, seed=7)
    np.testing.assert_array_equal(
        again.episode(5)[0]["support_images"], sampler.episode(5)[0]["support_images"]
    )


def test_within_alphabet_errors():
    images, alphabets = koch_split(fake_omniglot(), "train")
    with pytest.raises(ValueError, match="no alphabet has 4 characters"):
        WithinAlphabetSampler(images, alphabets, ways=4, shots=1, queries=1)
    with pytest.raises(ValueError, match="exceed the 12 drawers"):
        WithinAlphabetSampler(images, alphabets, ways=3, shots=6, queries=7)


def test_distorted_training_episodes_are_seeded():
    data = fake_omniglot(side=16)
    images, _ = koch_split(data, "train")
    rows = np.arange(len(images), dtype="int32")
    make = koch_protocol.DistortedEpisodeSampler
    sampler = make(images, rows, np.zeros_like(rows), 4, 1, 2, seed=3)
    first, second = sampler.episode(2)[0], make(images, rows, 0 * rows, 4, 1, 2, 3).episode(2)[0]
    np.testing.assert_array_equal(first["query_images"], second["query_images"])
    streamed = next(iter(sampler.dataset(episodes=1, start=2)))[0]  # the tf.data (graph) path
    np.testing.assert_allclose(streamed["query_images"], first["query_images"], atol=1e-4)
    plain = koch_protocol.EpisodeSampler(images, rows, 0 * rows, 4, 1, 2, seed=3).episode(2)[0]
    assert not np.allclose(first["query_images"], plain["query_images"])


def test_training_episodes_draw_only_background_alphabets_and_drawers_1_to_12(monkeypatch):
    """Koch's pairs never cross the split: every image of the training sampler (distortion
    off, so each pixel still says where it came from) is a drawing of an images_background
    character by one of the first 12 drawers."""
    data = fake_omniglot()
    monkeypatch.setattr("training.omniglot.load_omniglot", lambda path, size: data)
    monkeypatch.setattr("training.protocols.resolve_data_dir", lambda path: path)
    sampler = koch_protocol.koch_sampler("fake", "train", 5, 2, 3, seed=1, distorted=False)
    background = {r for r, name in enumerate(data.characters) if name.split("/")[0] in TRAIN}
    drawn = set()
    for index in range(40):
        episode, _ = sampler.episode(index)
        images = np.concatenate([episode["support_images"], episode["query_images"]])
        drawn |= {origin(image) for image in images}
    assert {row for row, _ in drawn} == background  # all of them, and nothing else
    assert {drawer for _, drawer in drawn} == set(range(12))


TINY_KOCH_RECIPE = {
    "algorithm": "SiameseNetwork",
    "model": {"encoder": "conv4", "filters": 8, "blocks": 2, "image_size": 28},
    "protocol": "koch",
    "train": {"ways": 5, "shots": 1, "queries": 1, "tasks_per_batch": None},
    "optimizer": {"learning_rate": 1e-3, "halve_every": None},
    "steps": 2,
    "presets": {"tinykoch_20way_1shot": (20, 1)},
    "paper": {(20, 1): 92.0},
    "transductive": False,
    "notes": "a tiny recipe of Koch's protocol for tests",
}


@pytest.mark.omniglot
def test_metazoo_trains_and_evaluates_on_kochs_protocol(
    capsys, monkeypatch, tmp_path, omniglot_path
):
    from test_cli import assert_user_error, run

    from training import recipes

    monkeypatch.setitem(recipes.RECIPES, "tinykoch", TINY_KOCH_RECIPE)
    out_dir = tmp_path / "presets"
    argv = ["train", "tinykoch", "--out", out_dir, "--data", omniglot_path, "--steps", 2]
    status, out, err = run(capsys, *argv, "--eval-episodes", 2)
    assert status == 0, err
    preset = out_dir / "tinykoch_20way_1shot"
    metadata = json.loads((preset / "metadata.json").read_text())
    assert metadata["protocol"] == koch_protocol.PROTOCOL
    assert metadata["test_queries_per_class"] == 1 and metadata["test_episodes"] == 2
    status, out, err = run(capsys, "eval", preset, "--episodes", 3, "--data", omniglot_path)
    assert status == 0, err
    assert "within-alphabet" in out and "3 episodes of 1 queries per class" in out
    result = run(capsys, "eval", preset, "--queries", 4, "--data", omniglot_path)
    assert_user_error(result, "--queries 4", "at most the 4 examples")
    result = run(capsys, *argv, "--queries", 4)
    assert_user_error(result, "--queries 4", "at most the 4 examples")
