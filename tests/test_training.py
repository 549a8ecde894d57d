"""Resumable meta-training, preset folders and evaluation, on synthetic episodes."""

import hashlib
import json
import os
import re
import sys
import warnings

import h5py
import keras
import numpy as np
import pytest
from conftest import random_episode, random_sampler
from PIL import Image

import zoo
from training import checkpoints, evaluate, learning_curve, train
from zoo.presets import CONFIG_FILE, METADATA_FILE, WEIGHTS_FILE

SPE = 2  # steps per epoch
SIZE = 8


def tiny_recipe(algorithm="PrototypicalNetwork", tasks_per_batch=None):
    """A recipe with the keys of `training.recipes.RECIPES`, for tiny 5-way models."""
    if algorithm == "PrototypicalNetwork":
        model = {"filters": 8, "blocks": 2, "image_size": SIZE}
    else:
        model = {"ways": 5, "filters": 8, "blocks": 2, "image_size": SIZE, "eval_inner_steps": 2}
    return {
        "algorithm": algorithm,
        "model": model,
        "train": {"ways": 5, "shots": 1, "queries": 2, "tasks_per_batch": tasks_per_batch},
        "optimizer": {"learning_rate": 1e-2, "halve_every": 3},
        "steps": 3 * SPE,
        "presets": {"tiny_5way_1shot": (5, 1)},
        "paper": {(5, 1): 99.0},
        "transductive": algorithm == "MAML",
        "notes": "A test recipe.",
    }


def sampler_for(recipe):
    settings = recipe["train"]
    return random_sampler(
        settings["ways"], settings["shots"], settings["queries"], classes=12, seed=0
    )


class EpochRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def run(recipe, directory, steps, callbacks=()):
    return train.train(
        recipe,
        str(directory),
        steps=steps,
        steps_per_epoch=SPE,
        verbose=0,
        callbacks=callbacks,
        sampler=sampler_for(recipe),
    )


