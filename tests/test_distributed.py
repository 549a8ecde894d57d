"""Meta-training with `fit` under MirroredStrategy, two logical CPU devices.

Logical devices must be set up before TensorFlow initializes its devices, which this pytest
process has already done, so `distributed_worker.py` runs in a fresh interpreter.
"""

import json
import math
import os
import subprocess
import sys

import pytest

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed_worker.py")
KINDS = ("protonet", "maml")


@pytest.fixture(scope="module")
def results():
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.run(
        [sys.executable, WORKER, *KINDS],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )
    assert process.returncode == 0, f"worker failed:\n{process.stdout}\n{process.stderr[-5000:]}"
    return json.loads(process.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", KINDS)
def test_fit_runs_on_both_replicas(results, kind):
    result = results[kind]
    assert result["replicas"] == 2
    assert len(result["devices"]) == 2
    assert [device[-5:] for device in result["devices"]] == ["CPU:0", "CPU:1"]
    # A meta-batch of 4 tasks is split 2 + 2, whole episodes on each replica.
    assert result["tasks_per_replica"] == [2, 2]
    assert result["iterations"] == 2
    assert all(math.isfinite(loss) for loss in result["loss"])


@pytest.mark.parametrize("kind", KINDS)
def test_two_replicas_compute_the_one_device_update(results, kind):
    result = results[kind]
    assert result["moved"] > 1e-3
    assert result["difference_from_one_device"] < 1e-4 * result["moved"] + 1e-6


@pytest.mark.parametrize("kind", KINDS)
def test_episodes_without_a_task_axis_are_refused(results, kind):
    message = results[kind]["unbatched_error"]
    assert message is not None, "fit accepted episodes a strategy would cut apart"
    assert "cut single episodes apart" in message
    assert "tasks_per_batch=2" in message
