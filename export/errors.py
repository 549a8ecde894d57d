"""The error raised when an export cannot be completed or does not match its model."""


class ExportError(RuntimeError):
    """A conversion failed or the exported artifact disagrees with the Keras model.

    Nothing is left at the target path when this is raised: exports are atomic.
    """