RECIPES = {
    "protonet": tiny_recipe("PrototypicalNetwork"),
    "maml_meta_batch": tiny_recipe("MAML", tasks_per_batch=2),
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_training_resumes_where_it_stopped(name, tmp_path):
    recipe = RECIPES[name]
    keras.utils.set_random_seed(0)
    learner, state = run(recipe, tmp_path / "run", steps=2 * SPE)
    assert state["epoch"] == 2 and state["steps"] == 2 * SPE
    assert checkpoints.read_state(str(tmp_path / "run"))["epoch"] == 2
    assert int(learner.optimizer.iterations) == 2 * SPE

    recorder = EpochRecorder()
    resumed, state = run(recipe, tmp_path / "run", steps=3 * SPE, callbacks=[recorder])
    assert recorder.epochs == [2]  # one more epoch, not three from scratch
    assert state["epoch"] == 3 and state["steps"] == 3 * SPE
    assert checkpoints.read_state(str(tmp_path / "run"))["epoch"] == 3
    assert int(resumed.optimizer.iterations) == 3 * SPE
    assert state["seconds"] > 0

    # The run is watchable: one history over both runs, its learning curve, TensorBoard logs.
    directory = str(tmp_path / "run")
    history = learning_curve.read_history(directory)
    assert sorted(history) == [0, 1, 2]
    assert all({"loss", "accuracy"} <= set(values) for values in history.values())
    assert history[2]["loss"] == pytest.approx(state["logs"]["loss"], rel=1e-5)
    with Image.open(os.path.join(directory, learning_curve.CURVE_FILE)) as curve:
        assert curve.format == "PNG" and curve.width > curve.height  # loss, accuracy panels
    events = os.listdir(os.path.join(directory, learning_curve.TENSORBOARD_FOLDER, "train"))
    assert any(name.startswith("events.out.tfevents") for name in events)

    # Resuming gives what one uninterrupted run gives: same weights, optimizer state, episodes.
    keras.utils.set_random_seed(0)
    straight, _ = run(recipe, tmp_path / "straight", steps=3 * SPE)
    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(resumed.optimizer.variables, straight.optimizer.variables, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)

    # A finished run asked for no more steps does nothing.
    again, state = run(recipe, tmp_path / "run", steps=3 * SPE)
    assert state["epoch"] == 3 and int(again.optimizer.iterations) == 3 * SPE


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    recipe = tiny_recipe()
    keras.utils.set_random_seed(0)
    learner, state = run(recipe, tmp_path_factory.mktemp("trained"), steps=SPE)
    return recipe, learner, state


def test_write_preset_writes_a_loadable_verified_folder(trained, tmp_path):
    recipe, learner, state = trained
    metadata = train.preset_metadata(recipe, "tiny_5way_1shot", state, {"accuracy": 50.0})
    folder = str(tmp_path / "presets" / "tiny_5way_1shot")
    assert train.write_preset(learner, folder, metadata) == folder
    assert sorted(os.listdir(folder)) == sorted([CONFIG_FILE, METADATA_FILE, WEIGHTS_FILE])
    assert os.listdir(os.path.dirname(folder)) == ["tiny_5way_1shot"]  # no staging left
    with open(os.path.join(folder, METADATA_FILE)) as file:
        written = json.load(file)
    with open(os.path.join(folder, WEIGHTS_FILE), "rb") as file:
        assert written["weights_sha256"] == hashlib.sha256(file.read()).hexdigest()
    assert (written["ways"], written["shots"], written["train_steps"]) == (5, 1, SPE)
    assert written["accuracy"] == 50.0
    assert zoo.preset_metadata(folder) == written
    # The model's weights only: the trained learner is compiled, but Adam's slots stay out.
    assert learner.optimizer.variables
    with h5py.File(os.path.join(folder, WEIGHTS_FILE)) as file:
        names = []
        file.visit(names.append)
        arrays = [name for name in names if isinstance(file[name], h5py.Dataset)]
    assert not [name for name in names if "optimizer" in name]
    assert len(arrays) == len(learner.weights)

    with open(os.path.join(folder, CONFIG_FILE)) as file:
        assert not json.load(file).get("compile_config")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. Keras' "Skipping variable loading for optimizer"
        loaded = zoo.load_preset(folder)
    assert type(loaded) is type(learner)
    assert loaded.preset_name == "tiny_5way_1shot"
    episode, _ = random_episode(ways=5, shots=1, queries=2, seed=4)
    np.testing.assert_allclose(loaded(episode), learner(episode), rtol=1e-6, atol=1e-6)

    # Writing again replaces the folder as a whole.
    train.write_preset(learner, folder, dict(metadata, accuracy=60.0))
    assert zoo.preset_metadata(folder)["accuracy"] == 60.0
    assert os.listdir(os.path.dirname(folder)) == ["tiny_5way_1shot"]


@pytest.mark.parametrize("episodes, tasks_per_batch", [(5, 2), (4, 10)])
def test_evaluate_reports_the_requested_episodes(trained, episodes, tasks_per_batch):
    _, learner, _ = trained
    sampler = random_sampler(ways=5, shots=1, queries=2, classes=12, seed=9)
    result = evaluate.evaluate(
        learner, sampler, episodes=episodes, tasks_per_batch=tasks_per_batch, verbose=0
    )
    assert result["episodes"] == episodes == len(result["accuracies"])
    # Each accuracy is that of the learner on episode i of the sampler.
    for index, accuracy in enumerate(result["accuracies"]):
        episode, labels = sampler.episode(index)
        predicted = np.argmax(np.asarray(learner(episode)), axis=-1)
        assert accuracy == pytest.approx(np.mean(predicted == labels.numpy()))
    mean, ci95 = evaluate.confidence_interval(result["accuracies"])
    assert result["accuracy"] == pytest.approx(100 * np.mean(result["accuracies"]))
    assert (result["accuracy"], result["ci95"]) == (mean, ci95)
    assert 0.0 <= result["accuracy"] <= 100.0 and result["ci95"] >= 0.0


def test_evaluate_progress_bar_shows_the_running_accuracy(trained, capsys, monkeypatch):
    """Each update of the bar shows the accuracy so far, not an average of past updates."""
    _, learner, _ = trained
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # the bar redraws on updates,

    class EveryUpdate(keras.utils.Progbar):  # all of them (not at most every 0.05 s)
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **dict(kwargs, interval=0.0))

    monkeypatch.setattr(keras.utils, "Progbar", EveryUpdate)
    sampler = random_sampler(ways=5, shots=1, queries=2, classes=12, seed=9)
    result = evaluate.evaluate(learner, sampler, episodes=8, verbose=1)
    shown = [float(x) for x in re.findall(r"accuracy: ([0-9.e+-]+)", capsys.readouterr().out)]
    accuracies = 100 * np.asarray(result["accuracies"])
    running = [0.0] + [accuracies[:n].mean() for n in range(2, len(accuracies) + 1)]
    assert len(set(np.round(running, 4))) > 1 and len(shown) > 2
    for value in shown:
        assert np.isclose(running, value, atol=1e-3).any(), (value, running)
    assert shown[-1] == pytest.approx(result["accuracy"], abs=1e-3)


