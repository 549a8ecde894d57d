"""The `metazoo` command, run in-process through `main(argv)` on tiny presets."""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from metazoo import cli
from metazoo.common import CommandError
from training import demo_data, recipes
from training.train import preset_metadata, write_preset

SUBCOMMANDS = ("list", "train", "eval", "adapt", "export", "demo")


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    """Folders of a tiny 5-way ProtoNet and a tiny 5-way MAML preset, 28x28 inputs."""
    folder = tmp_path_factory.mktemp("presets")
    state = {"steps": 0, "seconds": 0.0}
    keras.utils.set_random_seed(0)
    protonet = zoo.PrototypicalNetwork(filters=8, blocks=2).build_for_episode(5, 1)
    maml = zoo.MAML(ways=5, filters=8, blocks=2, eval_inner_steps=2).build_for_episode(5, 1)
    return {
        "protonet": write_preset(
            protonet,
            str(folder / "tiny_protonet"),
            preset_metadata("protonet_omniglot_1shot", "protonet_omniglot_5way_1shot", state),
        ),
        "maml": write_preset(
            maml,
            str(folder / "tiny_maml"),
            preset_metadata("maml_omniglot_5way_1shot", "maml_omniglot_5way_1shot", state),
        ),
    }


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    """A 5-way 1-shot demo task with 2 queries per class, as support and query folders."""
    folder = tmp_path_factory.mktemp("task")
    support, query = demo_data.write_task_folders(
        demo_data.demo_task(ways=5, shots=1, queries=2, seed=0), str(folder)
    )
    return {"support": support, "query": query, "folder": str(folder)}


def run(capsys, *argv):
    """Runs `metazoo argv`; returns `(exit status, stdout, stderr)`."""
    try:
        status = cli.main([str(arg) for arg in argv])
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_user_error(result, *fragments):
    status, _, err = result
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help_with_an_example(capsys, command):
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    assert "examples:" in out and f"metazoo {command}" in out


