"""Configs of the zoo's layers (the learners' and adapted classifiers' are in test_contract.py)."""

import keras
import numpy as np
import pytest

import zoo

LAYERS = [
    (zoo.ImagePreprocessing(12, invert=False), (2, 20, 20, 1)),
    (zoo.BatchStatisticsNormalization(epsilon=1e-5), (4, 3, 3, 5)),
    (zoo.BatchNormalization(momentum=0.8), (4, 3, 3, 5)),
    (zoo.PrototypeClassifier(3, 7), (4, 7)),
]


@pytest.mark.parametrize("layer, shape", LAYERS, ids=lambda value: type(value).__name__)
def test_layer_config_round_trip_gives_the_same_outputs(layer, shape):
    inputs = np.random.default_rng(0).uniform(0, 255, shape).astype("float32")
    layer(inputs)
    for weight in layer.weights:
        weight.assign(np.random.default_rng(1).normal(size=weight.shape))
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()
    restored(inputs)
    restored.set_weights(layer.get_weights())
    np.testing.assert_array_equal(restored(inputs), layer(inputs))
