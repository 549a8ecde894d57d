"""Santoro et al.'s sequence protocol through `metazoo train | eval | list`: the MANN recipes
`mann_omniglot_5class` and `mann_omniglot_15class`, and a tiny recipe of the same kind
meta-trained, resumed, evaluated per instance and listed on real Omniglot."""

import json

import keras
import numpy as np
import pytest
from test_cli import assert_user_error, run

import zoo
from training import recipes, sequence_recipes, train

TINY = "tiny_sequences"
TINY_RECIPE = {
    "algorithm": "MANN",
    "protocol": "sequences",
    "model": {
        "ways": 3,
        "controller_units": 16,
        "memory_rows": 12,
        "memory_width": 6,
        "read_heads": 2,
        "image_size": 20,  # the recipes' size (cached with the other MANN tests)
    },
    "train": {"classes": 3, "instances": 4, "tasks_per_batch": 2},
    "optimizer": {"learning_rate": 5e-3, "halve_every": 1},
    "steps": 4,
    "presets": {"tiny_3class": (3, 4)},
    "paper": {(3, 4): {1: 30.0, 2: 50.0}},
    "paper_note": "made up for the test",
    "transductive": False,
    "notes": "a tiny sequence recipe for tests",
}


def test_the_sequence_recipes_follow_the_paper_and_issue_15():
    rows = {
        "mann_omniglot_5class": (5, {1: 36.4, 2: 82.8, 3: 91.0, 5: 94.9, 10: 98.1}),
        "mann_omniglot_15class": (15, {1: 0.1, 2: 62.6, 3: 79.3, 5: 88.7, 10: 95.3}),
    }
    for name, (classes, paper) in rows.items():
        recipe = recipes.get_recipe(name)
        assert sequence_recipes.is_sequence_recipe(recipe)
        assert recipe["train"] == {"classes": classes, "instances": 10, "tasks_per_batch": 16}
        learner = recipes.build_learner(recipe)
        assert isinstance(learner, zoo.MANN) and learner.fixed_ways == classes
        assert learner.image_size == 20 and learner.cell.read_heads == 4
        optimizer = recipes.build_optimizer(recipe)
        assert float(optimizer.learning_rate) == pytest.approx(5e-3)
        assert list(recipe["presets"]) == [name] and "5e-3" in recipe["notes"]
        assert sequence_recipes.paper_row(recipe, name) == paper

        state = {"steps": 20, "seconds": 3.0}
        metadata = train.preset_metadata(name, name, state)
        assert metadata["protocol"] == sequence_recipes.PROTOCOL
        assert (metadata["classes"], metadata["instances"]) == (classes, 10)
        assert (metadata["ways"], metadata["shots"]) == (classes, 1)
        assert metadata["image_size"] == 20 and metadata["augmentation"] == "none"
        assert metadata["paper_accuracy"] is None and "not confirmed" in metadata["paper_note"]
        assert metadata["paper_instance_accuracy"] == {str(k): v for k, v in paper.items()}
        assert metadata["train_steps"] == 20 and "meets_paper" not in metadata
        json.dumps(metadata)  # JSON holds it whole


def test_the_benchmarks_time_the_sequence_recipes_apart():
    """Out of the contract's episodic rows, timed as sequence training steps of their own."""
    from benchmarks import algorithms

    chosen = algorithms.omniglot_recipes()
    assert "mann_omniglot" in chosen
    assert not {"mann_omniglot_5class", "mann_omniglot_15class"} & set(chosen)
    sequences = algorithms.sequence_recipes()
    assert {"mann_omniglot_5class", "mann_omniglot_15class"} <= set(sequences)
    assert all(recipe["protocol"] == "sequences" for recipe in sequences.values())
    rows = [row for row in algorithms.settings() if row.algorithm == "mann_sequences"]
    # One row per model and sequences: a further stage (same model, same sequences) or an
    # augmentation of the images (mann_omniglot_5class_perturbed) adds none, another model (the
    # add-vector write, the string labels) one.
    assert [row.name for row in rows] == [
        "mann_omniglot_5class",
        "mann_omniglot_15class",
        "mann_omniglot_15class_strings",
        "mann_omniglot_5class_add",
    ]
    assert all(not row.presets for row in rows)  # sequences: nothing to adapt() to


def test_meets_paper_needs_every_instance_the_paper_reports():
    result = {
        "accuracy": [40.0, 82.8, 90.0, 95.0],
        "ci95": [1.23456, 1.0, 1.0, 0.5],
        "episodes": 7,
        "classes": 5,
        "instances": 4,
    }
    fields = sequence_recipes.evaluation_fields(result, {1: 36.4, 2: 82.8}, seed=3)
    assert fields["meets_paper"] is True  # 82.8 >= 82.8
    assert fields["instance_accuracy"]["1"] == {"accuracy": 40.0, "ci95": 1.235}
    assert list(fields["instance_accuracy"]) == ["1", "2", "3", "4"]
    assert fields["test_episodes"] == 7 and fields["eval_seed"] == 3
    assert sequence_recipes.evaluation_fields(result, {3: 91.0}, 0)["meets_paper"] is False
    # instances beyond the sequences' are not judged; no paper row: no verdict
    assert sequence_recipes.evaluation_fields(result, {2: 80.0, 10: 99.0}, 0)["meets_paper"]
    assert sequence_recipes.evaluation_fields(result, {}, 0)["meets_paper"] is None
    recorded = sequence_recipes.metadata_result({**fields, "classes": 5})
    assert recorded["accuracy"] == result["accuracy"] and recorded["instances"] == 4