def test_confidence_interval():
    mean, ci95 = evaluate.confidence_interval([1.0, 0.0, 1.0, 1.0])
    assert mean == pytest.approx(75.0)
    assert ci95 == pytest.approx(1.96 * 50.0 / 2.0)
    with pytest.raises(ValueError, match="at least two episodes"):
        evaluate.confidence_interval([1.0])


def test_meets_paper_is_none_where_the_paper_has_no_number():
    assert evaluate.meets_paper(98.8, 98.8) is True
    assert evaluate.meets_paper(98.79, 98.8) is False
    assert evaluate.meets_paper(50.0, None) is None


def run_from(recipe, directory, origin):
    """Trains `recipe` for one epoch in `directory`, started from the preset folder `origin`."""
    return train.train(
        recipe, str(directory), steps=SPE, init_from=origin, sampler=sampler_for(recipe), verbose=0
    )


def test_a_run_started_from_a_preset_records_it_in_the_presets_it_writes(trained, tmp_path):
    recipe, learner, state = trained
    start = train.preset_metadata(recipe, "tiny_5way_1shot", state)
    origin = train.write_preset(learner, str(tmp_path / "origin"), start)
    run_dir = tmp_path / "run"
    tuned, tuned_state = run_from(recipe, run_dir, origin)
    with open(os.path.join(origin, METADATA_FILE)) as file:
        written = json.load(file)
    expected = {
        "preset": "tiny_5way_1shot",
        "train_steps": SPE,
        "train_seconds": start["train_seconds"],
        "weights_sha256": written["weights_sha256"],
        "recipe": written["recipe"],
    }
    assert tuned_state["init_from"] == expected
    assert checkpoints.read_state(str(run_dir))["init_from"] == expected
    metadata = train.preset_metadata(recipe, "tiny_5way_1shot", tuned_state)
    assert metadata["init_from"] == expected and metadata["train_steps"] == SPE

    # A run started from that run's preset records the whole lineage.
    second = train.write_preset(tuned, str(tmp_path / "second"), metadata)
    _, third_state = run_from(recipe, tmp_path / "run3", second)
    assert third_state["init_from"]["init_from"] == expected


def maml_of(ways, blocks=2):
    learner = zoo.MAML(ways=ways, filters=8, blocks=blocks, image_size=SIZE)
    learner.build_for_episode(ways, 1)
    return learner


