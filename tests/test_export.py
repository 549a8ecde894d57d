"""Tests of `export`: samples, atomic writes, input checks.

Parity of each learner's exported classifier with Keras is part of the contract suite
(test_contract.py).
"""

import os

import keras
import numpy as np
import onnx
import pytest
from contract_learners import meta_trained, sharp_classifier

import export.onnx
import export.saved_model
import zoo
from export import ExportError, ExportResult, to_onnx, to_saved_model, verify
from export.verify import raw_images

WAYS = 3
EXPORTERS = {"onnx": (to_onnx, "model.onnx"), "saved_model": (to_saved_model, "model")}


@pytest.fixture(scope="module")
def adapted_protonet():
    """A tiny Prototypical Network meta-trained on a task and adapted to it."""
    classifier, _ = sharp_classifier(meta_trained("protonet"))
    return classifier


def small_model(input_shape):
    """A minimal softmax model with the given input shape (no batch axis)."""
    inputs = keras.Input(input_shape)
    features = keras.layers.Flatten()(inputs) if None not in input_shape else inputs
    return keras.Model(inputs, keras.layers.Dense(WAYS, activation="softmax")(features))


# -- samples (parity of every learner's export is in test_contract.py) -------------------------
def test_fixed_size_model_exports_with_fixed_size_samples(tmp_path):
    model = small_model((28, 28, 1))

    result = to_onnx(model, tmp_path / "fixed.onnx")

    assert result.max_abs_diff <= 1e-4
    shape = onnx.load(result.path).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in shape[1:]] == [28, 28, 1]


def test_custom_sample_and_no_verification(adapted_protonet, tmp_path):
    sample = [raw_images(2, 40, 30, np.random.default_rng(3)), np.full((1, 28, 28, 1), 255)]

    verified = to_onnx(adapted_protonet, tmp_path / "a.onnx", sample=sample)
    unverified = to_saved_model(adapted_protonet, tmp_path / "b", verify=False)

    assert isinstance(verified, ExportResult) and isinstance(unverified, ExportResult)
    assert verified.path == str(tmp_path / "a.onnx") and os.path.isfile(verified.path)
    assert verified.max_abs_diff <= 1e-4
    assert unverified.max_abs_diff is None
    assert os.path.isdir(unverified.path)


# -- atomic writes -----------------------------------------------------------------------------
def test_failed_onnx_write_leaves_nothing(adapted_protonet, tmp_path, monkeypatch):
    def write_half_then_fail(proto, path):
        with open(path, "wb") as file:
            file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(export.onnx.onnx, "save_model", write_half_then_fail)

    with pytest.raises(OSError, match="disk full"):
        to_onnx(adapted_protonet, tmp_path / "model.onnx")
    assert os.listdir(tmp_path) == []


def test_failed_saved_model_write_leaves_nothing(adapted_protonet, tmp_path, monkeypatch):
    def write_half_then_fail(model, path, signature):
        os.makedirs(os.path.join(path, "variables"))
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(export.saved_model, "write_saved_model", write_half_then_fail)

    with pytest.raises(ExportError, match="converter crashed"):
        to_saved_model(adapted_protonet, tmp_path / "model")
    assert os.listdir(tmp_path) == []


def test_failed_onnx_conversion_leaves_nothing(adapted_protonet, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise ValueError("unsupported op Foo")

    monkeypatch.setattr(export.onnx.tf2onnx.convert, "from_function", fail)

    with pytest.raises(ExportError, match="tf2onnx could not convert.*unsupported op Foo"):
        to_onnx(adapted_protonet, tmp_path / "model.onnx")
    assert os.listdir(tmp_path) == []


def test_unmapped_tensorflow_ops_are_named(adapted_protonet, tmp_path, monkeypatch):
    # tf2onnx does not fail on ops it cannot map: it leaves them in the graph under their
    # TensorFlow name, which onnxruntime would only reject later with a cryptic message.
    tensor = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("MatrixInverse", ["images"], ["probabilities"])],
        "unmapped",
        [tensor("images", onnx.TensorProto.FLOAT, None)],
        [tensor("probabilities", onnx.TensorProto.FLOAT, None)],
    )
    converted = onnx.helper.make_model(graph)
    monkeypatch.setattr(
        export.onnx.tf2onnx.convert, "from_function", lambda *args, **kwargs: (converted, None)
    )

    with pytest.raises(ExportError, match="could not map .* to ONNX: MatrixInverse"):
        to_onnx(adapted_protonet, tmp_path / "model.onnx")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", EXPORTERS)
