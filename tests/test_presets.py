"""Shipped presets: complete, verified, and as accurate as their metadata says."""

import os

import pytest

import zoo
from training import protocols
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


@pytest.mark.parametrize("name", zoo.list_presets())
def test_preset_is_complete(name):
    metadata = zoo.preset_metadata(name)
    missing = [key for key in REQUIRED if key not in metadata]
    assert not missing, f"{name} metadata lacks {missing}"
    assert metadata["test_episodes"] >= 1000
    assert 0 < metadata["ci95"] < 2
    folder = presets.preset_directory(name)
    weights = os.path.join(folder, presets.WEIGHTS_FILE)
    assert presets.sha256_of(weights) == metadata["weights_sha256"]


@pytest.mark.omniglot
@pytest.mark.parametrize("name", zoo.list_presets())
def test_preset_accuracy_matches_metadata(name, omniglot_path):
    metadata = zoo.preset_metadata(name)
    learner = zoo.load_preset(name)
    sampler = protocols.omniglot_sampler(
        omniglot_path,
        "test",
        metadata["ways"],
        metadata["shots"],
        metadata.get("test_queries_per_class", 15),
        seed=metadata.get("eval_seed", 0) + 1,
    )
    result = evaluate(learner, sampler, episodes=200, verbose=0)
    assert abs(result["accuracy"] - metadata["accuracy"]) <= 1.5, (name, result["accuracy"])
