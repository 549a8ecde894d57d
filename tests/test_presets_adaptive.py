"""Shipped presets of the adaptive families (MAML, Reptile, the LSTM meta-learner, Meta
Networks, MANN) are as accurate as their metadata says; `test_presets.py` checks the metric
family's and that every preset is complete. Two files so that the two test processes share
the slow checks."""

import pytest
from preset_checks import ADAPTIVE, SEQUENCES, assert_accuracy_matches_metadata

import zoo
from training import sequence_recipes


@pytest.mark.omniglot
@pytest.mark.parametrize("name", ADAPTIVE)
def test_adaptive_preset_accuracy_matches_metadata(name, omniglot_path):
    assert_accuracy_matches_metadata(name, omniglot_path)


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
