"""Bad input fails early with an error that names the problem."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from conftest import random_episode, random_sampler
from contract_learners import tiny_protonet

import zoo
from training import omniglot
from training.train import write_preset
from zoo import validation
from zoo.presets import PresetError


@pytest.fixture
def task():
    episode, _ = random_episode(ways=3, shots=2, queries=2)
    return episode


def with_support(task, images=None, labels=None):
    changed = dict(task)
    if images is not None:
        changed["support_images"] = images
    if labels is not None:
        changed["support_labels"] = np.asarray(labels)
    return changed


def refused(episode, match, ways=None):
    """`check_episode` refuses the episode with a message matching `match`.

    That every learner's `adapt` refuses these episodes too is checked in test_contract.py.
    """
    with pytest.raises(zoo.EpisodeError, match=match):
        validation.check_episode(episode, ways)


# -- episodes ----------------------------------------------------------------------------------


def test_query_images_of_another_shape(task):
    episode = dict(task, query_images=np.zeros((6, 10, 8, 1), "float32"))
    with pytest.raises(zoo.EpisodeError, match=r"query_images of shape \(10, 8, 1\) disagree"):
        validation.check_episode(episode)


def test_labels_and_images_that_disagree_in_number(task):
    episode = with_support(task, labels=[0, 0, 1, 1, 2])
    refused(episode, "5 labels for 6 support images")


def test_labels_of_the_wrong_rank(task):
    episode = with_support(task, labels=np.zeros((6, 1), "int32"))
    refused(episode, r"support_labels must be 1-D")


def test_labels_outside_the_classes_of_a_fixed_way_model(task):
    episode = with_support(task, labels=[0, 0, 1, 1, 3, 3])
    refused(episode, re.escape("must lie in 0..2, found [3]"), ways=3)


def test_negative_labels(task):
    episode = with_support(task, labels=[0, 0, 1, 1, -1, -1])
    refused(episode, re.escape("must lie in 0..1, found [-1]"))


def test_non_integer_labels(task):
    episode = with_support(task, labels=[0, 0, 1, 1, 1.5, 2])
    refused(episode, "must be integers")


def test_a_class_without_support_example(task):
    episode = with_support(task, labels=[0, 0, 2, 2, 2, 2])
    refused(episode, re.escape("classes [1] of 0..2 have no support"))


def test_a_class_missing_for_a_fixed_way_model(task):
    episode = with_support(task, labels=[0, 0, 1, 1, 1, 1])
    refused(episode, re.escape("classes [2] of 0..2 have no support"), ways=3)


def test_huge_labels_are_reported_quickly():
    """Raw class ids as labels: the message stays short and nothing of size 10**12 is built."""
    with pytest.raises(zoo.EpisodeError, match=r"have no support example") as error:
        validation.check_labels([0, 10**12], 2)
    assert "in all" in str(error.value)
    assert len(str(error.value)) < 300


def test_an_empty_support_set(task):
    empty = np.zeros((0, 8, 8, 1), "float32")
    episode = with_support(task, images=empty, labels=np.zeros((0,), "int32"))
    refused(episode, "support_images is empty")
    with pytest.raises(zoo.EpisodeError, match="support_labels is empty"):
        validation.check_labels([], 0)


@pytest.mark.parametrize("part", ["support_images", "query_images"])
def test_three_channel_images(task, part):
    episode = dict(task)
    episode[part] = np.repeat(task[part], 3, axis=-1)
    refused(
        episode, rf"{part} has 3 channels: this model takes 1 \(grayscale\), shape \[n, H, W, 1\]"
    )


def test_images_without_channel_axis(task):
    episode = with_support(task, images=task["support_images"][..., 0])
    refused(episode, r"add the channel axis")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("part", ["support_images", "query_images"])
def test_nan_and_infinite_pixels(task, value, part):
    images = task[part].copy()
    images[1, 2, 3, 0] = value
    images[0, 0, 0, 0] = value
    episode = dict(task)
    episode[part] = images
    refused(episode, f"{part} holds 2 NaN or infinite pixel values")


def test_non_numeric_pixels(task):
    episode = with_support(task, images=np.full((6, 8, 8, 1), "a"))
    refused(episode, "must be numeric pixels")


def test_an_episode_missing_a_key(task):
    with pytest.raises(zoo.EpisodeError, match=r"lacks \['query_images'\]"):
        validation.check_episode({k: v for k, v in task.items() if k != "query_images"})


def test_episodes_a_strategy_would_cut_apart():
    unbatched = random_sampler().dataset()
    with pytest.raises(zoo.EpisodeError, match="cut single episodes apart"):
        validation.check_replica_split(unbatched, 2)
    with pytest.raises(zoo.EpisodeError, match="3 tasks do not split evenly across 2 replicas"):
        validation.check_replica_split(random_sampler().dataset(tasks_per_batch=3), 2)
    validation.check_replica_split(random_sampler().dataset(tasks_per_batch=4), 2)
    validation.check_replica_split(unbatched, 1)
    validation.check_replica_split(np.zeros(3), 2)


# -- presets and data --------------------------------------------------------------------------


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(PresetError, match="unknown preset 'protonet_mnist'") as error:
        zoo.load_preset("protonet_mnist")
    assert zoo.list_presets()
    for name in zoo.list_presets():
        assert name in str(error.value)


def test_a_weights_file_whose_sha256_does_not_match(tmp_path):
    folder = str(tmp_path / "tiny_preset")
    write_preset(tiny_protonet(), folder, {"preset": "tiny_preset", "ways": 3, "shots": 2})
    assert zoo.load_preset(folder).preset_name == "tiny_preset"
    weights = os.path.join(folder, "model.weights.h5")
    with open(weights, "r+b") as file:
        file.seek(os.path.getsize(weights) // 2)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(PresetError, match=r"sha256 of .*model\.weights\.h5 is [0-9a-f]{64}"):
        zoo.load_preset(folder)
    with pytest.raises(PresetError, match="corrupted or was replaced"):
        zoo.load_preset(folder)


def test_a_preset_folder_missing_its_weights(tmp_path):
    folder = str(tmp_path / "tiny_preset")
    write_preset(tiny_protonet(), folder, {"preset": "tiny_preset", "ways": 3, "shots": 2})
    os.remove(os.path.join(folder, "model.weights.h5"))
    with pytest.raises(PresetError, match="has no model.weights.h5"):
        zoo.load_preset(folder)


def test_a_data_path_without_omniglot(tmp_path):
    with pytest.raises(omniglot.OmniglotNotFoundError, match="images_background.zip") as error:
        omniglot.load_omniglot(str(tmp_path))
    assert "images_evaluation.zip" in str(error.value)
    assert str(tmp_path) in str(error.value)
    with pytest.raises(omniglot.OmniglotNotFoundError, match="is not a folder"):
        omniglot.load_omniglot(str(tmp_path / "missing"))


def test_a_learner_call_without_a_static_task_count():
    episode, _ = random_episode()
    learner = tiny_protonet()
    signature = {
        key: tf.TensorSpec((None, *value.shape), value.dtype) for key, value in episode.items()
    }

    @tf.function(input_signature=[signature])
    def call(batch):
        return learner(batch)

    batch = {key: np.stack([value, value]) for key, value in episode.items()}
    with pytest.raises(ValueError, match="drop_remainder=True"):
        call(batch)
