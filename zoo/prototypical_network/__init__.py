from zoo.prototypical_network.prototype_classifier import PrototypeClassifier
from zoo.prototypical_network.prototypical_network import PrototypicalNetwork

__all__ = ["PrototypeClassifier", "PrototypicalNetwork"]
