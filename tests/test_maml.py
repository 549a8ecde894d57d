"""MAML: the inner loop against plain SGD, the adapted classifier, fine-tuning it."""

import keras
import numpy as np
import tensorflow as tf
from conftest import (
    any_weight_changed,
    assert_adapted_matches_learner,
    assert_weights_equal,
    tiny_maml,
    weights_of,
)

from zoo.gradient_learner import cross_entropy


def sgd_adapted_probabilities(learner, episode, steps):
    """Probabilities of a copy of the network after `steps` plain SGD steps on the support."""
    network = keras.models.clone_model(learner.network)
    network.set_weights(learner.network.get_weights())
    support = 1.0 - np.asarray(episode["support_images"], "float32") / 255.0
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = cross_entropy(episode["support_labels"], network(support, training=True))
        gradients = tape.gradient(loss, network.trainable_variables)
        for variable, gradient in zip(network.trainable_variables, gradients, strict=True):
            variable.assign_sub(learner.inner_learning_rate * gradient)
    queries = 1.0 - np.asarray(episode["query_images"], "float32") / 255.0
    return np.asarray(tf.nn.softmax(network(queries, training=False)))


def softmax(logits):
    return keras.ops.convert_to_numpy(keras.ops.softmax(logits))


def test_inner_loop_is_plain_sgd_on_the_support_set(episode):
    episode, _ = episode
    learner = tiny_maml(inner_steps=1, eval_inner_steps=3)
    np.testing.assert_allclose(
        softmax(learner(episode, training=True)),
        sgd_adapted_probabilities(learner, episode, steps=1),
        rtol=1e-4,
        atol=1e-5,
    )
    np.testing.assert_allclose(
        softmax(learner(episode, training=False)),
        sgd_adapted_probabilities(learner, episode, steps=3),
        rtol=1e-4,
        atol=1e-5,
    )


def test_adapt_gives_the_learner_probabilities_with_eval_inner_steps(episode):
    episode, _ = episode
    learner = tiny_maml(inner_steps=1, eval_inner_steps=3)
    classifier, probabilities = assert_adapted_matches_learner(learner, episode, ways=3)
    # Three steps, not the training's one: the adapted probabilities differ from one step's.
    one_step = sgd_adapted_probabilities(learner, episode, steps=1)
    assert np.abs(probabilities - one_step).max() > 1e-4


def test_adapting_does_not_move_the_initialization(maml, episode):
    episode, _ = episode
    before = weights_of(maml)
    maml.adapt(episode["support_images"], episode["support_labels"])
    assert_weights_equal(before, weights_of(maml))


def test_fine_tuning_the_classifier_leaves_the_learner_alone(maml, episode):
    episode, labels = episode
    learner_weights = weights_of(maml)
    classifier = maml.adapt(episode["support_images"], episode["support_labels"])
    before = weights_of(classifier)
    classifier.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    history = classifier.fit(
        episode["query_images"], labels, epochs=2, batch_size=len(labels), verbose=0
    )
    assert np.all(np.isfinite(history.history["loss"]))
    assert any_weight_changed(before, weights_of(classifier))
    assert_weights_equal(learner_weights, weights_of(maml))


def test_meta_training_with_fit_moves_the_initialization(maml, episode):
    episode, labels = episode
    before = weights_of(maml)
    maml.compile(optimizer=keras.optimizers.SGD(0.1))
    data = tf.data.Dataset.from_tensors((episode, labels)).repeat(2)
    history = maml.fit(data, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any_weight_changed(before, weights_of(maml))
    assert int(maml.optimizer.iterations) == 2
