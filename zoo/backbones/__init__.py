from zoo.backbones.conv4 import conv4_backbone, embedding_size
from zoo.backbones.stride_classifier import stride_conv4_classifier
from zoo.layers import BatchNormalization, BatchStatisticsNormalization

__all__ = [
    "BatchStatisticsNormalization",
    "BatchNormalization",
    "conv4_backbone",
    "embedding_size",
    "stride_conv4_classifier",
]
