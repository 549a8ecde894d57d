"""Meta-training on several machines: `tf.distribute.MultiWorkerMirroredStrategy` from `TF_CONFIG`.

Every worker runs the same `metazoo train` command with its own `TF_CONFIG` (the cluster's
addresses and the worker's own task). Each global meta-batch of T tasks is the one a single
process would train on, episodes `s*T ... s*T+T-1` of the seeded stream at step `s`, split into
whole episodes: replica `r` of R samples only episodes `s*T + r*T/R ...` of it, so no episode
is sampled twice and none is cut apart. Keras averages each replica's loss over its tasks and
divides by R, and the strategy sums the replicas' gradients: the global update is the mean over
all T tasks, the one-process update on the same episodes.

Only the chief (task `chief`, else worker 0) writes the checkpoint, history, TensorBoard logs,
learning curve and presets; the other workers write theirs to a temporary folder that is
deleted at the end (saving runs the same operations on every worker, so all of them save).
A restarted cluster resumes from the chief's checkpoint, which every worker reads: the
checkpoint folder must be the same path on a file system all workers share. The trainable
weights are the same on every worker after every step (the same all-reduced gradients);
batch normalization's moving statistics, which Keras creates without a cross-replica
aggregation, follow each replica's own episodes, and the chief's are the ones saved.

TensorFlow requires the strategy to be created before any other TensorFlow operation in the
process: `metazoo train` calls `cluster_strategy()` first thing; a script must do the same.
"""

import contextlib
import json
import os
import shutil
import tempfile

TF_CONFIG = "TF_CONFIG"

_strategy = None


def cluster_config():
    """`TF_CONFIG` parsed, or None when it is unset or names no cluster.

    Raises:
        ValueError: when `TF_CONFIG` is not JSON, or names a task that is not a chief or a
            worker of its cluster.
    """
    text = os.environ.get(TF_CONFIG, "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{TF_CONFIG} is not JSON: {error}") from None
    cluster = config.get("cluster") or {}
    if not any(cluster.get(kind) for kind in ("chief", "worker")):
        return None
    task = config.get("task") or {}
    kind, index = task.get("type"), task.get("index", 0)
    if kind not in ("chief", "worker") or not 0 <= int(index) < len(cluster.get(kind) or []):
        raise ValueError(
            f"{TF_CONFIG} task {task} is not one of the cluster's chief or worker tasks "
            f"{ {key: value for key, value in cluster.items() if key in ('chief', 'worker')} }"
        )
    return config


def cluster_strategy():
    """The process's `MultiWorkerMirroredStrategy` when `TF_CONFIG` names a cluster, else None.

    Created on the first call and then returned again. TensorFlow requires it to be created
    before any other TensorFlow operation in the process (it configures the collective
    operations of the runtime), so call this first thing, as `metazoo train` does.

    Raises:
        RuntimeError: when TensorFlow has already run an operation in this process.
    """
    global _strategy
    if _strategy is None and cluster_config() is not None:
        import tensorflow as tf

        try:
            _strategy = tf.distribute.MultiWorkerMirroredStrategy()
        except (RuntimeError, ValueError) as error:
            raise RuntimeError(
                f"{TF_CONFIG} names a cluster, but TensorFlow had already started: create the "
                "strategy first thing in the process, before any other TensorFlow operation "
                f"(training.distributed.cluster_strategy()); {error}"
            ) from None
    return _strategy


