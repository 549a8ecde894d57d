"""metazoo: a Keras model zoo of meta-learners."""

from zoo.adapted_classifier import AdaptedClassifier
from zoo.backbones import BatchNormalization, BatchStatisticsNormalization, conv4_backbone
from zoo.gradient_learner import GradientLearner
from zoo.layers import NetworkCopy
from zoo.lstm_meta_learner import LSTMMetaLearner
from zoo.maml import MAML
from zoo.mann import MANN, MANNClassifier
from zoo.matching_network import MatchingClassifier, MatchingNetwork
from zoo.meta_learner import MetaLearner
from zoo.meta_networks import MetaNetwork, MetaNetworkClassifier
from zoo.metric_learner import MetricLearner
from zoo.preprocessing import ImagePreprocessing
from zoo.presets import list_presets, load_preset, preset_metadata
from zoo.prototypical_network import PrototypeClassifier, PrototypicalNetwork
from zoo.relation_network import RelationClassifier, RelationMeanSquaredError, RelationNetwork
from zoo.reptile import Reptile
from zoo.siamese_network import (
    BalancedVerificationLoss,
    SiameseClassifier,
    SiameseNetwork,
    WeightedL1Similarity,
)
from zoo.validation import EpisodeError

__version__ = "0.1.0"

__all__ = [
    "AdaptedClassifier",
    "BalancedVerificationLoss",
    "BatchNormalization",
    "BatchStatisticsNormalization",
    "EpisodeError",
    "GradientLearner",
    "ImagePreprocessing",
    "LSTMMetaLearner",
    "MAML",
    "MANN",
    "MANNClassifier",
    "MatchingClassifier",
    "MatchingNetwork",
    "MetaLearner",
    "MetaNetwork",
    "MetaNetworkClassifier",
    "MetricLearner",
    "NetworkCopy",
    "PrototypeClassifier",
    "PrototypicalNetwork",
    "RelationClassifier",
    "RelationMeanSquaredError",
    "RelationNetwork",
    "Reptile",
    "SiameseClassifier",
    "SiameseNetwork",
    "WeightedL1Similarity",
    "conv4_backbone",
    "list_presets",
    "load_preset",
    "preset_metadata",
]
