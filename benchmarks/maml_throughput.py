"""MAML meta-training throughput (tasks/s): `zoo.MAML` against a hand-written graph and PyTorch.

Every implementation takes the same synthetic meta-batch (5-way 1-shot, 15 queries per class,
28x28 raw images, 32 tasks) and runs whole meta-steps: each task's inner step on its support
set, the query losses, the meta-gradient and an Adam update.

- `zoo.MAML`: `compile` then `train_on_batch`, which runs the compiled `train_step` that `fit`
  runs (with its loss tracker and accuracy metric).
- hand-written TF graph: `benchmarks.handwritten_maml`, one `tf.function`.
- learn2learn / PyTorch reference: `benchmarks.torch_maml`, when PyTorch is installed.
"""

import keras
import tensorflow as tf

import zoo
from benchmarks import handwritten_maml, synthetic, tables, timing, torch_maml
from benchmarks.workers import TASK_PARALLEL as TASK_PARALLEL_THREADS
from benchmarks.workers import Worker

SETTING = {"tasks": 32, "ways": 5, "shots": 1, "queries": 15, "side": 28, "inner_steps": 1}
OURS = "zoo.MAML (compile + train_on_batch)"
HANDWRITTEN = "hand-written TF graph (tf.nn, one tf.function)"
TASK_PARALLEL = ", task-parallel threads"
OURS_PARALLEL = OURS + TASK_PARALLEL
HANDWRITTEN_PARALLEL = HANDWRITTEN + TASK_PARALLEL
LEARN2LEARN = "learn2learn MAML (PyTorch)"
REFERENCE = "PyTorch reference (learn2learn-style)"


def meta_batch(setting=SETTING, seed=0):
    keys = ("tasks", "ways", "shots", "queries", "side")
    return synthetic.meta_batch(*(setting[key] for key in keys), seed=seed)


def build_ours(batch, first_order, setting=SETTING):
    """`(learner, step)`: a compiled `zoo.MAML` and a function running one `train_on_batch`."""
    learner = zoo.MAML(
        ways=setting["ways"],
        inner_steps=setting["inner_steps"],
        first_order=first_order,
        image_size=setting["side"],
        # Finn et al.'s meta-training step (queries normalized by their own batch), the one
        # the handwritten graph and learn2learn compute.
        transductive=True,
    )
    learner.build_for_episode(setting["ways"], setting["shots"], setting["queries"])
    learner.compile(optimizer=keras.optimizers.Adam(1e-3))
    episode, labels = batch
    x = {key: tf.constant(value) for key, value in episode.items()}
    y = tf.constant(labels)
    return learner, lambda: learner.train_on_batch(x, y)


def build_handwritten(batch, first_order, weights, setting=SETTING):
    """A function running one meta-step of the hand-written graph (blocks until done)."""
    model = handwritten_maml.HandwrittenMAML(
        weights, inner_steps=setting["inner_steps"], first_order=first_order
    )
    episode, labels = batch
    args = [
        tf.constant(episode["support_images"]),
        tf.constant(episode["support_labels"]),
        tf.constant(episode["query_images"]),
        tf.constant(labels),
    ]
    return lambda: model.train_step(*args).numpy()


def build_tf(first_order, setting=SETTING, task_parallel=False):
    """Builder of a TensorFlow worker: ours and the hand-written graph on one meta-batch.

    With `task_parallel`, the worker runs with `zoo.threads.use_task_parallel_threads` (set
    by the `Worker`) and its rows are named so.
    """
    batch = meta_batch(setting)
    learner, ours = build_ours(batch, first_order, setting)
    weights = [v.numpy() for v in learner.network.trainable_variables]
    handwritten = build_handwritten(batch, first_order, weights, setting)
    suffix = TASK_PARALLEL if task_parallel else ""
    threads = (
        f"{tf.config.threading.get_intra_op_parallelism_threads() or 'default'} thread(s) per "
        f"op, {tf.config.threading.get_inter_op_parallelism_threads() or 'default'} op(s) at once"
    )
    notes = {OURS + suffix: f"keras {keras.__version__}, tensorflow {tf.__version__}, {threads}"}
    return {OURS + suffix: ours, HANDWRITTEN + suffix: handwritten}, notes


