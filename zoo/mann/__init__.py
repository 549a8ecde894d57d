from zoo.mann.lrua import LeastRecentlyUsedAccess
from zoo.mann.mann import MANN
from zoo.mann.mann_cell import MANNCell, MemoryState
from zoo.mann.mann_classifier import MANNClassifier
from zoo.mann.ntm import NTMAddressing

__all__ = [
    "LeastRecentlyUsedAccess",
    "MANN",
    "MANNCell",
    "MANNClassifier",
    "MemoryState",
    "NTMAddressing",
]
