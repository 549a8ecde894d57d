"""How TensorFlow spreads a meta-batch of small tasks over the CPU cores."""

import os


def use_task_parallel_threads(cores=None):
    """Runs independent ops on separate cores, each op on one thread.

    A meta-batch of T tasks (MAML's inner loops, unrolled in `train_step`) is a graph of T
    independent chains of small ops. TensorFlow's default splits every op over all cores,
    and on a small CPU the splitting costs more than it saves; with one thread per op and one
    op per core, the tasks' chains run side by side instead. On 2 cores this makes
    second-order MAML meta-training (32 5-way 1-shot tasks) about 1.5x faster (see
    `benchmarks/`). Learners that process one large batch (Prototypical Networks' 60-way
    episodes) are better served by the default.

    Call it before TensorFlow runs anything: TensorFlow fixes its thread pools then.

    Args:
        cores: ops run at the same time (default: the CPU cores this process may use).

    Raises:
        RuntimeError: when TensorFlow has already started.
    """
    import tensorflow as tf

    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        cores = cores or os.cpu_count() or 1
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(int(cores))
    except RuntimeError as error:
        raise RuntimeError(
            "TensorFlow's threads can only be set before it runs anything: call "
            f"use_task_parallel_threads() first ({error})"
        ) from None
