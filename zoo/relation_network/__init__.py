from zoo.relation_network.relation_classifier import RelationClassifier
from zoo.relation_network.relation_loss import RelationMeanSquaredError
from zoo.relation_network.relation_network import RelationNetwork

__all__ = ["RelationClassifier", "RelationMeanSquaredError", "RelationNetwork"]
