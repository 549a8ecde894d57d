"""Export to an ONNX file with tf2onnx."""

import onnx
import onnxruntime
import tensorflow as tf
import tf2onnx

from export.destination import check_destination
from export.errors import ExportError
from export.result import ExportResult
from export.signature import INPUT_NAME, OUTPUT_NAME, image_signature
from export.verify import check_samples, max_abs_difference
from zoo.files import atomic_destination


def _graphs(graph):
    """The graph and every subgraph nested in its nodes' attributes."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(attribute.g)
            for subgraph in attribute.graphs:
                yield from _graphs(subgraph)


def unsupported_ops(proto):
    """Op types in the standard ONNX domain that ONNX does not define.

    tf2onnx keeps going when it cannot map a TensorFlow op and leaves the op in the graph
    under its TensorFlow name; this finds them.
    """
    return sorted(
        {
            node.op_type
            for graph in _graphs(proto.graph)
            for node in graph.node
            if node.domain in ("", "ai.onnx") and not onnx.defs.has(node.op_type)
        }
    )


def convert(model, signature, opset=None):
    """Converts a Keras model to an ONNX `ModelProto` with input `images`, output `probabilities`.

    Args:
        model: a Keras model from images to probabilities.
        signature: the input spec from `image_signature`.
        opset: the ONNX opset, or None for tf2onnx's default.

    Returns:
        A checked `onnx.ModelProto`.

    Raises:
        ExportError: when tf2onnx fails, leaves ops it could not map, or the result is invalid.
    """

    @tf.function(input_signature=[signature])
    def serve(images):
        return {OUTPUT_NAME: model(images, training=False)}

    try:
        proto, _ = tf2onnx.convert.from_function(serve, input_signature=[signature], opset=opset)
    except Exception as error:
        raise ExportError(f"tf2onnx could not convert model {model.name!r}: {error}") from error
    missing = unsupported_ops(proto)
    if missing:
        raise ExportError(
            f"tf2onnx could not map these TensorFlow ops of model {model.name!r} to ONNX: "
            f"{', '.join(missing)}"
        )
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as error:
        raise ExportError(f"the converted ONNX model is invalid: {error}") from error
    return proto


def onnx_runner(path):
    """Opens an ONNX file with onnxruntime; returns a function from a batch to probabilities."""
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return lambda batch: session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]


def to_onnx(model, path, verify=True, sample=None, opset=None):
    """Exports a Keras classifier to an ONNX file, atomically.

    The ONNX graph has one float32 input `images` `[batch, H, W, C]` of raw pixel values, with
    dynamic batch, height and width (for the classifiers `MetaLearner.adapt` returns), and one
    output `probabilities` `[batch, N]`.

    The file is written beside `path` and renamed onto it only once converted and verified; on
    any failure nothing is left at `path` (an existing file there is kept).

    Args:
        model: a `keras.Model` from images `[None, H, W, C]` to probabilities, e.g.
            `learner.adapt(support_images, support_labels)`.
        path: the `.onnx` file to write. Its parent must exist; an existing file is replaced.
        verify: whether to check with onnxruntime that the file's probabilities match the
            Keras model's within `export.verify.TOLERANCE` (1e-4).
        sample: verification inputs: an array `[n, H, W, C]` or a list of them; by default
            two deterministic random batches at 105x105 and 28x28. Unused if not `verify`.
        opset: the ONNX opset to target, or None for tf2onnx's default.

    Returns:
        An `ExportResult` with the absolute path and the measured max abs difference.

    Raises:
        TypeError: when `model` is not a `keras.Model` or `opset` is not an int.
        ValueError: when the model's input is not `[None, H, W, C]`, or `sample` does not fit.
        FileNotFoundError: when the parent folder of `path` does not exist.
        IsADirectoryError: when `path` is an existing folder.
        ExportError: when conversion fails or verification finds a difference above tolerance.
    """
    signature = image_signature(model)
    if opset is not None and (isinstance(opset, bool) or not isinstance(opset, int)):
        raise TypeError(f"opset must be an int or None, got {opset!r}")
    samples = check_samples(sample, signature) if verify else None
    target = check_destination(path, folder=False)
    difference = None
    with atomic_destination(target) as temporary:
        proto = convert(model, signature, opset)
        onnx.save_model(proto, temporary)
        if verify:
            difference = max_abs_difference(model, onnx_runner(temporary), samples, "ONNX model")
    return ExportResult(target, difference)
