from zoo.siamese_network.siamese_classifier import SiameseClassifier
from zoo.siamese_network.siamese_network import SiameseNetwork
from zoo.siamese_network.similarity import WeightedL1Similarity
from zoo.siamese_network.verification_loss import BalancedVerificationLoss

__all__ = [
    "BalancedVerificationLoss",
    "SiameseClassifier",
    "SiameseNetwork",
    "WeightedL1Similarity",
]