def test_python_dash_m_metazoo_shows_help():
    result = subprocess.run(
        [sys.executable, "-m", "metazoo", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    for command in SUBCOMMANDS:
        assert command in result.stdout


def test_an_unknown_preset_is_one_line_without_traceback_in_a_real_process():
    result = subprocess.run(
        [sys.executable, "-m", "metazoo", "eval", "no_such_preset"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[-1]], (
        result.stderr
    )
    assert "unknown preset 'no_such_preset'" in result.stderr
    assert "Traceback" not in result.stderr


def test_list_shows_every_shipped_preset_and_extra_folders(capsys, presets, tmp_path):
    measured = shutil.copytree(presets["protonet"], tmp_path / "measured")
    metadata_file = measured / "metadata.json"
    metadata = json.loads(metadata_file.read_text())
    metadata.update(accuracy=97.25, ci95=0.31, test_episodes=1000)
    metadata_file.write_text(json.dumps(metadata))
    status, out, _ = run(capsys, "list", os.path.dirname(presets["maml"]), tmp_path)
    assert status == 0
    lines = out.strip().splitlines()
    for name in zoo.list_presets():
        (line,) = [line for line in lines if line.split()[0] == name]
        assert "paper" in line
        per_instance = "1st " in line and "test episodes" in line  # a sequence preset
        assert "not trained" in line or "±" in line or "not measured" in line or per_instance
    (line,) = [line for line in lines if line.startswith(str(measured))]
    assert "97.25 ± 0.31%" in line and "1000 test episodes" in line and "paper 98.8%" in line
    (line,) = [line for line in lines if line.startswith(presets["maml"])]
    assert "not measured" in line and "paper 98.7%" in line


def test_adapt_prints_classes_and_predictions_and_saves_the_classifier(
    capsys, presets, task, tmp_path
):
    model_file = tmp_path / "out" / "task.keras"
    status, out, err = run(
        capsys,
        "adapt",
        presets["protonet"],
        "--support",
        task["support"],
        "--query",
        task["query"],
        "--out",
        model_file,
    )
    assert status == 0, err
    names = sorted(os.listdir(task["support"]))
    for label, name in enumerate(names):
        assert f"{label}: {name} (1 image)" in out
    predictions = [line for line in out.splitlines() if " p=" in line]
    assert len(predictions) == 10
    assert all(line.split()[1] in names for line in predictions)
    assert "accuracy on 10 labelled queries" in out
    classifier = keras.saving.load_model(model_file)
    names_task = demo_data.demo_task(ways=5, shots=1, queries=2, seed=0)
    probabilities = np.asarray(classifier(names_task["query_images"].astype("float32")))
    assert probabilities.shape == (10, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_adapt_classifies_single_files(capsys, presets, task):
    name = sorted(os.listdir(task["query"]))[0]
    file = os.path.join(
        task["query"], name, sorted(os.listdir(os.path.join(task["query"], name)))[0]
    )
    status, out, err = run(
        capsys, "adapt", presets["maml"], "--support", task["support"], "--query", file
    )
    assert status == 0, err
    (line,) = [line for line in out.splitlines() if " p=" in line]
    assert line.startswith(file) and "accuracy" not in out


def test_export_writes_verified_onnx_and_saved_model(capsys, presets, task, tmp_path):
    onnx_file, saved_model = tmp_path / "new" / "task.onnx", tmp_path / "task_savedmodel"
    status, out, err = run(
        capsys,
        "export",
        presets["protonet"],
        "--support",
        task["support"],
        "--onnx",
        onnx_file,
        "--saved-model",
        saved_model,
    )
    assert status == 0, err
    assert onnx_file.is_file() and (saved_model / "saved_model.pb").is_file()
    assert "max |p_onnx - p_keras| =" in out and "max |p_savedmodel - p_keras| =" in out
    names = sorted(os.listdir(task["support"]))
    assert (tmp_path / "new" / "task.labels.txt").read_text().split() == names
    assert (tmp_path / "task_savedmodel.labels.txt").read_text().split() == names


def test_demo_runs_the_presets_it_finds_and_skips_missing_ones(capsys, presets, tmp_path):
    missing = tmp_path / "not_there"
    status, out, err = run(
        capsys,
        "demo",
        "--preset",
        presets["protonet"],
        "--preset",
        presets["maml"],
        "--preset",
        missing,
        "--shots",
        "1",
        "--out",
        tmp_path / "demo",
    )
    assert status == 0, err
    assert f"skipping {missing}: preset folder {missing} does not exist" in out
    assert "ALL CHECKS PASSED" in out
    for name in ("protonet_omniglot_5way_1shot", "maml_omniglot_5way_1shot"):
        stem = tmp_path / "demo" / f"{name}_adapted_5way_1shot"
        assert stem.with_suffix(".onnx").is_file()
        assert (tmp_path / "demo" / f"{stem.name}_savedmodel" / "saved_model.pb").is_file()
        (row,) = [line for line in out.splitlines() if line.startswith(name) and "%" in line]
        assert row.split()[1:3] == ["5-way", "1-shot"]
    assert os.path.isdir(tmp_path / "demo" / "task_5way_1shot" / "support")


def test_demo_without_exports_does_both_task_sizes(capsys, presets, tmp_path):
    status, out, err = run(
        capsys, "demo", "--preset", presets["protonet"], "--no-export", "--out", tmp_path
    )
    assert status == 0, err
    assert "5-way 1-shot" in out and "5-way 5-shot" in out
    assert not list(tmp_path.glob("*.onnx"))


def test_demo_with_no_usable_preset_fails_clearly(capsys, tmp_path):
    result = run(capsys, "demo", "--preset", tmp_path / "absent", "--no-export")
    assert_user_error(result, "none of the presets could be loaded")


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["eval", "no_such_preset"], ["unknown preset 'no_such_preset'", "shipped presets"]),
        (["eval", "./no/such/folder"], ["preset folder ./no/such/folder does not exist"]),
        (["adapt", "{protonet}", "--support", "{tmp}/absent"], ["support folder", "not exist"]),
        (["adapt", "{protonet}", "--support", "{empty}"], ["has no class subfolders"]),
        (["adapt", "{protonet}", "--support", "{support}", "--out", "x.h5"], [".keras"]),
        (["adapt", "{protonet}", "--support", "{support}", "--query", "{tmp}/q.png"], ["query"]),
        (["adapt", "{maml}", "--support", "{three}"], ["5-way tasks, not 3-way"]),
        (["export", "{protonet}", "--support", "{support}"], ["--onnx PATH, --saved-model PATH"]),
        (["eval", "{protonet}", "--data", "{tmp}"], ["holds no images"]),
        (["eval", "{protonet}", "--data", "{tmp}/absent"], ["does not exist"]),
        (["eval", "{maml}", "--ways", "20", "--data", "{tmp}"], ["5-way tasks, not 20-way"]),
        (["eval", "{protonet}", "--ways", "20", "--write"], ["--write records"]),
        (["eval", "{protonet}", "--shots", "10", "--queries", "15"], ["at most the 20"]),
        (["train", "no_such_recipe", "--out", "{tmp}"], ["unknown recipe", "protonet_omniglot"]),
        (["train", "protonet_omniglot", "--out", "{tmp}", "--data", "{tmp}"], ["holds no images"]),
    ],
)
def test_user_errors_are_one_line_with_exit_status_2(
    capsys, presets, task, tmp_path, argv, fragments
):
    three, empty = tmp_path / "three", tmp_path / "empty"
    empty.mkdir()
    for name in ("a", "b", "c"):
        shutil.copytree(
            os.path.join(task["support"], sorted(os.listdir(task["support"]))[0]), three / name
        )
    values = {
        "protonet": presets["protonet"],
        "maml": presets["maml"],
        "support": task["support"],
        "three": three,
        "empty": empty,
        "tmp": tmp_path,
    }
    argv = [arg.format(**values) for arg in argv]
    assert_user_error(run(capsys, *argv), *fragments)


def test_missing_shipped_preset_says_how_to_make_it(capsys, monkeypatch, tmp_path):
    from zoo import presets as presets_module

    monkeypatch.setattr(presets_module, "preset_directory", lambda name: str(tmp_path / name))
    os.makedirs(tmp_path / "maml_omniglot_5way_1shot")
    result = run(capsys, "eval", "maml_omniglot_5way_1shot")
    assert_user_error(result, "not trained yet", "metazoo train maml_omniglot_5way_1shot")


@pytest.mark.omniglot
def test_eval_prints_accuracy_and_writes_metadata_keeping_the_sha(
    capsys, presets, tmp_path, omniglot_path
):
    preset = shutil.copytree(presets["protonet"], tmp_path / "preset")
    status, out, err = run(
        capsys, "eval", preset, "--episodes", 3, "--queries", 2, "--seed", 4,
        "--data", omniglot_path, "--write",
    )  # fmt: skip
    assert status == 0, err
    assert "5-way 1-shot, Omniglot test split, 3 episodes of 2 queries per class (seed 4)" in out
    assert "±" in out and "(paper 98.8%)" in out
    metadata = json.loads((preset / "metadata.json").read_text())
    assert metadata["test_episodes"] == 3 and metadata["test_queries_per_class"] == 2
    assert metadata["eval_seed"] == 4 and 0 <= metadata["accuracy"] <= 100
    assert metadata["ci95"] >= 0
    assert metadata["meets_paper"] == (metadata["accuracy"] >= 98.8)
    zoo.load_preset(str(preset))  # the weights' sha256 still matches
    status, out, err = run(capsys, "eval", preset, "--episodes", 2, "--data", omniglot_path)
    assert status == 0, err
    assert "2 episodes of 2 queries per class" in out  # the recorded evaluation's, by default
    status, out, err = run(
        capsys, "eval", preset, "--episodes", 2, "--shots", 2, "--data", omniglot_path
    )
    assert status == 0, err
    assert "5-way 2-shot" in out and "2 episodes of 15 queries per class" in out  # not its own
    status, out, err = run(
        capsys, "eval", preset, "--episodes", 2, "--queries", 1, "--ways", 20,
        "--data", omniglot_path,
    )  # fmt: skip
    assert status == 0, err
    assert "20-way 1-shot" in out and "(paper 96.0%)" in out
    status, out, err = run(
        capsys, "eval", preset, "--episodes", 3, "--queries", 2, "--seed", 4,
        "--data", omniglot_path, "--write", "--transductive",
    )  # fmt: skip
    assert status == 0, err
    assert "[transductive]" in out
    recorded = json.loads((preset / "metadata.json").read_text())
    assert recorded["accuracy"] == metadata["accuracy"]  # the preset's own number stays
    assert 0 <= recorded["accuracy_transductive"] <= 100
    assert recorded["test_episodes_transductive"] == 3


def test_train_tests_each_preset_with_its_recipes_queries(omniglot_path):
    """Finn et al.'s MAML protocol tests as many queries per class as shots, and the 20-way
    Meta Networks presets 5 (`test_queries` in a recipe); `--queries` overrides both."""
    from metazoo.commands.train import evaluation_queries

    args = argparse.Namespace(queries=None, eval_episodes=1000)
    fomaml = recipes.RECIPES["fomaml_omniglot_20way_continued"]
    assert evaluation_queries(args, fomaml, omniglot_path) == {
        "fomaml_omniglot_20way_1shot": 1,
        "fomaml_omniglot_20way_5shot": 5,
    }
    metanet = recipes.RECIPES["metanet_omniglot_20way_continued"]
    assert set(evaluation_queries(args, metanet, omniglot_path).values()) == {5}
    args.queries = 3
    assert set(evaluation_queries(args, fomaml, omniglot_path).values()) == {3}
    args.queries = 16  # the 1-shot preset's 17 images fit in a class's 20; the 5-shot's 21 do not
    with pytest.raises(CommandError, match="fomaml_omniglot_20way_5shot's 5 shots"):
        evaluation_queries(args, fomaml, omniglot_path)


TINY_RECIPE = {
    "algorithm": "PrototypicalNetwork",
    "model": {"filters": 8, "blocks": 2},
    "train": {"ways": 5, "shots": 1, "queries": 2, "tasks_per_batch": None},
    "optimizer": {"learning_rate": 1e-3, "halve_every": None},
    "steps": 4,
    "presets": {"tiny_5way_1shot": (5, 1), "tiny_20way_1shot": (20, 1)},
    "paper": {(5, 1): 98.8, (20, 1): 96.0},
    "transductive": False,
    "notes": "a tiny recipe for tests",
}


@pytest.mark.omniglot
def test_train_writes_evaluated_presets_and_resumes(capsys, monkeypatch, tmp_path, omniglot_path):
    monkeypatch.setitem(recipes.RECIPES, "tiny", TINY_RECIPE)
    out_dir = tmp_path / "presets"
    argv = ["train", "tiny", "--out", out_dir, "--data", omniglot_path, "--queries", 2]
    status, out, err = run(capsys, *argv, "--steps", 2, "--eval-episodes", 2)
    assert status == 0, err
    assert f"checkpoints in {tmp_path / '.checkpoints' / 'tiny'}" in out
    for name, ways in (("tiny_5way_1shot", 5), ("tiny_20way_1shot", 20)):
        metadata = json.loads((out_dir / name / "metadata.json").read_text())
        assert metadata["ways"] == ways and metadata["train_steps"] == 2
        assert metadata["test_episodes"] == 2 and metadata["test_queries_per_class"] == 2
        assert metadata["eval_seed"] == 0 and {"accuracy", "ci95"} <= set(metadata)
        zoo.load_preset(str(out_dir / name))
    status, out, err = run(capsys, *argv, "--steps", 4, "--eval-episodes", 0)
    assert status == 0, err
    assert "resuming tiny" in out and "2 of 4 steps done" in out
    metadata = json.loads((out_dir / "tiny_5way_1shot" / "metadata.json").read_text())
    assert metadata["train_steps"] == 4 and "accuracy" not in metadata
    result = run(capsys, *argv, "--steps", 6, "--steps-per-epoch", 3)
    assert_user_error(result, "--steps-per-epoch 2")
    # Fewer steps than one epoch would round down to none: refused, not trained to the recipe's.
    assert_user_error(run(capsys, *argv, "--steps", 1), "less than one epoch of 2 steps")


def test_a_further_stage_whose_starting_preset_is_not_shipped_says_what_to_do(
    capsys, monkeypatch, tmp_path, omniglot_path
):
    later = dict(TINY_RECIPE, init_from="tiny_5way_1shot")  # written by "tiny", not shipped
    monkeypatch.setitem(recipes.RECIPES, "tiny", TINY_RECIPE)
    monkeypatch.setitem(recipes.RECIPES, "tiny_later", later)
    checkpoint = tmp_path / "checkpoint"
    argv = ["train", "tiny_later", "--out", tmp_path / "out", "--checkpoint", checkpoint]
    result = run(capsys, *argv, "--data", omniglot_path, "--steps", 2)
    assert_user_error(result, "starts from the preset tiny_5way_1shot (written by tiny")
    assert "--init-from" in result[2]
    assert not checkpoint.exists() and not (tmp_path / "out").exists()


def test_the_readme_results_table_is_generated_from_the_metadata(capsys):
    status, out, _ = run(capsys, "list", "--markdown")
    assert status == 0
    table = out.strip()
    assert table.count("\n") >= 1 + len(zoo.list_presets())
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert table in readme, "README's results table differs from `metazoo list --markdown`"


def test_ci_runs_the_readme_test_command_as_written():
    root = pathlib.Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text().splitlines()
    commands = [line.split("#")[0].strip() for line in readme if line.startswith("pip install")]
    assert commands == ['pip install ".[test]" && pytest']
    ci = [line.strip() for line in (root / ".ci" / "run").read_text().splitlines()]
    assert commands[0] in ci
