from zoo.layers.batch_normalization import BatchNormalization
from zoo.layers.batch_statistics_normalization import BatchStatisticsNormalization
from zoo.layers.cosine_attention import cosine_attention, cosine_similarity
from zoo.layers.gradient_preprocessing import GradientPreprocessing
from zoo.layers.network_copy import NetworkCopy

__all__ = [
    "BatchStatisticsNormalization",
    "BatchNormalization",
    "GradientPreprocessing",
    "NetworkCopy",
    "cosine_attention",
    "cosine_similarity",
]
