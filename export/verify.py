"""Parity checks between a Keras model and its exported form."""

import numpy as np

from export.errors import ExportError

TOLERANCE = 1e-4
"""Largest accepted absolute difference between Keras and exported probabilities."""

DEFAULT_SHAPES = ((4, 105, 105), (3, 28, 28))
"""Default sample batches `(n, H, W)`: two batch sizes and two image sizes (Omniglot's raw
105x105 and the network's 28x28), so dynamic batch, height and width are all exercised."""


def raw_images(count, height, width, rng, channels=1):
    """Omniglot-like raw images: a few dark strokes (bars) on a white background.

    Args:
        count: number of images.
        height: image height.
        width: image width.
        rng: a `numpy.random.Generator`.
        channels: channels C of the images; with more than one, each bar has its own colour.

    Returns:
        A float32 array `[count, height, width, channels]` of integer values in 0..255.
    """
    images = np.full((count, height, width, channels), 255.0, dtype="float32")
    for image in images:
        for _ in range(3):
            top, left = rng.integers(0, height), rng.integers(0, width)
            tall, wide = rng.integers(1, height // 2 + 2), rng.integers(1, width // 2 + 2)
            colour = rng.integers(0, 64) if channels == 1 else rng.integers(0, 256, channels)
            image[top : top + tall, left : left + wide] = colour
    return images


def default_samples(signature, seed=0):
    """Deterministic batches of raw-looking images, at two batch sizes and two image sizes.

    Args:
        signature: the export's input spec `[None, H, W, C]`; a fixed `H` or `W` is used for
            every batch in place of the default sizes.
        seed: seed of the random generator.

    Returns:
        A list of float32 arrays `[n, H, W, C]` (see `DEFAULT_SHAPES` and `raw_images`).
    """
    rng = np.random.default_rng(seed)
    if signature.shape.rank == 2:  # points [None, F] of a regression model: uniform in -5..5
        features = signature.shape[1]
        return [
            rng.uniform(-5.0, 5.0, (n, features)).astype("float32") for n, _, _ in DEFAULT_SHAPES
        ]
    _, height, width, channels = signature.shape.as_list()
    return [raw_images(n, height or h, width or w, rng, channels) for n, h, w in DEFAULT_SHAPES]


def check_samples(sample, signature):
    """Normalizes user samples to a list of float32 batches accepted by `signature`.

    Args:
        sample: `None` (use `default_samples`), one array `[n, H, W, C]`, or a list or tuple
            of such arrays (for instance at different image sizes).
        signature: the export's input spec.

    Returns:
        A non-empty list of float32 arrays.

    Raises:
        ValueError: when a batch is empty, not numeric, or does not fit the signature.
    """
    if sample is None:
        return default_samples(signature)
    batches = list(sample) if isinstance(sample, list | tuple) else [sample]
    if not batches:
        raise ValueError("sample is empty: give at least one batch of images [n, H, W, C]")
    checked = []
    for index, batch in enumerate(batches):
        try:
            array = np.asarray(batch, dtype="float32")
        except (TypeError, ValueError) as error:
            raise ValueError(f"sample batch {index} is not numeric: {error}") from error
        if (
            array.ndim != signature.shape.rank
            or array.shape[0] == 0
            or not signature.shape.is_compatible_with(array.shape)
        ):
            raise ValueError(
                f"sample batch {index} has shape {array.shape}: expected a non-empty batch "
                f"compatible with {signature.shape.as_list()}"
            )
        checked.append(array)
    return checked


def max_abs_difference(model, run_exported, samples, what):
    """Runs the Keras model and the exported artifact on `samples` and compares them.

    Each batch is passed whole (no re-batching), since a model may normalize with the
    statistics of its batch.

    Args:
        model: the Keras model.
        run_exported: a function from a float32 batch to the exported probabilities.
        samples: batches from `check_samples`.
        what: a name of the artifact for error messages, e.g. `"ONNX model"`.

    Returns:
        The largest absolute difference of probabilities over all batches, as a float.

    Raises:
        ExportError: when shapes differ, a difference is not finite, or it exceeds `TOLERANCE`.
    """
    worst = 0.0
    for index, batch in enumerate(samples):
        expected = np.asarray(model(batch, training=False))
        actual = np.asarray(run_exported(batch))
        if expected.shape != actual.shape:
            raise ExportError(
                f"the {what} returns shape {actual.shape} where the Keras model returns "
                f"{expected.shape} (sample batch {index} of shape {batch.shape})"
            )
        difference = float(np.max(np.abs(expected.astype("float64") - actual)))
        if not difference <= TOLERANCE:
            raise ExportError(
                f"the {what} disagrees with the Keras model: max abs difference of "
                f"probabilities {difference:.3g} > tolerance {TOLERANCE:g} (sample batch "
                f"{index} of shape {batch.shape})"
            )
        worst = max(worst, difference)
    return worst