def build_torch(first_order, setting=SETTING):
    """Builder of the PyTorch worker: learn2learn's MAML and the plain-PyTorch reference."""
    torch, reason = torch_maml.load_torch()
    if torch is None:
        return {LEARN2LEARN: None, REFERENCE: None}, {LEARN2LEARN: reason, REFERENCE: reason}
    batch = meta_batch(setting)
    steps, notes = {}, {}
    maml_class, notes[LEARN2LEARN] = torch_maml.load_learn2learn_maml()
    steps[LEARN2LEARN] = (
        torch_maml.learn2learn_step(torch, maml_class, batch, first_order, setting["inner_steps"])
        if maml_class is not None
        else None
    )
    steps[REFERENCE] = torch_maml.reference_step(torch, batch, first_order, setting["inner_steps"])
    notes[REFERENCE] = (
        f"plain PyTorch (torch.func), torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    return steps, notes


def measure(repeats=5, calls=1, setting=SETTING, torch_rows=True, threads=None, log=print):
    """Measures both orders; returns `{order: {name: result dict}}`.

    TensorFlow and PyTorch each run in a worker process (`benchmarks.workers`); their steps
    are interleaved. A result holds `tasks_per_second` (median), `spread` (percent),
    `first_call` (seconds of the first call, which traces) and `note`; `tasks_per_second` is
    None when the implementation is unavailable.
    """
    results = {}
    for order, first_order in (("second", False), ("first", True)):
        log(f"  [{order}-order MAML] building and warming up (TensorFlow traces for minutes) ...")
        parallel = TASK_PARALLEL_THREADS + (f":{threads}" if threads else "")
        workers = [
            Worker(f"{__name__}:build_tf", (first_order, setting), threads),
            Worker(f"{__name__}:build_tf", (first_order, setting, True), parallel),
        ]
        if torch_rows:
            workers.append(Worker(f"{__name__}:build_torch", (first_order, setting), threads))
        try:
            timers = {
                name: worker.step_function(name, calls, cpu=True)
                for worker in workers
                for name in worker.available
            }
            log(f"  [{order}-order MAML] timing {len(timers)} implementations ...")
            times = timing.interleaved(timers, repeats)
        finally:
            for worker in workers:
                worker.close()
        results[order] = {}
        names = [name for worker in workers for name in worker.names]
        if not torch_rows:
            names += [LEARN2LEARN, REFERENCE]
        for name in names:
            worker = next((w for w in workers if name in w.names), None)
            result = {
                "first_call": worker.first_call.get(name) if worker else None,
                "note": worker.notes.get(name) if worker else "skipped (--no-torch)",
                "tasks_per_second": None,
                "tasks_per_cpu_second": None,
                "spread": None,
            }
            if name in times:
                wall = [w for w, _ in times[name]]
                cpu = [c for _, c in times[name]]
                result["tasks_per_second"] = setting["tasks"] / timing.median(wall)
                result["tasks_per_cpu_second"] = setting["tasks"] / timing.median(cpu)
                result["spread"] = timing.spread(wall)
            results[order][name] = result
    return results


def _missing(note):
    """The cell of an implementation that did not run."""
    note = note or ""
    if note.startswith("not installed"):
        return "not installed"
    return "skipped" if note.startswith("skipped") else "not available"


def table(results, setting=SETTING, repeats=None):
    """The throughput table and the ratios of ours to the others."""
    rows = []
    for order, by_name in results.items():
        for name, result in by_name.items():
            rate = result["tasks_per_second"]
            rows.append(
                [
                    name,
                    order,
                    tables.number(rate) if rate is not None else _missing(result.get("note")),
                    f"±{result['spread']:.0f}%" if rate is not None else "",
                    tables.number(result["tasks_per_cpu_second"]),
                    tables.number(1000 * setting["tasks"] / rate, 0) if rate else "-",
                    tables.number(result["first_call"], 1),
                ]
            )
    notes = [
        f"{setting['ways']}-way {setting['shots']}-shot, {setting['queries']} queries/class, "
        f"{setting['side']}x{setting['side']}, meta-batch {setting['tasks']}, "
        f"{setting['inner_steps']} inner step, Adam; median of {repeats} interleaved repeats "
        "(spread: ± half the interquartile range)",
        "tasks/CPU-s: tasks per second of the worker process's CPU time (all its threads), "
        "steadier than wall time on a busy machine",
        "first call: tracing and graph optimization (TF) or first run (PyTorch), seconds",
    ]
    for by_name in results.values():
        for name, result in by_name.items():
            if result.get("note") and f"{name}: {result['note']}" not in notes:
                notes.append(f"{name}: {result['note']}")
        break
    notes.append(
        "task-parallel threads: TensorFlow with one thread per op and one op per core "
        "(zoo.threads.use_task_parallel_threads), so the meta-batch's tasks run side by side"
    )
    text = tables.format_table(
        "MAML meta-training throughput",
        ["implementation", "order", "tasks/s", "spread", "tasks/CPU-s", "ms/step", "first call s"],
        rows,
        notes,
    )
    ratio_rows = []
    for order, by_name in results.items():
        for threads, suffix in (("default", ""), ("task-parallel", TASK_PARALLEL)):
            ours = by_name.get(OURS + suffix)
            if ours is None:
                continue
            for name in (HANDWRITTEN + suffix, LEARN2LEARN, REFERENCE):
                other = by_name.get(name, {})
                ratio_rows.append(
                    [
                        f"ours / {name.removesuffix(suffix) if suffix else name}",
                        order,
                        threads,
                        tables.ratio(ours["tasks_per_second"], other.get("tasks_per_second")),
                        tables.ratio(
                            ours["tasks_per_cpu_second"], other.get("tasks_per_cpu_second")
                        ),
                    ]
                )
    text += "\n" + tables.format_table(
        "zoo.MAML throughput ratios (>1: ours is faster)",
        ["comparison", "order", "our threads", "wall time", "CPU time"],
        ratio_rows,
        [
            "our threads: TensorFlow's default or task-parallel (the hand-written graph runs "
            "with the same); PyTorch runs with its default threads",
            "targets: >= 1.50x learn2learn (second order); >= 0.85x the hand-written graph",
        ],
    )
    return text
