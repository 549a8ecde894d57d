from zoo.layers.batch_normalization import BatchNormalization
from zoo.layers.batch_statistics_normalization import BatchStatisticsNormalization
from zoo.layers.network_copy import NetworkCopy

__all__ = ["BatchStatisticsNormalization", "BatchNormalization", "NetworkCopy"]
