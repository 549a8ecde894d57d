"""Latency of adapting to a new task and of the adapted classifier, against learn2learn and ORT.

Tasks are 5-way 1-shot with raw 105x105 images (Omniglot's size; the models resize them).
MAML adapts with its presets' 3 evaluation inner steps; the FCE Matching Network's adapted
classifier reads the support set K = 2 times per query. Rows:

- a new task: `adapt` on a support set not seen before, then `predict` on 25 queries of the
  new classifier (what a user of the zoo meets per task); each call takes the next of
  `TASKS` different support sets, so every call builds and runs a new classifier;
- `adapt()` alone, and against the number of updates (1, 5, 10, 20) for MAML's and Reptile's
  inner steps (Reptile: Adam on the whole support set, its 5-way presets' rate) and the LSTM
  meta-learner's T (its recipe's learner: Conv-4 with 32 filters), with the least-squares
  line through each sweep;
- the adapted classifier on batches of 1 and 25 raw images: `predict`, `model(x)`,
  `predict_on_batch`, a `tf.function` with input signature `[None, None, None, 1]` float32,
  and onnxruntime on the ONNX file `export.to_onnx` writes;
- learn2learn's MAML on the same task (clone, 3 inner steps of the same strided Conv-4,
  softmax over the 25 queries) and the same in plain PyTorch, when PyTorch is installed
  (`benchmarks.torch_maml`); they run in a worker of their own.

The tables print issue 18's targets beside the measurements (never checked): per new task,
faster than learn2learn's MAML for MAML and at most half of it for the metric learners;
`predict` on 25 queries at most 20 ms, a single-image call at most 10 ms, onnxruntime at most
5 ms for 25 queries; `adapt()`'s cost linear in its number of steps.
"""

import operator
import os
import tempfile

import numpy as np
import tensorflow as tf

import zoo
from benchmarks import synthetic, tables, torch_maml

SIDE = 105
WAYS, SHOTS, QUERIES = 5, 1, 25
TASKS = 12
BATCHES = (1, QUERIES)
MAML_STEPS = (1, 5, 10, 20)
MAML_SETTINGS = {"ways": WAYS, "inner_steps": 1, "eval_inner_steps": 3, "inner_learning_rate": 0.4}
LSTM_STEPS = (1, 5, 10, 20)
LSTM_SETTINGS = {"ways": WAYS, "filters": 32}
REPTILE_STEPS = (1, 5, 10, 20)
REPTILE_SETTINGS = {"ways": WAYS, "inner_learning_rate": 1e-3, "eval_inner_batch_size": 5}
SWEPT = {"MAML": "inner steps", "Reptile": "inner steps", "LSTM meta-learner": "updates"}
"""The models whose `adapt()` is timed against its number of updates, and what they are."""
MATCHING_READ_STEPS = 2
ADAPTATION = {
    "ProtoNet": "embed support, prototypes",
    "MatchingNet": "embed support",
    "MatchingNet FCE": "embed support, bidirectional LSTM",
}
SEPARATOR = " | "
NEW_TASK = "new task: adapt() + predict"
ADAPT = "adapt()"
LEARN2LEARN = "learn2learn MAML"
REFERENCE = "PyTorch reference"
TORCH_TASK = "new task: clone + 3 steps + softmax"
PER_TASK_TARGETS = {
    "MAML": ("< learn2learn", operator.lt, 1.0),
    **dict.fromkeys(
        ("ProtoNet", "MatchingNet", "MatchingNet FCE"), ("<= 0.5x learn2learn", operator.le, 0.5)
    ),
}
"""Issue 18's targets per new task: `(text, comparison, bound)` of the time relative to
learn2learn's MAML in the same run; faster for MAML, at most half of it for metric learners."""
INFERENCE_TARGETS = {
    "Keras predict": (QUERIES, 20.0),
    "Keras model(x)": (1, 10.0),
    "onnxruntime": (QUERIES, 5.0),
}
"""Issue 18's bounds on the adapted classifier, by call: `(batch, at most ms)`: `predict` on
25 queries, a single-image call (`adapted(1 image)`), onnxruntime on 25 queries."""
LINEAR_R2 = 0.99
"""An `adapt()` sweep counts as linear in its steps (issue 18) when the least-squares line
explains at least this fraction of the variance of its times (R^2)."""


def maml(eval_inner_steps=MAML_SETTINGS["eval_inner_steps"]):
    """A MAML with the presets' settings and fresh random weights."""
    learner = zoo.MAML(**{**MAML_SETTINGS, "eval_inner_steps": eval_inner_steps})
    return learner.build_for_episode(WAYS, SHOTS)


