"""Runs the benchmarks and prints their tables: `python -m benchmarks [--quick] [--repeats N]`.

Sections: MAML meta-training throughput (ours, a hand-written TF graph, learn2learn and a
PyTorch reference), Prototypical Network and Matching Network throughput, `adapt()` and
inference latency (Keras against onnxruntime) and the peak memory of a second-order MAML
meta-step; and for every algorithm of `training.recipes`, meta-training throughput and
`adapt()` latency at the recipes' sizes (`--only algorithms`). All on synthetic images;
timings are medians of interleaved repeats and are only reported, never checked.
"""

import argparse
import os
import platform
import sys
import time

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SECTIONS = ("maml", "protonet", "matching", "latency", "memory", "algorithms")


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="one call per measurement and fewer latency calls"
    )
    parser.add_argument("--repeats", type=int, default=5, help="measurements per result (5)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for TensorFlow and PyTorch (default: theirs); 1 gives steadier numbers "
        "on a loaded machine",
    )
    parser.add_argument("--tasks", type=int, default=None, help="MAML meta-batch size (default 32)")
    parser.add_argument("--no-torch", action="store_true", help="skip learn2learn and PyTorch")
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="sections to run"
    )
    parser.add_argument(
        "--algorithms",
        nargs="+",
        default=None,
        metavar="NAME",
        help="algorithms section: short names (protonet, matchingnet, matchingnet_fce, "
        "relationnet, siamese, siamese_koch, maml, fomaml, reptile, lstm_meta_learner, mann, "
        "mann_sequences, metanet) or recipe names to run (default: all; with --quick, the "
        "first recipe of each)",
    )
    return parser.parse_args(argv)


def log(message):
    print(message, file=sys.stderr, flush=True)


def header(arguments):
    import keras
    import tensorflow as tf

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        "metazoo benchmarks",
        f"  python {platform.python_version()}, tensorflow {tf.__version__}, keras "
        f"{keras.__version__}, {os.cpu_count()} CPUs, load average {load}",
        f"  repeats {arguments.repeats}, {'quick' if arguments.quick else 'full'}, threads "
        f"{arguments.threads or 'framework defaults'}",
    ]
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        lines.append(
            "  note: the machine is busy; compare ratios within this run, not absolute numbers"
        )
    return "\n".join(lines) + "\n"


def run_maml(arguments):
    from benchmarks import maml_throughput

    setting = dict(maml_throughput.SETTING)
    if arguments.tasks:
        setting["tasks"] = arguments.tasks
    results = maml_throughput.measure(
        repeats=arguments.repeats,
        calls=1 if arguments.quick else 3,
        setting=setting,
        torch_rows=not arguments.no_torch,
        threads=arguments.threads,
        log=log,
    )
    return maml_throughput.table(results, setting, arguments.repeats)


def run_protonet(arguments):
    from benchmarks import protonet_throughput, timing
    from benchmarks.workers import Worker

    log("  [ProtoNet] building and warming up ...")
    worker = Worker("benchmarks.protonet_throughput:build", (), arguments.threads)
    try:
        name = protonet_throughput.NAME
        timer = worker.step_function(name, 1 if arguments.quick else 3)
        times = timing.interleaved({name: timer}, arguments.repeats)[name]
    finally:
        worker.close()
    rate = 1.0 / timing.median(times)
    return protonet_throughput.table(
        rate, timing.spread(times), worker.first_call[name], arguments.repeats
    )


def run_matching(arguments):
    from benchmarks import matching_throughput, timing
    from benchmarks.workers import Worker

    log("  [Matching Networks] building and warming up ...")
    worker = Worker("benchmarks.matching_throughput:build", (), arguments.threads)
    try:
        calls = 1 if arguments.quick else 3
        timers = {name: worker.step_function(name, calls) for name in worker.available}
        times = timing.interleaved(timers, arguments.repeats)
    finally:
        worker.close()
    results = {
        name: (1.0 / timing.median(values), timing.spread(values), worker.first_call[name])
        for name, values in times.items()
    }
    return matching_throughput.table(results, arguments.repeats)


def run_latency(arguments):
    from benchmarks import latency, timing
    from benchmarks.workers import Worker

    log("  [latency] adapting, exporting to ONNX and warming up ...")
    workers = [Worker("benchmarks.latency:build", (), arguments.threads)]
    if not arguments.no_torch:
        workers.append(Worker("benchmarks.latency:build_torch", (), arguments.threads))
    per_task = max(arguments.repeats, 2 if arguments.quick else 10)
    try:
        timers, task_timers = {}, {}
        for worker in workers:
            for name in worker.available:
                if "new task" in name:
                    # One new task per measurement; a second warm-up task beside the worker's.
                    task_timers[name] = worker.step_function(name, 1)
                    task_timers[name]()
                    continue
                slow = "adapt()" in name or name.endswith(f" {latency.QUERIES}")
                calls = (2 if slow else 5) if arguments.quick else (5 if slow else 20)
                timers[name] = worker.step_function(name, calls)
        log(f"  [latency] timing {len(task_timers)} x {per_task} new tasks ...")
        times = timing.interleaved(task_timers, per_task)
        log(f"  [latency] timing {len(timers)} calls ...")
        times.update(timing.interleaved(timers, arguments.repeats))
    finally:
        for worker in workers:
            worker.close()
    milliseconds = {name: 1000 * timing.median(values) for name, values in times.items()}
    notes, first_calls = {}, {}
    for worker in workers:
        notes.update(worker.notes)
        first_calls.update(worker.first_call)
    if arguments.no_torch:
        for row in (latency.LEARN2LEARN, latency.REFERENCE):
            notes[latency.name(row, latency.TORCH_TASK, latency.QUERIES)] = "skipped (--no-torch)"
    return latency.tables_text(milliseconds, notes, arguments.repeats, first_calls, per_task)


def run_memory(arguments):
    from benchmarks import maml_throughput, memory

    setting = dict(maml_throughput.SETTING)
    if arguments.tasks:
        setting["tasks"] = arguments.tasks
    results = {}
    for name, implementation in (
        (maml_throughput.OURS, "ours"),
        ("zoo.MAML via Keras' default train_step (stacked loss)", "stacked"),
        (maml_throughput.HANDWRITTEN, "handwritten"),
    ):
        log(f"  [memory] {name} ...")
        results[name] = memory.measure(implementation, setting, arguments.threads)
    return memory.table(results, setting)


def run_algorithms(arguments):
    from benchmarks import algorithms
    from benchmarks.workers import Worker

    repeats = 1 if arguments.quick else arguments.repeats
    selection, first_only = arguments.algorithms, arguments.quick and not arguments.algorithms
    rows = algorithms.settings(selection, first_only=first_only)
    log(f"  [algorithms] building {len(rows)} learners and warming up (tracing) ...")
    worker = Worker(
        "benchmarks.algorithms:build", (selection, None, None, first_only), arguments.threads
    )
    try:
        times, per_task = algorithms.measure(worker, arguments.quick, repeats, log)
    finally:
        worker.close()
    return algorithms.tables_text(times, rows, worker.first_call, repeats, per_task)


def main(argv=None):
    arguments = parse_arguments(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print(header(arguments), flush=True)
    runners = {
        "maml": run_maml,
        "protonet": run_protonet,
        "matching": run_matching,
        "latency": run_latency,
        "memory": run_memory,
        "algorithms": run_algorithms,
    }
    for section in SECTIONS:
        if section in arguments.only:
            start = time.perf_counter()
            log(f"[{section}]")
            print(runners[section](arguments), flush=True)
            log(f"[{section}] done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
