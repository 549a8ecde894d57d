from zoo.matching_network.context_embedding import AttentionLSTM, SupportContextEmbedding
from zoo.matching_network.matching_classifier import MatchingClassifier
from zoo.matching_network.matching_network import MatchingNetwork

__all__ = ["AttentionLSTM", "MatchingClassifier", "MatchingNetwork", "SupportContextEmbedding"]