def test_a_warm_start_copies_every_weight_a_network_of_other_ways_shares():
    source, learner = maml_of(5), maml_of(3)
    initial = [weight.numpy() for weight in learner.weights]
    fresh = train.copy_matching_weights(learner, source)
    assert len(fresh) == 2  # the output layer's kernel and bias: one value per way
    for target, weight, before in zip(learner.weights, source.weights, initial, strict=True):
        if target.path in fresh:
            assert target.shape[-1] == 3 and weight.shape[-1] == 5
            np.testing.assert_array_equal(target.numpy(), before)
        else:
            np.testing.assert_array_equal(target.numpy(), weight.numpy())
    for other in (maml_of(3, blocks=3), zoo.PrototypicalNetwork(filters=8, blocks=2)):
        with pytest.raises(ValueError, match="differ in more than their shapes"):
            train.copy_matching_weights(learner, other)


def test_a_warm_started_run_records_the_weights_it_did_not_copy(tmp_path):
    five = tiny_recipe("MAML")
    keras.utils.set_random_seed(0)
    learner, state = run(five, tmp_path / "five", steps=SPE)
    metadata = train.preset_metadata(five, "tiny_5way_1shot", state)
    origin = train.write_preset(learner, str(tmp_path / "origin"), metadata)
    three = dict(
        five,
        model=dict(five["model"], ways=3),
        train=dict(five["train"], ways=3),
        presets={"tiny_3way_1shot": (3, 1)},
        paper={(3, 1): None},
        warm_start=True,
    )
    _, three_state = run_from(three, tmp_path / "three", origin)
    fresh = three_state["init_from"]["fresh_weights"]
    assert len(fresh) == 2 and three_state["init_from"]["preset"] == "tiny_5way_1shot"
    # Without warm_start, a network of other ways cannot start from it.
    with pytest.raises(ValueError):
        run_from(dict(three, warm_start=False), tmp_path / "cold", origin)


class ComputeDtypes(keras.callbacks.Callback):
    """Records the compute dtypes of the learner's backbone layers when training starts."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_begin(self, logs=None):
        layers = self.model.backbone._flatten_layers(include_self=False)
        self.seen.append({layer.compute_dtype for layer in layers if layer.weights})


def test_a_recipe_trains_under_its_dtype_policy_and_hands_back_float32(tmp_path):
    recipe = dict(tiny_recipe(), dtype_policy="mixed_bfloat16")
    policies = ComputeDtypes()
    learner, state = run(recipe, tmp_path / "run", steps=SPE, callbacks=[policies])
    resumed, state = run(recipe, tmp_path / "run", steps=2 * SPE, callbacks=[policies])
    assert policies.seen == [{"bfloat16"}, {"bfloat16"}]  # trained, and resumed, mixed
    assert keras.config.dtype_policy().name == "float32"  # restored after each run
    assert np.isfinite(state["logs"]["loss"]) and state["steps"] == 2 * SPE
    layers = [x for x in resumed.backbone._flatten_layers(include_self=False) if x.weights]
    assert {x.compute_dtype for x in layers} == {"float32"}
    assert int(resumed.optimizer.iterations) == 0  # a copy: the optimizer is the checkpoint's

    # The presets compute in float32 too, say how they were trained, and answer as the copy.
    metadata = train.preset_metadata(recipe, "tiny_5way_1shot", state)
    assert metadata["train_dtype_policy"] == "mixed_bfloat16"
    folder = train.write_preset(resumed, str(tmp_path / "preset"), metadata)
    preset = zoo.load_preset(folder)
    episode, _ = random_episode(5, 1, 2, SIZE, seed=3)
    np.testing.assert_allclose(preset(episode), resumed(episode), rtol=1e-5, atol=1e-5)
    assert "train_dtype_policy" not in train.preset_metadata(
        tiny_recipe(), "tiny_5way_1shot", state
    )


def test_an_unknown_dtype_policy_fails_before_anything_is_written(tmp_path):
    recipe = dict(tiny_recipe(), dtype_policy="float7")
    with pytest.raises(ValueError, match="float7"):
        run(recipe, tmp_path / "run", steps=SPE)
    assert keras.config.dtype_policy().name == "float32"
    assert not os.path.exists(tmp_path / "run" / checkpoints.MODEL_FILE)
