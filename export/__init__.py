"""Export of adapted meta-learners to SavedModel and ONNX, atomic and verified.

Both exporters take the `keras.Model` that `MetaLearner.adapt` returns (raw images
`[n, H, W, C]` to probabilities `[n, N]`), write the artifact beside the target and move it
into place only after it has been checked against the Keras model.

Example:
    >>> classifier = learner.adapt(support_images, support_labels)
    >>> result = to_onnx(classifier, "task.onnx")
    >>> result.max_abs_diff <= 1e-4
    True
"""

from export.errors import ExportError
from export.onnx import to_onnx
from export.result import ExportResult
from export.saved_model import to_saved_model

__all__ = ["ExportError", "ExportResult", "to_onnx", "to_saved_model"]
