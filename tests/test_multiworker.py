"""Meta-training on two workers: `tf.distribute.MultiWorkerMirroredStrategy` from `TF_CONFIG`.

Two worker processes on 127.0.0.1 (CPU only) meta-train a tiny Prototypical Network (its
recipe has no task axis: one episode per worker per step) and a tiny MAML (meta-batches of 4
tasks, 2 per worker) through `training.train.train`, for 2 steps, then again to 3 steps,
resuming from the chief's checkpoint as a restarted cluster does. Both workers must end
with the same weights, equal to one process's update on the same episodes; only the chief
writes the run's files.
"""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_sampler
from contract_learners import tiny_maml, tiny_protonet

import zoo
from training import checkpoints, distributed, learning_curve, recipes, train

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "multiworker_worker.py")
WORKERS = 2
# Seconds per cluster run: a hung collective fails the test instead of hanging CI. A worker
# needs well under a minute of CPU; on a machine busy with a training run, raise the limit.
TIMEOUT = float(os.environ.get("METAZOO_MULTIWORKER_TIMEOUT", 900))
STEPS = (2, 3)
SAMPLER = {"ways": 3, "shots": 1, "queries": 2}
RECIPES = {
    "protonet": {
        "algorithm": "PrototypicalNetwork",
        "model": {"filters": 8, "blocks": 2, "image_size": 8},
        "train": {**SAMPLER, "tasks_per_batch": None},
        "optimizer": {"learning_rate": 1e-2},
        "steps": 3,
    },
    "maml": {
        "algorithm": "MAML",
        "model": {"ways": 3, "filters": 8, "blocks": 2, "image_size": 8},
        "train": {**SAMPLER, "tasks_per_batch": 4},
        "optimizer": {"learning_rate": 1e-2},
        "steps": 3,
    },
}
TINY = {"protonet": tiny_protonet, "maml": tiny_maml}
CHIEF_FILES = [
    checkpoints.MODEL_FILE,
    learning_curve.HISTORY_FILE,
    learning_curve.CURVE_FILE,
    checkpoints.STATE_FILE,
    learning_curve.TENSORBOARD_FOLDER,
]