@pytest.fixture(scope="module")
def trained(tmp_path_factory, omniglot_path):
    """The tiny sequence recipe trained 2 steps, then resumed to 4, through `metazoo train`;
    and the same 4 steps uninterrupted."""
    folder = tmp_path_factory.mktemp("sequences")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(recipes.RECIPES, TINY, TINY_RECIPE)
        outputs = {}

        def train_command(out, steps, *extra):
            argv = [
                "train", TINY, "--out", folder / out, "--checkpoint", folder / f"{out}_ckpt",
                "--data", omniglot_path, "--steps", steps, "--steps-per-epoch", 1, *extra,
            ]  # fmt: skip
            from metazoo import cli

            keras.utils.set_random_seed(0)  # the same initial weights for a fresh run
            status = cli.main([str(arg) for arg in argv])
            return status

        outputs["first"] = train_command("resumed", 2, "--eval-episodes", 2, "--seed", 1)
        first = json.loads((folder / "resumed" / "tiny_3class" / "metadata.json").read_text())
        outputs["second"] = train_command("resumed", 4, "--eval-episodes", 0)
        outputs["whole"] = train_command("whole", 4, "--eval-episodes", 0)
        yield {"folder": folder, "first": first, "statuses": outputs}


@pytest.mark.omniglot
def test_train_writes_loadable_evaluated_presets_and_resumes(trained):
    folder = trained["folder"]
    assert trained["statuses"] == {"first": 0, "second": 0, "whole": 0}
    first = trained["first"]
    assert first["train_steps"] == 2 and first["recipe"] == TINY
    assert first["test_episodes"] == 2 and first["eval_seed"] == 1
    assert sorted(first["instance_accuracy"], key=int) == ["1", "2", "3", "4"]
    assert first["paper_instance_accuracy"] == {"1": 30.0, "2": 50.0}
    assert isinstance(first["meets_paper"], bool)
    for k in ("1", "2"):  # 3 classes: each episode's accuracy is 0, 1/3, 2/3 or 1
        value = first["instance_accuracy"][k]["accuracy"]
        assert np.isclose(value, np.arange(7) * 100 / 6, atol=1e-3).any(), value

    resumed = folder / "resumed" / "tiny_3class"
    metadata = json.loads((resumed / "metadata.json").read_text())
    assert metadata["train_steps"] == 4 and "instance_accuracy" not in metadata
    learner = zoo.load_preset(str(resumed))
    assert isinstance(learner, zoo.MANN) and learner.fixed_ways == 3
    whole = zoo.load_preset(str(folder / "whole" / "tiny_3class"))
    for a, b in zip(whole.get_weights(), learner.get_weights(), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    checkpoint = folder / "resumed_ckpt"
    state = json.loads((checkpoint / "state.json").read_text())
    assert state["epoch"] == 4 and state["recipe"] == TINY
    history = (checkpoint / "history.csv").read_text().splitlines()
    assert {"epoch", "accuracy", "loss"} <= set(history[0].split(",")) and len(history) == 5
    assert (checkpoint / "learning_curve.png").is_file()


@pytest.mark.omniglot
def test_eval_prints_the_table_writes_the_curve_and_records_it(
    capsys, trained, tmp_path, omniglot_path
):
    from PIL import Image

    from training.sequences import instance_accuracy, omniglot_sequences

    preset = trained["folder"] / "resumed" / "tiny_3class"
    figure = tmp_path / "curve.png"
    status, out, err = run(
        capsys, "eval", preset, "--episodes", 5, "--seed", 2, "--data", omniglot_path,
        "--figure", figure, "--write",
    )  # fmt: skip
    assert status == 0, err
    lines = out.splitlines()
    assert "tiny_3class: 3 classes x 4 instances, Omniglot test split, 5 sequences (seed 2)" in out
    assert "| | 1st | 2nd | 3rd | 4th |" in lines and "| paper | 30.0 | 50.0 |  |  |" in lines
    with Image.open(figure) as image:
        assert image.format == "PNG"

    learner = zoo.load_preset(str(preset))
    sampler = omniglot_sequences(omniglot_path, "test", 3, 4, seed=2, image_size=20)
    expected = instance_accuracy(learner, sampler, episodes=5)
    metadata = json.loads((preset / "metadata.json").read_text())
    assert metadata["test_episodes"] == 5 and metadata["eval_seed"] == 2
    got = [metadata["instance_accuracy"][str(k)]["accuracy"] for k in range(1, 5)]
    np.testing.assert_allclose(got, expected["accuracy"], atol=1e-3)
    meets = expected["accuracy"][0] >= 30.0 and expected["accuracy"][1] >= 50.0
    assert metadata["meets_paper"] is meets
    zoo.load_preset(str(preset))  # the weights' sha256 still matches

    status, out, err = run(capsys, "list", trained["folder"] / "resumed")
    assert status == 0, err
    row = next(line for line in out.splitlines() if "tiny_3class" in line)
    assert "3 x 4 seq" in row and "1st " in row and "paper 30.0 / 50.0 / - / - / -" in row
    status, out, err = run(capsys, "list", "--markdown", trained["folder"] / "resumed")
    assert status == 0, err
    table = out.strip().split("\n\n")[-1].splitlines()
    assert table[0].startswith("| preset | classes x instances | 1st | 2nd | 3rd | 5th | 10th |")
    first = expected["accuracy"][0]
    (row,) = [line for line in table if line.startswith("| `tiny_3class` |")]
    assert row.startswith(f"| `tiny_3class` | 3 x 4 | {first:.1f} ± ")
    assert "(paper 30.0)" in row and "4 steps of 2 sequences 3 x 4" in row


@pytest.mark.omniglot
def test_sequence_bad_input_is_one_line(capsys, trained, tmp_path, omniglot_path):
    preset = trained["folder"] / "resumed" / "tiny_3class"
    base = ["eval", preset, "--data", omniglot_path]
    assert_user_error(run(capsys, *base, "--shots", 5), "--shots")
    assert_user_error(run(capsys, *base, "--transductive"), "--transductive")
    assert_user_error(run(capsys, *base, "--episodes", 1), "--episodes")
    assert_user_error(run(capsys, *base, "--ways", 5), "3-way")
    images = tmp_path / "images" / "a"
    images.mkdir(parents=True)
    from PIL import Image

    Image.new("L", (8, 8)).save(images / "0.png")
    result = run(capsys, "eval", preset, "--data", tmp_path / "images")
    assert_user_error(result, "Omniglot")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(recipes.RECIPES, TINY, TINY_RECIPE)
        out = tmp_path / "out"
        result = run(capsys, "train", TINY, "--out", out, "--data", tmp_path / "images")
        assert_user_error(result, "Omniglot")
        checkpoint = trained["folder"] / "resumed_ckpt"
        argv = ["train", TINY, "--out", out, "--checkpoint", checkpoint, "--data", omniglot_path]
        assert_user_error(run(capsys, *argv, "--steps-per-epoch", 2), "--steps-per-epoch 1")
        patch.setitem(recipes.RECIPES, "other", TINY_RECIPE)
        argv[1] = "other"
        assert_user_error(run(capsys, *argv), f"recipe {TINY}")


def test_sequence_recipes_evaluate_without_queries(omniglot_path):
    """The 15 test queries per class of episode recipes do not apply to sequences: the
    shipped recipes' 10 instances plus 15 would exceed a class's 20 drawers and `metazoo train`
    refused to start them with the default evaluation."""
    import argparse

    from metazoo.commands.train import evaluation_queries
    from metazoo.common import CommandError

    for name in ("mann_omniglot_5class", "mann_omniglot_5class_add", "mann_omniglot_15class"):
        args = argparse.Namespace(queries=None, eval_episodes=1000)
        assert evaluation_queries(args, recipes.RECIPES[name], omniglot_path) is None
        args.queries = 3
        with pytest.raises(CommandError, match="no --queries"):
            evaluation_queries(args, recipes.RECIPES[name], omniglot_path)
    args = argparse.Namespace(queries=None, eval_episodes=1000)  # an episode recipe keeps 15
    assert evaluation_queries(args, recipes.RECIPES["protonet_omniglot"], omniglot_path) == {
        "protonet_omniglot_5way_5shot": 15,
        "protonet_omniglot_20way_5shot": 15,
    }
    args.queries = 16  # with 5 shots, more than the 20 drawers
    with pytest.raises(CommandError, match="--queries 16"):
        evaluation_queries(args, recipes.RECIPES["protonet_omniglot"], omniglot_path)


@pytest.mark.omniglot
def test_a_fresh_run_starts_from_a_preset_and_records_it(capsys, trained, tmp_path, omniglot_path):
    start = trained["folder"] / "whole" / "tiny_3class"
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(recipes.RECIPES, TINY, TINY_RECIPE)
        status, out, err = run(
            capsys, "train", TINY, "--out", tmp_path / "out", "--checkpoint", tmp_path / "ckpt",
            "--data", omniglot_path, "--steps", 1, "--eval-episodes", 0, "--init-from", start,
        )  # fmt: skip
    assert status == 0, err
    preset = tmp_path / "out" / "tiny_3class"
    metadata = json.loads((preset / "metadata.json").read_text())
    assert metadata["train_steps"] == 1
    assert metadata["init_from"]["preset"] == "tiny_3class"
    assert metadata["init_from"]["train_steps"] == 4
    # one Adam step moves each weight by at most the rate (5e-3) from the preset's
    moved = zoo.load_preset(str(preset)).get_weights()
    for a, b in zip(zoo.load_preset(str(start)).get_weights(), moved, strict=True):
        assert np.abs(a - b).max() <= 5e-3 * 1.001
