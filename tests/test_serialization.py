"""Configs and `.keras` files of the learners, their layers and adapted classifiers."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_maml, tiny_protonet, weights_of

import zoo

LEARNERS = {
    "protonet": lambda: zoo.PrototypicalNetwork(
        filters=8, blocks=3, image_size=16, invert=False, name="my_protonet"
    ),
    "maml": lambda: zoo.MAML(
        ways=4,
        filters=6,
        blocks=2,
        image_size=12,
        invert=False,
        inner_steps=2,
        eval_inner_steps=5,
        inner_learning_rate=0.1,
        first_order=True,
        name="my_maml",
    ),
}
TINY = {"protonet": tiny_protonet, "maml": tiny_maml}


@pytest.mark.parametrize("kind", sorted(LEARNERS))
def test_learner_config_round_trip(kind):
    learner = LEARNERS[kind]()
    config = learner.get_config()
    assert config["name"] == f"my_{kind}"
    assert config["invert"] is False
    copy = type(learner).from_config(config)
    assert copy.get_config() == config
    serialized = keras.saving.serialize_keras_object(learner)
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(learner)
    assert restored.get_config() == config
    if kind == "maml":
        assert (restored.inner_steps, restored.eval_inner_steps) == (2, 5)
        assert restored.inner_learning_rate == 0.1 and restored.first_order is True
        assert restored.fixed_ways == 4


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


def compiled_and_trained(kind, episode, labels):
    """A tiny learner, compiled and trained a step, so the optimizer has state to save."""
    keras.utils.set_random_seed(0)
    learner = TINY[kind]()
    learner.compile(optimizer=keras.optimizers.Adam(1e-3))
    learner.fit(tf.data.Dataset.from_tensors((episode, labels)), epochs=1, verbose=0)
    return learner


@pytest.mark.parametrize("kind", sorted(TINY))
def test_keras_file_round_trip_of_a_compiled_learner(kind, episode, tmp_path):
    episode, labels = episode
    learner = compiled_and_trained(kind, episode, labels)
    path = str(tmp_path / "learner.keras")
    learner.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(learner)
    assert loaded.get_config() == learner.get_config()
    for old, new in zip(weights_of(learner), weights_of(loaded), strict=True):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(loaded(episode), learner(episode))
    # The optimizer comes back with its state: training can go on where it stopped.
    assert int(loaded.optimizer.iterations) == int(learner.optimizer.iterations) == 1
    for old, new in zip(learner.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(old, new)
    loaded.fit(tf.data.Dataset.from_tensors((episode, labels)), epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations) == 2


@pytest.mark.parametrize("kind", sorted(TINY))
def test_keras_file_round_trip_of_an_adapted_classifier(kind, episode, tmp_path):
    episode, _ = episode
    keras.utils.set_random_seed(0)
    classifier = TINY[kind]().adapt(episode["support_images"], episode["support_labels"])
    path = str(tmp_path / "classifier.keras")
    classifier.save(path)
    loaded = keras.saving.load_model(path)
    queries = episode["query_images"]
    np.testing.assert_array_equal(loaded(queries), classifier(queries))
    # Raw images of another size go through the same preprocessing.
    larger = np.repeat(np.repeat(queries, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(loaded(larger), classifier(queries), rtol=1e-5, atol=1e-6)
