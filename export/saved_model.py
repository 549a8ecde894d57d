"""Export to a TensorFlow SavedModel with a `serving_default` signature."""

import keras
import tensorflow as tf

from export.destination import check_destination
from export.errors import ExportError
from export.result import ExportResult
from export.signature import INPUT_NAME, OUTPUT_NAME, image_signature
from export.verify import check_samples, max_abs_difference
from zoo.files import atomic_destination


def write_saved_model(model, path, signature):
    """Writes `model` as a SavedModel whose signature maps `images` to `probabilities`.

    Args:
        model: a Keras model from images to probabilities.
        path: the folder to create.
        signature: the input spec from `image_signature`.
    """

    def serve(images):
        return {OUTPUT_NAME: model(images, training=False)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serve, input_signature=[signature])
    archive.write_out(path, verbose=False)


def saved_model_runner(path):
    """Loads a SavedModel and returns a function from a float32 batch to probabilities."""
    serving = tf.saved_model.load(path).signatures["serving_default"]
    return lambda batch: serving(**{INPUT_NAME: tf.constant(batch)})[OUTPUT_NAME].numpy()


def to_saved_model(model, path, verify=True, sample=None):
    """Exports a Keras classifier to a TensorFlow SavedModel folder, atomically.

    The SavedModel has a `serving_default` signature (also the `serve` endpoint) taking a
    float32 tensor `images` `[None, H, W, C]` of raw pixel values (H and W dynamic for the
    classifiers `MetaLearner.adapt` returns) and returning `probabilities` `[None, N]`. It
    loads with `tf.saved_model.load` alone, without metazoo or Keras custom objects.

    The folder is built beside `path` and renamed onto it only once written and verified; on
    any failure nothing is left at `path` (an existing SavedModel there is kept).

    Args:
        model: a `keras.Model` from images `[None, H, W, C]` to probabilities, e.g.
            `learner.adapt(support_images, support_labels)`.
        path: the SavedModel folder to write. Its parent must exist; an existing SavedModel
            or empty folder there is replaced.
        verify: whether to check that the SavedModel's probabilities match the Keras model's
            within `export.verify.TOLERANCE` (1e-4).
        sample: verification inputs: an array `[n, H, W, C]` or a list of them; by default
            two deterministic random batches at 105x105 and 28x28. Unused if not `verify`.

    Returns:
        An `ExportResult` with the absolute path and the measured max abs difference.

    Raises:
        TypeError: when `model` is not a `keras.Model`.
        ValueError: when the model's input is not `[None, H, W, C]`, or `sample` does not fit.
        FileNotFoundError: when the parent folder of `path` does not exist.
        FileExistsError: when `path` is a file or a non-empty folder that is not a SavedModel.
        ExportError: when writing fails or verification finds a difference above tolerance.
    """
    signature = image_signature(model)
    samples = check_samples(sample, signature) if verify else None
    target = check_destination(path, folder=True)
    difference = None
    with atomic_destination(target) as temporary:
        try:
            write_saved_model(model, temporary, signature)
        except Exception as error:
            raise ExportError(f"writing the SavedModel failed: {error}") from error
        if verify:
            difference = max_abs_difference(
                model, saved_model_runner(temporary), samples, "SavedModel"
            )
    return ExportResult(target, difference)
