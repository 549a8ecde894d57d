"""Shipped presets: complete, verified, and as accurate as their metadata says."""

import os

import pytest

import zoo
from training import protocols, sequence_recipes
from training.evaluate import evaluate
from zoo import presets

REQUIRED = (
    "algorithm",
    "dataset",
    "protocol",
    "ways",
    "shots",
    "test_episodes",
    "accuracy",
    "ci95",
    "paper_accuracy",
    "transductive",
    "train_steps",
    "train_seconds",
    "versions",
    "weights_sha256",
)


SEQUENCES = [
    name
    for name in zoo.list_presets()
    if sequence_recipes.is_sequence_preset(zoo.preset_metadata(name))
]
"""Presets scored per instance on Santoro et al.'s sequences (MANN)."""
CLASSIFICATION = [
    name
    for name in zoo.list_presets()
    if name not in presets.SINUSOID_PRESETS and name not in SEQUENCES
]
"""Presets with an accuracy (the sinusoid presets' MSE is checked in test_sinusoid.py)."""


def assert_weights_match(name, metadata):
    """The preset's weights file has the sha256 its metadata records."""
    weights = os.path.join(presets.preset_directory(name), presets.WEIGHTS_FILE)
    assert presets.sha256_of(weights) == metadata["weights_sha256"]


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_preset_is_complete(name):
    metadata = zoo.preset_metadata(name)
    missing = [key for key in REQUIRED if key not in metadata]
    assert not missing, f"{name} metadata lacks {missing}"
    assert metadata["test_episodes"] >= 1000
    assert 0 < metadata["ci95"] < 2
    assert_weights_match(name, metadata)


@pytest.mark.omniglot
@pytest.mark.parametrize("name", CLASSIFICATION)
def test_preset_accuracy_matches_metadata(name, omniglot_path):
    # Other episodes than the metadata's (seed + 1), with at most 100 queries each: the
    # expected accuracy does not depend on the queries per class, and 20-way episodes of 15
    # queries per class took CI a minute and a half each.
    metadata = zoo.preset_metadata(name)
    learner = zoo.load_preset(name)
    sampler = protocols.omniglot_sampler(
        omniglot_path,
        "test",
        metadata["ways"],
        metadata["shots"],
        min(15, 100 // metadata["ways"]),  # 15 (75 queries) 5-way, 5 (100 queries) 20-way
        seed=metadata.get("eval_seed", 0) + 1,
    )
    result = evaluate(learner, sampler, episodes=200, verbose=0)
    assert abs(result["accuracy"] - metadata["accuracy"]) <= 1.5, (name, result["accuracy"])


@pytest.mark.parametrize("name", SEQUENCES)
def test_sequence_preset_is_complete(name):
    metadata = zoo.preset_metadata(name)
    result = sequence_recipes.metadata_result(metadata)
    assert result is not None, f"{name} has no measured instance_accuracy"
    assert result["episodes"] >= 1000 and result["instances"] == metadata["instances"]
    assert all(0 < ci < 5 for ci in result["ci95"])
    assert metadata["meets_paper"] is not None
    assert_weights_match(name, metadata)


@pytest.mark.omniglot
@pytest.mark.parametrize("name", SEQUENCES)
def test_sequence_preset_accuracy_matches_metadata(name, omniglot_path):
    """On 200 other sequences (seed + 1), the accuracy averaged over the instances (far less
    noisy than one instance's) is within 1.5 points of the metadata's."""
    from metazoo.commands.sequences import evaluate_instances

    metadata = zoo.preset_metadata(name)
    learner = zoo.load_preset(name)
    classes, instances, seed = metadata["classes"], metadata["instances"], metadata["eval_seed"]
    result = evaluate_instances(learner, omniglot_path, classes, instances, 200, seed + 1)
    recorded = sequence_recipes.metadata_result(metadata)["accuracy"]
    mean, expected = sum(result["accuracy"]) / len(recorded), sum(recorded) / len(recorded)
    assert abs(mean - expected) <= 1.5, (name, result["accuracy"], recorded)


@pytest.mark.parametrize("name", ["protonet_omniglot_5way_1shot", "maml_omniglot_5way_1shot"])
def test_preset_adapts_and_continues_meta_training(name):
    import numpy as np
    import tensorflow as tf
    from conftest import any_weight_changed, random_episode, weights_of

    learner = zoo.load_preset(name)
    episode, labels = random_episode(ways=5, shots=1, queries=2, size=105)
    probabilities = learner.adapt(episode["support_images"], episode["support_labels"]).predict(
        episode["query_images"], verbose=0
    )
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    before = weights_of(learner)
    batch = {key: value[None] for key, value in episode.items()}
    data = tf.data.Dataset.from_tensors((batch, labels[None])).repeat()
    history = learner.fit(data, steps_per_epoch=1, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any_weight_changed(before, weights_of(learner))