def reptile(eval_inner_steps):
    """A Reptile with its 5-way presets' settings (Adam on batches of 5: the whole 5-way 1-shot
    support set) adapting by `eval_inner_steps` steps, with fresh weights."""
    learner = zoo.Reptile(**REPTILE_SETTINGS, eval_inner_steps=eval_inner_steps)
    return learner.build_for_episode(WAYS, SHOTS)


def lstm_meta_learner(inner_steps):
    """An LSTM meta-learner of its recipe's size making `inner_steps` updates (fresh weights)."""
    learner = zoo.LSTMMetaLearner(**LSTM_SETTINGS, inner_steps=inner_steps)
    return learner.build_for_episode(WAYS, SHOTS)


def learners():
    """MAML (the presets' settings), a Prototypical Network and the simple and FCE Matching
    Networks (the recipes' K = 2 reads), with fresh random weights."""
    protonet = zoo.PrototypicalNetwork()
    protonet.build_for_episode(WAYS, SHOTS)
    matching = zoo.MatchingNetwork()
    matching.build_for_episode(WAYS, SHOTS)
    matching_fce = zoo.MatchingNetwork(fce=True, read_steps=MATCHING_READ_STEPS)
    matching_fce.build_for_episode(WAYS, SHOTS)
    return {
        "MAML": maml(),
        "ProtoNet": protonet,
        "MatchingNet": matching,
        "MatchingNet FCE": matching_fce,
    }


