from zoo.backbones.conv4 import conv4_backbone, embedding_size
from zoo.backbones.sinusoid_mlp import sinusoid_mlp
from zoo.backbones.stride_classifier import stride_conv4_classifier
from zoo.layers import BatchNormalization, BatchStatisticsNormalization

__all__ = [
    "BatchStatisticsNormalization",
    "BatchNormalization",
    "conv4_backbone",
    "embedding_size",
    "sinusoid_mlp",
    "stride_conv4_classifier",
]
