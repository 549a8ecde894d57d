"""The four-block convolutional embedding shared by the few-shot papers."""

import keras

from zoo.layers import BatchNormalization, BatchStatisticsNormalization


def conv4_backbone(
    filters=64,
    blocks=4,
    downsampling="max_pool",
    normalization="batch",
    image_size=28,
    name="conv4",
    pooled_blocks=None,
    padding="same",
    flatten=True,
    channels=1,
    conv_bias=True,
):
    """Builds the Conv-4 embedding: `blocks` x [3x3 conv, batch norm, ReLU, downsample].

    Three variants from the papers:
        - `downsampling="max_pool"`: 2x2 max-pooling after each block (Vinyals et al.; Snell et
          al.), 28x28 -> 1x1x64.
        - `downsampling="stride"`: stride-2 convolutions without pooling (Finn et al. on
          Omniglot), then a global average over space, 28x28 -> 64.
        - `pooled_blocks=2, padding=("valid", "valid", "same", "same"), flatten=False`: Sung et
          al.'s embedding, max-pooling after the first two blocks only, feature maps kept,
          28x28 -> 5x5x64.

    Reference:
        Vinyals et al., "Matching Networks for One Shot Learning", NeurIPS 2016.

    Args:
        filters: channels of every convolution.
        blocks: number of blocks.
        downsampling: `"max_pool"` or `"stride"`.
        normalization: `"batch"` (running statistics at inference) or `"batch_statistics"`
            (always the current batch's statistics, as MAML does).
        image_size: side of the square, preprocessed input.
        name: the model's name.
        pooled_blocks: with `"max_pool"`, how many of the first blocks pool (default: all).
        padding: the convolutions' padding, one for all blocks or a sequence of one per block.
        flatten: flatten the last feature map into a vector (else keep `[n, h, w, filters]`).
        channels: channels of the input.
        conv_bias: whether the convolutions add a bias. Normalization subtracts each
            channel's mean right after, so the bias never changes an output; Adam, which
            divides a gradient by its own scale, would move it by the rounding noise of its
            zero gradient (Reptile builds it without).

    Returns:
        A `keras.Sequential` mapping `[n, image_size, image_size, channels]` to `[n, features]`
        (or to feature maps when `flatten=False`).
    """
    if downsampling not in ("max_pool", "stride"):
        raise ValueError(f"downsampling must be 'max_pool' or 'stride', got {downsampling!r}")
    if normalization not in ("batch", "batch_statistics"):
        raise ValueError(
            f"normalization must be 'batch' or 'batch_statistics', got {normalization!r}"
        )
    paddings = [padding] * blocks if isinstance(padding, str) else list(padding)
    if len(paddings) != blocks:
        raise ValueError(f"padding has {len(paddings)} entries for {blocks} blocks")
    pooled_blocks = blocks if pooled_blocks is None else int(pooled_blocks)
    layers = [keras.Input((image_size, image_size, channels))]
    for index in range(blocks):
        strides = 2 if downsampling == "stride" else 1
        layers.append(
            keras.layers.Conv2D(
                filters,
                3,
                strides=strides,
                padding=paddings[index],
                use_bias=conv_bias,
                name=f"conv{index}",
            )
        )
        if normalization == "batch":
            layers.append(BatchNormalization(momentum=0.9, name=f"norm{index}"))
        else:
            layers.append(BatchStatisticsNormalization(name=f"norm{index}"))
        layers.append(keras.layers.ReLU(name=f"relu{index}"))
        if downsampling == "max_pool" and index < pooled_blocks:
            layers.append(keras.layers.MaxPooling2D(2, name=f"pool{index}"))
    if downsampling == "stride":
        layers.append(keras.layers.GlobalAveragePooling2D(name="average"))
    elif flatten:
        layers.append(keras.layers.Flatten(name="flatten"))
    return keras.Sequential(layers, name=name)


def embedding_size(backbone):
    """Length of the feature vector a backbone produces."""
    return int(backbone.output_shape[-1])
