"""Latency of `adapt()` and of the adapted classifier: Keras calls against onnxruntime.

Tasks are 5-way 1-shot with raw 105x105 images (Omniglot's size; the models resize them).
MAML adapts with its presets' 3 evaluation inner steps; the FCE Matching Network's adapted
classifier reads the support set K = 2 times per query. The adapted classifiers are timed on
batches of raw 105x105 images: `model(x)` run eagerly, `predict_on_batch`, a `tf.function`
with input signature `[None, None, None, 1]` float32, and onnxruntime on the ONNX file that
`export.to_onnx` writes (or, if that is unavailable, `tf2onnx.convert.from_function` on the
same `tf.function`).
"""

import os
import tempfile

import numpy as np
import tensorflow as tf

import zoo
from benchmarks import synthetic, tables

SIDE = 105
WAYS, SHOTS = 5, 1
BATCHES = (1, 75)
MAML_SETTINGS = {"ways": WAYS, "inner_steps": 1, "eval_inner_steps": 3, "inner_learning_rate": 0.4}
MATCHING_READ_STEPS = 2
ADAPTATION = {
    "ProtoNet": "embed support, prototypes",
    "MatchingNet": "embed support",
    "MatchingNet FCE": "embed support, bidirectional LSTM",
}
SEPARATOR = " | "


def learners():
    """MAML (the presets' settings), a Prototypical Network and the simple and FCE Matching
    Networks (the recipes' K = 2 reads), with fresh random weights."""
    maml = zoo.MAML(**MAML_SETTINGS)
    maml.build_for_episode(WAYS, SHOTS)
    protonet = zoo.PrototypicalNetwork()
    protonet.build_for_episode(WAYS, SHOTS)
    matching = zoo.MatchingNetwork()
    matching.build_for_episode(WAYS, SHOTS)
    matching_fce = zoo.MatchingNetwork(fce=True, read_steps=MATCHING_READ_STEPS)
    matching_fce.build_for_episode(WAYS, SHOTS)
    return {
        "MAML": maml,
        "ProtoNet": protonet,
        "MatchingNet": matching,
        "MatchingNet FCE": matching_fce,
    }


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


def build():
    """Builder of the worker: adapt calls and classifier calls, named `model | call | batch`."""
    episode, _ = synthetic.episode(WAYS, SHOTS, 1, SIDE)
    support, labels = episode["support_images"], episode["support_labels"]
    rng = np.random.default_rng(1)
    batches = {size: synthetic.raw_images(size, SIDE, rng) for size in BATCHES}
    steps, notes = {}, {}
    directory = tempfile.mkdtemp(prefix="metazoo-bench-")
    for name, learner in learners().items():
        steps[SEPARATOR.join([name, "adapt()", str(WAYS * SHOTS)])] = lambda learner=learner: (
            learner.adapt(support, labels)
        )
        model = learner.adapt(support, labels)
        serve = tf.function(
            lambda images, model=model: model(images, training=False),
            input_signature=[tf.TensorSpec((None, None, None, 1), tf.float32)],
        )
        session, notes["onnx"] = onnx_session(model, directory)
        input_name = session.get_inputs()[0].name
        for size, images in batches.items():
            tensor = tf.constant(images)
            calls = {
                "Keras model(x), eager": lambda m=model, t=tensor: m(t, training=False).numpy(),
                "Keras predict_on_batch": lambda m=model, x=images: m.predict_on_batch(x),
                "tf.function": lambda f=serve, t=tensor: f(t).numpy(),
                "onnxruntime": lambda s=session, x=images, i=input_name: s.run(None, {i: x}),
            }
            for call, function in calls.items():
                steps[SEPARATOR.join([name, call, str(size)])] = function
    return steps, notes


def tables_text(milliseconds, notes, repeats):
    """The adapt table and the inference table from `{step name: median ms}`."""
    adapt_rows, inference = [], {}
    for name, value in milliseconds.items():
        model, call, size = name.split(SEPARATOR)
        if call == "adapt()":
            steps = MAML_SETTINGS["eval_inner_steps"]
            detail = f"{steps} inner steps" if model == "MAML" else ADAPTATION[model]
            adapt_rows.append([model, detail, tables.number(value, 1)])
        else:
            inference.setdefault((model, call), {})[int(size)] = value
    text = tables.format_table(
        "adapt() latency",
        ["model", "adaptation", "ms"],
        adapt_rows,
        [
            f"{WAYS}-way {SHOTS}-shot, raw {SIDE}x{SIDE} support images, returns a Keras "
            f"classifier; median of {repeats} repeats"
        ],
    )
    rows = []
    for (model, call), by_size in inference.items():
        onnx = inference.get((model, "onnxruntime"), {})
        row = [model, call]
        for size in BATCHES:
            row.append(tables.number(by_size.get(size), 2))
        for size in BATCHES:
            row.append(tables.ratio(by_size.get(size), onnx.get(size)))
        rows.append(row)
    headers = ["model", "call"] + [f"batch {size} ms" for size in BATCHES]
    headers += [f"vs ORT b{size}" for size in BATCHES]
    text += "\n" + tables.format_table(
        "Adapted classifier inference latency",
        headers,
        rows,
        [
            f"raw {SIDE}x{SIDE} images in, probabilities out; median of {repeats} repeats; "
            "'vs ORT': time relative to onnxruntime (>1: slower than ONNX)",
            f"ONNX file: {notes.get('onnx', '?')}",
        ],
    )
    return text
