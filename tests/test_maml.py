"""MAML: the inner loop against plain SGD, test-time steps, support-set normalization.

What every learner must do (adapt, fine-tune, fit, save, export) is in test_contract.py.
"""

import keras
import numpy as np
import tensorflow as tf
from conftest import assert_adapted_matches_learner
from contract_learners import tiny_maml

import zoo
from zoo.gradient_learner import cross_entropy


def sgd_adapted_probabilities(learner, episode, steps, statistics="support"):
    """Probabilities of a copy of the network after `steps` plain SGD steps on the support.

    The queries are normalized, layer by layer, with the moments of the support set's
    activations (`statistics="support"`, not transductive) or with their own batch's
    (`"queries"`, as Finn et al. evaluate).
    """
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
    if statistics == "queries":
        return np.asarray(tf.nn.softmax(network(queries, training=False)))
    layers = network.layers[0].layers + network.layers[1:]  # the Conv-4 backbone, then dense
    for layer in layers:
        if isinstance(layer, zoo.BatchStatisticsNormalization):
            mean = np.asarray(support).mean(axis=(0, 1, 2))
            variance = np.asarray(support).var(axis=(0, 1, 2))
            gamma, beta = (np.asarray(w) for w in layer.weights)
            support, queries = (
                (np.asarray(x) - mean) / np.sqrt(variance + layer.epsilon) * gamma + beta
                for x in (support, queries)
            )
        else:
            support, queries = layer(support), layer(queries)
    return np.asarray(tf.nn.softmax(queries))


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
    transductive = learner.transductive_predictor()
    np.testing.assert_allclose(
        softmax(transductive(episode)),
        sgd_adapted_probabilities(learner, episode, steps=3, statistics="queries"),
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


def test_the_transductive_setting_normalizes_each_query_batch_with_its_own_statistics(episode):
    episode, _ = episode
    learner = tiny_maml(eval_inner_steps=2)
    transductive = tiny_maml(eval_inner_steps=2, transductive=True)
    transductive.set_weights(learner.get_weights())
    assert zoo.MAML.from_config(transductive.get_config()).transductive
    images, labels = episode["support_images"], episode["support_labels"]
    queries = episode["query_images"]
    # Not transductive: a query's probabilities are the same alone; transductive: they are not.
    classifier = learner.adapt(images, labels)
    np.testing.assert_allclose(classifier(queries)[:1], classifier(queries[:1]), atol=1e-6)
    per_batch = transductive.adapt(images, labels)
    assert np.abs(np.asarray(per_batch(queries)[:2]) - per_batch(queries[:2])).max() > 1e-3
    np.testing.assert_allclose(
        per_batch(queries),
        softmax(learner.transductive_predictor()(episode)),
        rtol=1e-4,
        atol=1e-6,
    )