def tasks(count=TASKS, seed=0):
    """`count` support sets `(images, labels)` of raw images, and 25 raw query images."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(WAYS, dtype="int32"), SHOTS)
    support = [(synthetic.raw_images(WAYS * SHOTS, SIDE, rng), labels) for _ in range(count)]
    return support, synthetic.raw_images(QUERIES, SIDE, rng)


def cycling(function, items):
    """A function of no arguments calling `function(item)` on the next of `items` each time."""
    state = {"next": 0}

    def step():
        item = items[state["next"] % len(items)]
        state["next"] += 1
        return function(*item)

    return step


def onnx_session(model, directory):
    """`(onnxruntime session, how it was converted)` for an adapted classifier."""
    import onnxruntime

    path = os.path.join(directory, f"{model.name}.onnx")
    try:
        from export import to_onnx

        to_onnx(model, path)
        how = "export.to_onnx (verified against Keras)"
    except ImportError:
        import tf2onnx

        signature = tf.TensorSpec((None, None, None, 1), tf.float32, name="images")
        serve = tf.function(lambda images: model(images, training=False))
        proto, _ = tf2onnx.convert.from_function(serve, input_signature=[signature])
        with open(path, "wb") as file:
            file.write(proto.SerializeToString())
        how = "tf2onnx.convert.from_function"
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session, how


def name(*parts):
    return SEPARATOR.join(str(part) for part in parts)


def build(
    maml_steps=MAML_STEPS,
    learners=learners,
    maml=maml,
    onnx=True,
    lstm_steps=LSTM_STEPS,
    lstm=lstm_meta_learner,
    reptile_steps=REPTILE_STEPS,
    reptile=reptile,
):
    """Builder of the TensorFlow worker: adaptation and classifier calls, `model | call | n`.

    Args:
        maml_steps: the numbers of inner steps of the MAML adaptation rows.
        learners: makes `{name: learner}` of the other rows.
        maml: makes the MAML learner of those rows from a number of inner steps.
        onnx: whether to export to ONNX and time onnxruntime.
        lstm_steps: the numbers of updates T of the LSTM meta-learner's adaptation rows.
        lstm: makes the LSTM meta-learner of those rows from T.
        reptile_steps: the numbers of inner steps of Reptile's adaptation rows.
        reptile: makes the Reptile learner of those rows from a number of inner steps.
    """
    support_sets, queries = tasks()
    rng = np.random.default_rng(1)
    batches = {size: synthetic.raw_images(size, SIDE, rng) for size in BATCHES}
    steps, notes = {}, {}
    directory = tempfile.mkdtemp(prefix="metazoo-bench-")
    for model_name, learner in learners().items():
        steps[name(model_name, NEW_TASK, QUERIES)] = cycling(
            lambda s, y, learner=learner: learner.adapt(s, y).predict(queries, verbose=0),
            support_sets,
        )
        steps[name(model_name, ADAPT, WAYS * SHOTS)] = cycling(learner.adapt, support_sets)
        model = learner.adapt(*support_sets[0])
        serve = tf.function(
            lambda images, model=model: model(images, training=False),
            input_signature=[tf.TensorSpec((None, None, None, 1), tf.float32)],
        )
        calls = {}
        if onnx:
            session, notes["onnx"] = onnx_session(model, directory)
            input_name = session.get_inputs()[0].name
        for size, images in batches.items():
            tensor = tf.constant(images)
            calls = {
                "Keras predict": lambda m=model, x=images: m.predict(x, verbose=0),
                "Keras model(x)": lambda m=model, t=tensor: m(t, training=False).numpy(),
                "Keras predict_on_batch": lambda m=model, x=images: m.predict_on_batch(x),
                "tf.function": lambda f=serve, t=tensor: f(t).numpy(),
            }
            if onnx:
                calls["onnxruntime"] = lambda s=session, x=images, i=input_name: s.run(None, {i: x})
            for call, function in calls.items():
                steps[name(model_name, call, size)] = function
    for model_name, counts, make in (
        ("MAML", maml_steps, maml),
        ("Reptile", reptile_steps, reptile),
        ("LSTM meta-learner", lstm_steps, lstm),
    ):
        for count in counts:
            row = name(f"{model_name}, {count} {SWEPT[model_name]}", ADAPT, WAYS * SHOTS)
            steps[row] = cycling(make(count).adapt, support_sets)
    return steps, notes


def build_torch():
    """Builder of the PyTorch worker: learn2learn's MAML adapting to new tasks, and plain PyTorch.

    Returns steps of None, with the reason as note, when PyTorch or learn2learn is missing.
    """
    torch, reason = torch_maml.load_torch()
    rows = [name(LEARN2LEARN, TORCH_TASK, QUERIES), name(REFERENCE, TORCH_TASK, QUERIES)]
    if torch is None:
        return dict.fromkeys(rows), dict.fromkeys(rows, reason)
    support_sets, queries = tasks()
    steps, notes = {}, {}
    maml_class, notes[rows[0]] = torch_maml.load_learn2learn_maml()
    settings = {"steps": MAML_SETTINGS["eval_inner_steps"], "alpha": 0.4}
    steps[rows[0]] = (
        cycling(
            torch_maml.learn2learn_adaptation(torch, maml_class, queries, **settings), support_sets
        )
        if maml_class is not None
        else None
    )
    steps[rows[1]] = cycling(
        torch_maml.reference_adaptation(torch, queries, **settings), support_sets
    )
    notes[rows[1]] = f"plain PyTorch (torch.func), torch {torch.__version__}"
    return steps, notes


def tables_text(milliseconds, notes, repeats, first_calls=None, tasks=None):
    """The per-task table, the adaptation table, the line through each adaptation sweep and
    the inference table, from median ms, with issue 18's targets.

    Args:
        milliseconds: `{step name: median ms}`.
        notes: `{step name or "onnx": note}`; a step with a note and no time did not run.
        repeats: the measurements behind each median of a call.
        first_calls: `{step name: seconds of its first call}`.
        tasks: the new tasks behind each median of a new-task row (default `repeats`).
    """
    tasks = tasks or repeats
    first_calls = first_calls or {}
    per_task, adapt_rows, inference, sweeps = [], [], {}, {}
    learn2learn = milliseconds.get(name(LEARN2LEARN, TORCH_TASK, QUERIES))
    for key in list(milliseconds) + [k for k in notes if SEPARATOR in k and k not in milliseconds]:
        value = milliseconds.get(key)
        model, call, size = key.split(SEPARATOR)
        if call in (NEW_TASK, TORCH_TASK):
            first = first_calls.get(key)
            per_task.append(
                [
                    model,
                    call,
                    tables.number(value, 1) if value is not None else _missing(notes.get(key)),
                    tables.number(1000 * first, 0) if first is not None else "-",
                    tables.ratio(value, learn2learn),
                ]
                + per_task_target(model, value, learn2learn)
            )
        elif call == ADAPT:
            steps = MAML_SETTINGS["eval_inner_steps"]
            detail = f"{steps} inner steps" if model == "MAML" else ADAPTATION.get(model, "")
            swept, _, updates = model.partition(", ")  # "MAML, 5 inner steps"
            if updates and swept in SWEPT:
                model, detail = swept, updates
                if value is not None:
                    sweeps.setdefault(swept, []).append((int(updates.split()[0]), value))
            adapt_rows.append([model, detail, tables.number(value, 1)])
        else:
            inference.setdefault((model, call), {})[int(size)] = value
    text = tables.format_table(
        "A new task: adapt() and predict() on its 25 queries",
        ["model", "per task", "ms", "first task ms", "vs learn2learn", "target", "met"],
        per_task,
        [
            f"{WAYS}-way {SHOTS}-shot, raw {SIDE}x{SIDE} images; each call adapts to another of "
            f"{TASKS} support sets and predicts {QUERIES} queries with the new classifier; median "
            f"of {tasks} tasks after 2 warm-up tasks ('first task': the first call, which "
            "builds and traces)",
        ]
        + [f"{key.split(SEPARATOR)[0]}: {notes[key]}" for key in notes if TORCH_TASK in key]
        + [
            "target: issue 18's, relative to learn2learn's MAML in this run (the first task may "
            "compile, later ones must not); met: judged when both times exist, never asserted",
        ],
    )
    text += "\n" + tables.format_table(
        "adapt() latency",
        ["model", "adaptation", "ms"],
        adapt_rows,
        [f"{WAYS}-way {SHOTS}-shot, raw {SIDE}x{SIDE} support images; median of {repeats}"],
    )
    text += "\n" + sweep_table(sweeps)
    rows = []
    for (model, call), by_size in inference.items():
        onnx = inference.get((model, "onnxruntime"), {})
        row = [model, call]
        for size in BATCHES:
            row.append(tables.number(by_size.get(size), 2))
        for size in BATCHES:
            row.append(tables.ratio(by_size.get(size), onnx.get(size)))
        rows.append(row + inference_target(call, by_size))
    headers = ["model", "call"] + [f"batch {size} ms" for size in BATCHES]
    headers += [f"vs ORT b{size}" for size in BATCHES] + ["target", "met"]
    text += "\n" + tables.format_table(
        "Adapted classifier inference latency",
        headers,
        rows,
        [
            f"raw {SIDE}x{SIDE} images in, probabilities out; median of {repeats} repeats; "
            "'vs ORT': time relative to onnxruntime (>1: slower than ONNX)",
            "target: issue 18's, bN: on a batch of N (predict on 25 queries, a single-image "
            "call, onnxruntime on 25 queries); met: never asserted",
            f"ONNX file: {notes.get('onnx', '?')}",
        ],
    )
    return text


def per_task_target(model, value, learn2learn):
    """`[target, met]` cells of a new-task row: issue 18's target (`PER_TASK_TARGETS`) and
    whether the time `value` (ms) meets it against learn2learn's `learn2learn` (ms)."""
    if model not in PER_TASK_TARGETS:
        return ["", ""]
    text, compare, bound = PER_TASK_TARGETS[model]
    met = None if value is None or not learn2learn else compare(value / learn2learn, bound)
    return [text, tables.verdict(met)]


