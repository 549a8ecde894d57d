"""What a successful export returns."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportResult:
    """The outcome of a successful export.

    Attributes:
        path: absolute path of the written artifact (an `.onnx` file or a SavedModel folder).
        max_abs_diff: largest absolute difference between the probabilities of the Keras model
            and of the exported artifact over the verification samples, or `None` when the
            export was not verified.
    """

    path: str
    max_abs_diff: float | None
