from zoo.meta_networks.augmented_layers import AugmentedConv2D, AugmentedDense
from zoo.meta_networks.augmented_network import AugmentedNetwork
from zoo.meta_networks.meta_network import MetaNetwork
from zoo.meta_networks.meta_network_classifier import MetaNetworkClassifier
from zoo.meta_networks.weight_generators import ExampleWeightGenerator, TaskWeightGenerator

__all__ = [
    "AugmentedConv2D",
    "AugmentedDense",
    "AugmentedNetwork",
    "ExampleWeightGenerator",
    "MetaNetwork",
    "MetaNetworkClassifier",
    "TaskWeightGenerator",
]
