from zoo.layers.batch_normalization import BatchNormalization
from zoo.layers.batch_statistics_normalization import BatchStatisticsNormalization

__all__ = ["BatchStatisticsNormalization", "BatchNormalization"]
