from zoo.backbones.conv4 import BatchStatisticsNormalization, conv4_backbone, embedding_size

__all__ = ["BatchStatisticsNormalization", "conv4_backbone", "embedding_size"]