def free_ports(count):
    """`count` ports free on 127.0.0.1 now."""
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("127.0.0.1", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


def run_cluster(folder, spec):
    """Runs the two workers to the end; returns their reports and weights, chief first."""
    spec_path = folder / "spec.json"
    spec_path.write_text(json.dumps(spec))
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(WORKERS)]}
    root = os.path.dirname(os.path.dirname(os.path.abspath(zoo.__file__)))
    paths = [root, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    processes = []
    for index in range(WORKERS):
        temporary = folder / f"tmp{index}"
        temporary.mkdir(exist_ok=True)
        environment = dict(
            os.environ,
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            TF_CPP_MIN_LOG_LEVEL="2",
            CUDA_VISIBLE_DEVICES="-1",
            TMPDIR=str(temporary),
            PYTHONPATH=os.pathsep.join(p for p in paths if p),
        )
        prefix = str(folder / f"worker{index}")
        processes.append(
            subprocess.Popen(
                [sys.executable, WORKER, str(spec_path), prefix],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=TIMEOUT)[0])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, f"worker failed:\n{output[-6000:]}"
    results = []
    for index in range(WORKERS):
        prefix = folder / f"worker{index}"
        with open(f"{prefix}.json") as file:
            report = json.load(file)
        with np.load(f"{prefix}.npz") as weights:
            results.append((report, dict(weights)))
    return results


def one_process_update(name, initial, steps):
    """The trainable weights after `steps` meta-updates in this process, no strategy, on the
    same episodes: the stream's first meta-batches of `tasks_per_batch` (or one episode per
    worker) episodes each."""
    recipe = RECIPES[name]
    learner = zoo.load_preset(initial)
    learner.compile(optimizer=recipes.build_optimizer(recipe))
    tasks = recipe["train"]["tasks_per_batch"] or WORKERS
    data = random_sampler(**SAMPLER).dataset(tasks_per_batch=tasks)
    learner.fit(data, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    return [np.asarray(variable) for variable in learner.trainable_variables]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Initial weights, then the two workers' results after 2 steps and after resuming to 3."""
    assert distributed.cluster_config() is None, "this process must not run under TF_CONFIG"
    folder = tmp_path_factory.mktemp("multiworker")
    runs = {}
    for name, factory in TINY.items():
        keras.utils.set_random_seed(7)
        initial = train.write_preset(
            factory(), str(folder / f"initial_{name}"), {"ways": 3, "shots": 1}
        )
        runs[name] = {
            "recipe": RECIPES[name],
            "checkpoint": str(folder / "runs" / name),
            "init_from": initial,
            "sampler": SAMPLER,
        }
    return {
        "folder": folder,
        "runs": runs,
        "workers": run_cluster(folder, {"runs": runs, "steps": STEPS}),
    }


def test_workers_form_one_cluster_with_worker_0_as_chief(cluster):
    reports = [report for report, _ in cluster["workers"]]
    assert [report["task"] for report in reports] == [["worker", 0], ["worker", 1]]
    assert [report["chief"] for report in reports] == [True, False]
    assert [report["replicas"] for report in reports] == [WORKERS, WORKERS]
    assert reports[0]["zoo"] == os.path.abspath(zoo.__file__)


@pytest.mark.parametrize("name", sorted(RECIPES))
@pytest.mark.parametrize("steps", STEPS)
def test_both_workers_end_with_the_one_process_update(cluster, name, steps):
    (_, chief), (_, other) = cluster["workers"]
    trained = [key for key in chief if key.startswith(f"{name}/{steps}/trainable/")]
    for key in trained:  # the same all-reduced gradients: bit for bit the same weights
        np.testing.assert_array_equal(chief[key], other[key])
    initial_folder = cluster["runs"][name]["init_from"]
    initial = [np.asarray(v) for v in zoo.load_preset(initial_folder).trainable_variables]
    expected = one_process_update(name, initial_folder, steps)
    final = [chief[f"{name}/{steps}/trainable/{i}"] for i in range(len(initial))]
    assert max(float(np.abs(a - b).max()) for a, b in zip(final, initial, strict=True)) > 1e-2
    compared = 0
    for value, reference, start in zip(final, expected, initial, strict=True):
        # A convolution's bias before batch normalization has no gradient (the normalization
        # cancels it) but float rounding noise, which Adam scales to steps of about 1e-4 that
        # differ with the order of the sums; every weight with a real gradient moves ~1e-2 a
        # step and must agree.
        if max(np.abs(value - start).max(), np.abs(reference - start).max()) < 2e-3:
            continue
        np.testing.assert_allclose(value, reference, rtol=0, atol=1e-5)
        compared += 1
    assert compared >= len(initial) // 2, (compared, len(initial))


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_restarted_cluster_resumes_from_the_chiefs_checkpoint(cluster, name):
    tasks = RECIPES[name]["train"]["tasks_per_batch"] or WORKERS
    for report, _ in cluster["workers"]:
        for steps in STEPS:
            state = report["runs"][name][str(steps)]["state"]
            assert (state["epoch"], state["steps"]) == (steps, steps)
        # The second run trained only the third epoch.
        assert len(report["runs"][name]["3"]["temporary_folders"]) == 1
    checkpoint = cluster["runs"][name]["checkpoint"]
    state = checkpoints.read_state(checkpoint)
    assert (state["epoch"], state["episodes"]) == (3, 3 * tasks)
    assert sorted(learning_curve.read_history(checkpoint)) == [0, 1, 2]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_only_the_chief_writes_the_run_folder(cluster, name):
    assert sorted(os.listdir(cluster["runs"][name]["checkpoint"])) == sorted(CHIEF_FILES)
    (chief, _), (other, _) = cluster["workers"]
    for steps in STEPS:
        # The chief has no temporary folder; the other worker writes the same files to one.
        assert chief["runs"][name][str(steps)]["temporary_folders"] == [{}] * (
            len(other["runs"][name][str(steps)]["temporary_folders"])
        )
        for seen in other["runs"][name][str(steps)]["temporary_folders"]:
            assert list(seen.values()) == [sorted(CHIEF_FILES)]
    # ... which is deleted at the end.
    for index in range(WORKERS):
        left = os.listdir(cluster["folder"] / f"tmp{index}")
        assert not [entry for entry in left if entry.startswith("metazoo-")]


def test_episode_indices_split_each_meta_batch_in_whole_episodes():
    """Worker w of W takes the w-th consecutive share of every global meta-batch."""
    assert list(distributed.episode_indices(5, 4, 2, 0).take(6).as_numpy_iterator()) == [
        5,
        6,
        9,
        10,
        13,
        14,
    ]
    assert list(distributed.episode_indices(5, 4, 2, 1).take(6).as_numpy_iterator()) == [
        7,
        8,
        11,
        12,
        15,
        16,
    ]
    assert list(distributed.episode_indices(0, 3, 1, 0).take(4).as_numpy_iterator()) == [0, 1, 2, 3]


def test_tf_config_without_a_cluster_means_one_process(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {}, "task": {}}))
    assert distributed.cluster_config() is None
    monkeypatch.delenv("TF_CONFIG")
    assert distributed.cluster_config() is None
    assert distributed.is_chief(tf.distribute.get_strategy())


def test_tf_config_naming_a_task_outside_its_cluster_is_refused(monkeypatch):
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 2}})
    )
    with pytest.raises(ValueError, match="not one of the cluster's chief or worker tasks"):
        distributed.cluster_config()
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not JSON"):
        distributed.cluster_config()


def test_metazoo_train_names_a_bad_tf_config_before_starting(monkeypatch, capsys):
    from metazoo.cli import main

    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["127.0.0.1:1"]}}))
    assert main(["train", "protonet_omniglot", "--out", "unused"]) == 2
    assert "TF_CONFIG task {} is not one of the cluster's" in capsys.readouterr().err
