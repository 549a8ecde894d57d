"""Raw-image preprocessing carried inside every model, so exported files take raw images."""

import keras
from keras import ops


def area_resize_matrix(in_size, out_size, dtype="float32"):
    """Box-filter (area) interpolation matrix of shape `[out_size, in_size]`.

    Row `i` averages the input pixels covered by the output pixel `i`, weighting each by the
    fraction of it that lies inside. Built from ops only, so `in_size` may be dynamic and the
    graph converts to ONNX (`Range` and elementwise ops). When `in_size == out_size` the matrix
    is exactly the identity.

    Args:
        in_size: input length (int or scalar tensor).
        out_size: output length (int).
        dtype: float dtype of the matrix.

    Returns:
        A tensor `[out_size, in_size]` whose rows sum to 1.
    """
    in_size = ops.cast(in_size, dtype)
    scale = in_size / out_size
    out_index = ops.cast(ops.arange(out_size), dtype)[:, None]
    in_index = ops.cast(ops.arange(ops.cast(in_size, "int32")), dtype)[None, :]
    start = out_index * scale
    end = start + scale
    overlap = ops.minimum(in_index + 1.0, end) - ops.maximum(in_index, start)
    return ops.maximum(overlap, 0.0) / scale


def area_resize(images, size):
    """Resizes `[n, H, W, C]` images to `[n, size, size, C]` by area averaging."""
    rows = area_resize_matrix(ops.shape(images)[1], size, images.dtype)
    cols = area_resize_matrix(ops.shape(images)[2], size, images.dtype)
    channels_first = ops.transpose(images, (0, 3, 1, 2))
    resized = ops.matmul(ops.matmul(rows, channels_first), ops.transpose(cols))
    return ops.transpose(resized, (0, 2, 3, 1))


@keras.saving.register_keras_serializable(package="metazoo")
class ImagePreprocessing(keras.layers.Layer):
    """Maps raw images to the network's input: resize, scale to [0, 1], invert.

    Raw images are what a data set's files decode to: `[n, H, W, C]`, values 0..255 (uint8 or
    float), any `H` and `W`; each channel is resized alike. Omniglot has black strokes on
    white, so `invert=True` makes strokes 1 and background 0, as in the papers' pipelines;
    natural (RGB) images are not inverted.

    Args:
        image_size: side of the square image the network sees (28 in the Vinyals protocol).
        invert: whether to map `v` to `1 - v` after scaling.
        channels: C, the channels of the images (1: grayscale, 3: RGB); the input of the
            classifiers `MetaLearner.adapt` builds on this layer.
    """

    def __init__(self, image_size=28, invert=True, channels=1, **kwargs):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        self.invert = bool(invert)
        self.channels = int(channels)

    def call(self, images):
        images = ops.cast(images, self.compute_dtype)
        images = area_resize(images, self.image_size) / 255.0
        return 1.0 - images if self.invert else images

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.image_size, self.image_size, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, invert=self.invert, channels=self.channels)
        return config