def inference_target(call, by_size):
    """`[target, met]` cells of an inference row from `{batch size: ms}` (`INFERENCE_TARGETS`;
    empty for a call without a target)."""
    if call not in INFERENCE_TARGETS:
        return ["", ""]
    size, bound = INFERENCE_TARGETS[call]
    value = by_size.get(size)
    return [f"b{size} <= {bound:g} ms", tables.verdict(None if value is None else value <= bound)]


def linear_fit(steps, milliseconds):
    """The least-squares line through `(steps, ms)` points: `(ms per step, intercept ms, R^2)`.

    R^2 is the fraction of the times' variance the line explains (1 for equal times).
    """
    steps, milliseconds = np.asarray(steps, float), np.asarray(milliseconds, float)
    slope, intercept = np.polyfit(steps, milliseconds, 1)
    residual = np.sum((milliseconds - (slope * steps + intercept)) ** 2)
    total = np.sum((milliseconds - milliseconds.mean()) ** 2)
    return float(slope), float(intercept), float(1.0 - residual / total) if total else 1.0


def sweep_table(sweeps):
    """The least-squares line through each `adapt()` sweep, against issue 18's linear target.

    Args:
        sweeps: `{model: [(steps, median ms), ...]}` from the adaptation rows of `SWEPT`.
    """
    rows = []
    for model, points in sweeps.items():
        steps = [count for count, _ in points]
        row = [model, f"{', '.join(map(str, steps))} {SWEPT[model]}"]
        if len(points) < 2:
            rows.append(row + ["-", "-", "-", "linear", tables.verdict(None)])
            continue
        slope, intercept, r2 = linear_fit(*zip(*points, strict=True))
        met = r2 >= LINEAR_R2 if len(points) > 2 else None  # two points fit any curve
        rows.append(
            row
            + [tables.number(slope, 2), tables.number(intercept, 1), f"{r2:.3f}", "linear"]
            + [tables.verdict(met)]
        )
    return tables.format_table(
        "adapt() cost against its number of steps",
        ["model", "steps", "ms per step", "intercept ms", "R^2", "target", "met"],
        rows,
        [
            "least-squares line through the adapt() medians above: ms = intercept + slope x "
            "steps; target: issue 18's, cost linear in the steps",
            f"met: R^2 >= {LINEAR_R2} over at least 3 step counts; never asserted",
        ],
    )


def _missing(note):
    note = note or ""
    return "not installed" if note.startswith("not installed") else "not available"
