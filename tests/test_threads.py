"""Task-parallel threads: set before TensorFlow starts, refused after."""

import os
import subprocess
import sys

import pytest
import tensorflow as tf

from zoo.threads import use_task_parallel_threads

SHOW_THREADS = (
    "import tensorflow as tf; tf.constant(0.0); print("
    "tf.config.threading.get_intra_op_parallelism_threads(), "
    "tf.config.threading.get_inter_op_parallelism_threads())"
)


def run_python(code):
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout.split()[-2:]


def test_meta_batch_recipes_train_with_one_thread_per_op_and_one_op_per_core():
    prepare = "from metazoo.commands.train import configure_threads; configure_threads({!r}); "
    intra, inter = run_python(prepare.format("maml_omniglot_5way_1shot") + SHOW_THREADS)
    assert (intra, inter) == ("1", str(len(os.sched_getaffinity(0))))
    # Prototypical Networks' one large episode per step keeps TensorFlow's defaults.
    assert run_python(prepare.format("protonet_omniglot") + SHOW_THREADS) == ["0", "0"]


def test_explicit_core_count():
    code = "from zoo.threads import use_task_parallel_threads; use_task_parallel_threads(3); "
    assert run_python(code + SHOW_THREADS) == ["1", "3"]


def test_refused_once_tensorflow_has_started():
    tf.constant(0.0)
    if tf.config.threading.get_intra_op_parallelism_threads() == 1:
        pytest.skip("this process already runs task-parallel threads")
    with pytest.raises(RuntimeError, match="before it runs anything"):
        use_task_parallel_threads(2)


def test_metazoo_train_keeps_the_threads_when_tensorflow_has_started():
    from metazoo.commands.train import configure_threads

    tf.constant(0.0)
    before = tf.config.threading.get_intra_op_parallelism_threads()
    configure_threads("maml_omniglot_5way_1shot")  # a speed setting: no error once started
    assert tf.config.threading.get_intra_op_parallelism_threads() == before
