from zoo.maml.maml import MAML

__all__ = ["MAML"]
