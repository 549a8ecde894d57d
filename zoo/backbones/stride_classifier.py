"""Finn et al.'s Omniglot classifier: the stride-2 Conv-4 and a linear layer over N ways."""

import keras

from zoo.backbones.conv4 import conv4_backbone


def stride_conv4_classifier(ways, filters=64, blocks=4, image_size=28, conv_bias=True, channels=1):
    """Builds the network that MAML and Reptile adapt by gradient steps.

    `blocks` x [3x3 stride-2 convolution, batch normalization with the current batch's
    statistics, ReLU], a global average over space, then a dense layer of `ways` logits.
    Nichol et al.'s code uses the same blocks but flattens the last 2x2x64 map instead of
    averaging it.

    Reference:
        Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
        Networks", ICML 2017.

    Args:
        ways: the number of classes N of the output layer.
        filters: channels of each block.
        blocks: number of blocks.
        image_size: side of the square, preprocessed input.
        conv_bias: whether the convolutions add a bias (see `conv4_backbone`).
        channels: channels of the input.

    Returns:
        A `keras.Sequential` named `network` (`features`, then `classifier`) mapping
        `[n, image_size, image_size, channels]` to logits `[n, ways]`.
    """
    backbone = conv4_backbone(
        filters,
        blocks,
        downsampling="stride",
        normalization="batch_statistics",
        image_size=image_size,
        name="features",
        conv_bias=conv_bias,
        channels=channels,
    )
    return keras.Sequential([backbone, keras.layers.Dense(ways, name="classifier")], name="network")