def test_failed_verification_keeps_old_target_and_success_replaces_it(
    kind, adapted_protonet, tmp_path, monkeypatch
):
    exporter, name = EXPORTERS[kind]
    target = tmp_path / name
    monkeypatch.setattr(verify, "TOLERANCE", -1.0)  # every difference, even 0, is too large

    with pytest.raises(ExportError, match="max abs difference of probabilities"):
        exporter(adapted_protonet, target)
    assert os.listdir(tmp_path) == []

    marker = target / "saved_model.pb" if kind == "saved_model" else target
    marker.parent.mkdir(exist_ok=True)
    marker.write_bytes(b"old")
    with pytest.raises(ExportError, match="disagrees with the Keras model"):
        exporter(adapted_protonet, target)
    assert marker.read_bytes() == b"old"
    assert os.listdir(tmp_path) == [name]

    monkeypatch.undo()
    result = exporter(adapted_protonet, target)
    assert result.max_abs_diff <= 1e-4
    assert marker.read_bytes() != b"old"
    assert os.listdir(tmp_path) == [name]


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", EXPORTERS)
@pytest.mark.parametrize("not_a_model", ["model.keras", keras.layers.Dense(3), lambda x: x])
def test_rejects_non_keras_models(kind, not_a_model, tmp_path):
    exporter, name = EXPORTERS[kind]
    with pytest.raises(TypeError, match="expected a keras.Model"):
        exporter(not_a_model, tmp_path / name)


@pytest.mark.parametrize("kind", EXPORTERS)
def test_rejects_the_meta_learner_itself(kind, tmp_path):
    exporter, name = EXPORTERS[kind]
    with pytest.raises(ValueError, match=r"no defined input.*adapt"):
        exporter(zoo.PrototypicalNetwork(filters=8), tmp_path / name)


@pytest.mark.parametrize("kind", EXPORTERS)
@pytest.mark.parametrize("input_shape", [(28, 28), (4, 28, 28, 1)])
def test_rejects_inputs_that_are_not_batches_of_images(kind, input_shape, tmp_path):
    exporter, name = EXPORTERS[kind]
    with pytest.raises(ValueError, match=r"expected a batch of images \[None, H, W, C\]"):
        exporter(small_model(input_shape), tmp_path / name)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", EXPORTERS)
def test_rejects_a_missing_parent_folder(kind, adapted_protonet, tmp_path):
    exporter, name = EXPORTERS[kind]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        exporter(adapted_protonet, tmp_path / "missing" / name)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", EXPORTERS)
@pytest.mark.parametrize(
    "sample", [np.zeros((2, 28, 28)), np.zeros((2, 28, 28, 3)), np.zeros((0, 28, 28, 1)), []]
)
def test_rejects_bad_samples(kind, sample, adapted_protonet, tmp_path):
    exporter, name = EXPORTERS[kind]
    with pytest.raises(ValueError, match="sample"):
        exporter(adapted_protonet, tmp_path / name, sample=sample)
    assert os.listdir(tmp_path) == []


def test_rejects_a_non_integer_opset(adapted_protonet, tmp_path):
    with pytest.raises(TypeError, match="opset"):
        to_onnx(adapted_protonet, tmp_path / "model.onnx", opset="15")


def test_will_not_write_a_file_over_a_folder(adapted_protonet, tmp_path):
    (tmp_path / "model.onnx").mkdir()
    with pytest.raises(IsADirectoryError):
        to_onnx(adapted_protonet, tmp_path / "model.onnx")


def test_will_not_replace_a_folder_that_is_not_a_saved_model(adapted_protonet, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a SavedModel"):
        to_saved_model(adapted_protonet, tmp_path / "model")
    assert (tmp_path / "model" / "notes.txt").read_text() == "keep me"
