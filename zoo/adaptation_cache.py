"""What a meta-learner's `adapt` builds or traces once and reuses for every task."""

import collections

import keras
import tensorflow as tf


class AdaptationCache:
    """A learner's compiled functions, network structures and shared classifier passes.

    Held by `MetaLearner` out of Keras' tracking (nothing here is a weight of the learner):

    - compiled functions (`tf.function`, e.g. preprocessing, the support embedding or the
      inner loop), one per key, traced once per input shape and reused;
    - one private clone per network of the learner (and per transform of it), the structure
      its `NetworkCopy`s share;
    - one `SharedForward` per structure of adapted classifier (at most `size`, the least
      recently used dropped first).

    Args:
        size: how many classifier structures to keep.
    """

    def __init__(self, size=8):
        self.size = int(size)
        self._functions = {}
        self._networks = {}
        self._forwards = collections.OrderedDict()

    def function(self, key, python_function):
        """The `tf.function` of `python_function` stored under `key` (made on first use)."""
        if key not in self._functions:
            self._functions[key] = tf.function(python_function, reduce_retracing=True)
        return self._functions[key]

    def network(self, network, transform=None):
        """A private clone of `network`, made on first use.

        Args:
            network: one of the learner's networks.
            transform: makes the clone from `network` (e.g. `keeping_statistics`); by
                default a clone of the same structure.
        """
        key = (id(network), transform)
        source, clone = self._networks.get(key, (None, None))
        if source is not network:
            clone = transform(network) if transform else keras.models.clone_model(network)
            self._networks[key] = (network, clone)
        return clone

    def forward(self, key, make):
        """The `SharedForward` stored under `key`, made by `make()` on first use."""
        if key in self._forwards:
            self._forwards.move_to_end(key)
        else:
            self._forwards[key] = make()
            while len(self._forwards) > self.size:
                self._forwards.popitem(last=False)
        return self._forwards[key]
