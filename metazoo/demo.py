"""`metazoo demo`: shipped presets on procedurally drawn glyphs, adapted, exported, compared.

Needs no data and no download: the tasks come from `training.demo_data`. For each preset and
each task it adapts the meta-learner, measures accuracy on the task's queries, exports the
adapted classifier to ONNX and SavedModel, and checks that the exported files give the Keras
model's probabilities on those queries.
"""

import os
import tempfile
import time

from metazoo.common import (
    CommandError,
    PresetMissingError,
    format_accuracy,
    load_preset,
    one_line,
    paper_accuracy,
    say,
)

DEMO_PRESETS = ("protonet_omniglot_5way_1shot", "maml_omniglot_5way_1shot")
WAYS = 5
TOLERANCE = 1e-4


class Steps:
    """Numbered progress lines with the time since the demo started."""

    def __init__(self, total):
        self.total, self.done, self.started = total, 0, time.time()

    def __call__(self, text):
        self.done += 1
        say(f"[{self.done}/{self.total} {time.time() - self.started:5.1f}s] {text}")

    @property
    def seconds(self):
        return time.time() - self.started


def onnx_probabilities(path, images):
    """Probabilities of an ONNX file on float32 images, with onnxruntime."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: images})[0]


def saved_model_probabilities(path, images):
    """Probabilities of a SavedModel's `serving_default` signature on float32 images."""
    import tensorflow as tf

    serving = tf.saved_model.load(path).signatures["serving_default"]
    name = next(iter(serving.structured_input_signature[1]))
    outputs = serving(**{name: tf.constant(images)})
    return next(iter(outputs.values())).numpy()


def load_presets(names):
    """Loads the presets that are there; says which are missing and skips them."""
    from zoo.presets import PresetError

    loaded = []
    for name in names:
        try:
            learner, metadata, _ = load_preset(name)
        except PresetMissingError as error:
            say(f"skipping {name}: {error}")
            continue
        except (CommandError, PresetError) as error:
            say(f"skipping {name}: {one_line(error)}")
            continue
        label = metadata.get("preset") or os.path.basename(os.path.normpath(name))
        if learner.fixed_ways not in (None, WAYS):
            say(f"skipping {label}: built for {learner.fixed_ways}-way tasks, the demo is 5-way")
            continue
        measured = format_accuracy(metadata) or "not measured"
        paper = paper_accuracy(label, metadata)
        paper = f", paper {paper}%" if paper is not None else ""
        say(f"loaded {label}: Omniglot test accuracy {measured}{paper}")
        loaded.append((label, learner, name))
    return loaded


def run_demo(args):
    """Runs the demo; returns 0 when every export matched Keras, 1 otherwise."""
    from training.demo_data import demo_task, write_task_folders

    if min(args.shots) < 1 or args.queries < 1:
        raise CommandError("--shots and --queries must be at least 1")
    started = time.time()
    say("metazoo demo: 5-way tasks of procedurally drawn glyphs (no data set, no download)")
    presets = load_presets(args.preset or DEMO_PRESETS)
    if not presets:
        raise CommandError(
            "none of the presets could be loaded (see above); train them with `metazoo train` "
            "or pass a preset folder with --preset"
        )
    out = os.path.abspath(args.out or tempfile.mkdtemp(prefix="metazoo-demo-"))
    os.makedirs(out, exist_ok=True)
    tasks = {}
    for shots in sorted(set(args.shots)):
        task = demo_task(WAYS, shots, args.queries, seed=args.seed)
        folder = os.path.join(out, f"task_5way_{shots}shot")
        write_task_folders(task, folder)
        tasks[shots] = task
    say(f"tasks drawn in {time.time() - started:.1f} s, written as images under {out}/task_*")
    exports = 0 if args.no_export else 2
    steps = Steps(len(presets) * len(tasks) * (1 + exports))
    rows, failures = [], 0
    for label, learner, _ in presets:
        for shots, task in tasks.items():
            row, failed = run_task(label, learner, shots, task, out, args.no_export, steps)
            rows.append(row)
            failures += failed
    say("")
    say(f"{'preset':<32} {'task':<13} {'accuracy':>9} {'ONNX diff':>10} {'SavedModel diff':>16}")
    for row in rows:
        say(
            f"{row['preset']:<32} {row['task']:<13} {row['accuracy']:>8.1f}% "
            f"{row.get('onnx', '-'):>10} {row.get('saved_model', '-'):>16}"
        )
    say(f"{'task images' if args.no_export else 'exported models and task images'} are in {out}")
    example = os.path.join(out, f"task_5way_{min(tasks)}shot")
    say(f"try: metazoo adapt {presets[0][2]} --support {example}/support --query {example}/query")
    verdict = "" if failures else ", ALL CHECKS PASSED"
    say(f"demo finished in {time.time() - started:.1f} s{verdict}")
    if failures:
        say(f"{failures} export(s) failed or disagree with Keras by more than {TOLERANCE:g}")
        return 1
    return 0


def run_task(label, learner, shots, task, out, no_export, steps):
    """Adapts one preset to one task, scores it, exports and compares; returns the table row."""
    import numpy as np

    name = f"5-way {shots}-shot"
    started = time.time()
    classifier = learner.adapt(task["support_images"], task["support_labels"])
    queries = task["query_images"].astype("float32")
    # All queries in one batch: MAML normalizes with the statistics of the batch it is given.
    probabilities = np.asarray(classifier(queries, training=False))
    correct = int((probabilities.argmax(axis=1) == task["query_labels"]).sum())
    accuracy = 100.0 * correct / len(queries)
    steps(
        f"{label}, {name}: adapted in {time.time() - started:.1f} s, "
        f"{correct}/{len(queries)} queries right ({accuracy:.1f}%)"
    )
    row = {"preset": label, "task": name, "accuracy": accuracy}
    if no_export:
        return row, 0
    import export

    failed = 0
    stem = os.path.join(out, f"{label}_adapted_5way_{shots}shot")
    for key, kind, function, reader, path in (
        ("onnx", "ONNX", export.to_onnx, onnx_probabilities, stem + ".onnx"),
        (
            "saved_model",
            "SavedModel",
            export.to_saved_model,
            saved_model_probabilities,
            stem + "_savedmodel",
        ),
    ):
        started = time.time()
        try:
            result = function(classifier, path, verify=True)
        except export.ExportError as error:
            failed += 1
            row[key] = "FAILED"
            steps(f"{label}, {name}: {kind} export FAILED: {one_line(error)}")
            continue
        difference = float(np.max(np.abs(reader(result.path, queries) - probabilities)))
        ok = difference <= TOLERANCE
        failed += not ok
        row[key] = f"{difference:.1e}"
        steps(
            f"{label}, {name}: {kind} written in {time.time() - started:.1f} s, "
            f"max |p_{kind.lower()} - p_keras| on the queries = {difference:.1e} "
            f"({'ok' if ok else 'ABOVE ' + format(TOLERANCE, 'g')}; export check "
            f"{result.max_abs_diff:.1e})"
        )
    return row, failed
