"""Shipped presets: complete, verified, and as accurate as their metadata says."""

import os

import pytest
from preset_checks import (
    CLASSIFICATION,
    GRADIENT,
    METRIC,
    SEQUENCES,
    assert_accuracy_matches_metadata,
)

import zoo
from training import protocols, recipes, sequence_recipes
from zoo import presets

REQUIRED = (
    "algorithm",
    "dataset",
    "protocol",
    "ways",
    "shots",
    "test_episodes",
    "test_queries_per_class",
    "eval_seed",
    "accuracy",
    "ci95",
    "paper_accuracy",
    "meets_paper",
    "transductive",
    "train_steps",
    "train_seconds",
    "versions",
    "weights_sha256",
)


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
    paper = metadata["paper_accuracy"]
    assert metadata["meets_paper"] == (None if paper is None else metadata["accuracy"] >= paper)
    assert_weights_match(name, metadata)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_preset_is_measured_with_its_recipes_queries(name):
    """The test queries per class of the shipped number are the ones its recipe tests, which
    `metazoo train` evaluates with and `metazoo eval` reuses by default: as many as shots for
    Finn et al.'s MAML protocol, 15 (the protocol's default) for most others."""
    metadata = zoo.preset_metadata(name)
    queries = protocols.recipe_test_queries(recipes.RECIPES[metadata["recipe"]], metadata["shots"])
    queries, _ = protocols.evaluation_queries_and_examples(metadata["protocol"], queries)
    assert metadata["test_queries_per_class"] == queries


@pytest.mark.parametrize("name", GRADIENT)
def test_gradient_preset_records_the_transductive_protocol_beside(name):
    """MAML, first-order MAML, Reptile and the LSTM meta-learner: `accuracy` is measured
    without transduction, and the papers' protocol (each test batch normalized with its own
    statistics) is recorded beside it, on as many episodes and queries."""
    metadata = zoo.preset_metadata(name)
    assert metadata["transductive"] is False
    assert "accuracy_transductive" in metadata, f"{name}: run metazoo eval --transductive --write"
    for key in ("test_episodes", "test_queries_per_class", "eval_seed"):
        assert metadata[f"{key}_transductive"] == metadata[key], key
    assert 0 < metadata["ci95_transductive"] < 2


@pytest.mark.omniglot
@pytest.mark.parametrize("name", METRIC)
def test_metric_preset_accuracy_matches_metadata(name, omniglot_path):
    assert_accuracy_matches_metadata(name, omniglot_path)


@pytest.mark.parametrize("name", SEQUENCES)
def test_sequence_preset_is_complete(name):
    metadata = zoo.preset_metadata(name)
    result = sequence_recipes.metadata_result(metadata)
    assert result is not None, f"{name} has no measured instance_accuracy"
    assert result["episodes"] >= 1000 and result["instances"] == metadata["instances"]
    # A CI of 0 only where every episode agrees: nothing right (the string labels' 1st
    # presentation, an unseen string) or everything right.
    for accuracy, ci in zip(result["accuracy"], result["ci95"], strict=True):
        assert 0 < ci < 5 or (ci == 0 and accuracy in (0.0, 100.0)), (accuracy, ci)
    assert metadata["meets_paper"] is not None
    assert_weights_match(name, metadata)


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
