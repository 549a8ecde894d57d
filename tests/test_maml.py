"""MAML: the inner loop against plain SGD, the adapted classifier's test-time steps.

What every learner must do (adapt, fine-tune, fit, save, export) is in test_contract.py.
"""

import keras
import numpy as np
import tensorflow as tf
from conftest import assert_adapted_matches_learner
from contract_learners import tiny_maml

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