def task_of(strategy):
    """`(task_type, task_id)` of this process in a multi-worker strategy's cluster, or
    `(None, None)` for a strategy on one machine (or none)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return None, None
    return resolver.task_type, int(resolver.task_id or 0)


def is_chief(strategy=None):
    """Whether this process writes the run's files: the `chief` task, else worker 0 (Keras'
    rule); always True outside a cluster."""
    kind, index = task_of(strategy)
    if kind is None:
        return True
    if kind == "chief":
        return True
    cluster = strategy.cluster_resolver.cluster_spec().as_dict()
    return kind == "worker" and index == 0 and not cluster.get("chief")


@contextlib.contextmanager
def writing_folder(directory, strategy=None):
    """Yields where this process writes the files of a run whose folder is `directory`.

    The chief (or a process outside a cluster) writes to `directory`; another worker writes
    to a fresh temporary folder, deleted when the block ends (Keras' multi-worker pattern:
    every worker runs the same saving operations, only the chief's files are kept).
    """
    if is_chief(strategy):
        yield directory
        return
    kind, index = task_of(strategy)
    temporary = tempfile.mkdtemp(prefix=f"metazoo-{kind}{index}-")
    try:
        yield temporary
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def distributed_episodes(strategy, sampler, tasks_per_batch, start=0):
    """The sampler's stream of meta-batches, each split across the replicas in whole episodes.

    Global step `s` trains on episodes `start + s*T ... start + s*T + T-1` (T =
    `tasks_per_batch`), as one process would; replica `r` of R gets the T/R consecutive
    episodes from `start + s*T + r*T/R`, and each worker samples only its replicas' episodes.

    Args:
        strategy: a `tf.distribute.Strategy` (multi-worker or not).
        sampler: an `EpisodeSampler` (anything with `episode(index)`).
        tasks_per_batch: T, episodes per global meta-batch; a multiple of the replicas.
        start: index of the first episode.

    Returns:
        A distributed data set of `(episode, query_labels)` with a task axis of T/R.

    Raises:
        ValueError: when T is not a multiple of the strategy's replicas.
    """
    import tensorflow as tf

    tasks, replicas = int(tasks_per_batch), strategy.num_replicas_in_sync
    if tasks % replicas:
        raise ValueError(
            f"meta-batches of {tasks} tasks do not split into whole episodes across {replicas} "
            f"replicas: use a multiple of {replicas} tasks per batch"
        )
    per_replica = tasks // replicas

    def worker_dataset(context):
        indices = episode_indices(
            start, tasks, context.num_input_pipelines, context.input_pipeline_id
        )
        data = indices.map(sampler.episode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return data.batch(per_replica, drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    return strategy.distribute_datasets_from_function(worker_dataset)


def episode_indices(start, tasks_per_batch, workers, worker):
    """The endless `tf.data` stream of the episode indices one worker samples.

    Worker `w` of W takes the w-th consecutive share of T/W episodes of every global
    meta-batch of T: `start + s*T + w*T/W + j` for steps `s = 0, 1, ...` and `j < T/W`. Its
    local replicas then take consecutive batches of it (`distributed_episodes`).
    """
    import tensorflow as tf

    tasks, per_worker = int(tasks_per_batch), int(tasks_per_batch) // int(workers)
    first = int(start) + int(worker) * per_worker
    # Endless (infinite cardinality): a finite stream would make the strategy guard against
    # workers running out at different steps with an unknown batch size, which a meta-batch
    # cannot have (`MetaLearner.call` unrolls its tasks).
    return tf.data.Dataset.counter().map(
        lambda i: first + (i // per_worker) * tasks + i % per_worker
    )


def check_same_on_all_workers(strategy, value, what):
    """Raises unless every worker of a multi-worker strategy passes the same integer `value`.

    Used before training: workers that resume from different epochs (a checkpoint folder that
    is not shared) would run different operations and hang in the collectives instead.

    Args:
        strategy: the strategy; nothing is checked outside a cluster.
        value: this worker's integer.
        what: what the value is, for the message.
    """
    if task_of(strategy)[0] is None:
        return
    import tensorflow as tf

    value = int(value)
    sums = strategy.reduce(
        "SUM",
        strategy.run(lambda: tf.constant([1, value, value * value], tf.int64)),
        axis=None,
    )
    count, total, squares = (int(x) for x in sums)
    # All equal exactly when the sum of squares is count * mean^2 (Cauchy-Schwarz).
    if squares * count != total * total:
        raise ValueError(
            f"the workers disagree on {what} (this one: {value}, mean of {count}: "
            f"{total / count:g}); every worker must read the same checkpoint folder, on a file "
            "system they all share"
        )
