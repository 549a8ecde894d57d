from zoo.reptile.reptile import Reptile

__all__ = ["Reptile"]
