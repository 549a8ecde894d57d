"""MAML's meta-gradients against finite differences and an independent first-order MAML.

All in float64 on a network small enough (30 parameters) to check every parameter.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import float_type, random_episode

import zoo
from zoo.gradient_learner import cross_entropy

ALPHA = 0.5
SIZE = 6


def tiny(**kwargs):
    """A 2-way MAML, one block of 2 filters on 6x6 images, float64 when the fixture says so.

    Transductive unless told (Finn et al.'s normalization of each query batch by its own
    statistics), so that the independent computations below can run the network as it is.
    """
    keras.utils.set_random_seed(1)
    options = {"transductive": True, **kwargs}
    learner = zoo.MAML(
        ways=2, filters=2, blocks=1, image_size=SIZE, inner_learning_rate=ALPHA, **options
    )
    return learner.build_for_episode(2, 2)


@pytest.fixture
def task(float64):
    episode, labels = random_episode(ways=2, shots=2, queries=3, size=SIZE, dtype="float64")
    return episode, labels


def query_loss(learner, episode, labels):
    """The meta-objective of one task: query cross-entropy after the inner loop."""
    return cross_entropy(labels, learner(episode, training=True))


def meta_gradient(learner, episode, labels):
    with tf.GradientTape() as tape:
        loss = query_loss(learner, episode, labels)
    return [g.numpy() for g in tape.gradient(loss, learner.trainable_variables)]


def finite_differences(learner, episode, labels, eps=1e-6):
    """Central differences of the query loss for every trainable parameter."""
    gradients = []
    for variable in learner.trainable_variables:
        base = variable.numpy()
        gradient = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            values = []
            for sign in (1.0, -1.0):
                shifted = base.copy()
                shifted[index] += sign * eps
                variable.assign(shifted)
                values.append(float(query_loss(learner, episode, labels)))
            gradient[index] = (values[0] - values[1]) / (2 * eps)
        variable.assign(base)
        gradients.append(gradient)
    return gradients


def flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def preprocess(images):
    """The models' preprocessing for images already at the network's size: scale and invert."""
    return tf.constant(1.0 - np.asarray(images, "float64") / 255.0)


def network_copy(learner):
    network = keras.models.clone_model(learner.network)
    network.set_weights(learner.network.get_weights())
    return network


def support_gradient(network, episode):
    """Gradient of the support loss w.r.t. a network's own variables (plain first order)."""
    with tf.GradientTape() as tape:
        logits = network(preprocess(episode["support_images"]), training=True)
        loss = cross_entropy(episode["support_labels"], logits)
    return [g.numpy() for g in tape.gradient(loss, network.trainable_variables)]


def adapt_by_sgd(network, episode, steps):
    """theta' by plain gradient steps on a copy of the network's variables."""
    for _ in range(steps):
        gradients = support_gradient(network, episode)
        for variable, gradient in zip(network.trainable_variables, gradients, strict=True):
            variable.assign_sub(ALPHA * gradient)
    return network


def query_gradient(network, episode, labels):
    with tf.GradientTape() as tape:
        logits = network(preprocess(episode["query_images"]), training=True)
        loss = cross_entropy(labels, logits)
    return [g.numpy() for g in tape.gradient(loss, network.trainable_variables)]


@pytest.mark.parametrize("transductive", [True, False])
@pytest.mark.parametrize("inner_steps", [1, 2])
def test_second_order_meta_gradient_matches_finite_differences(task, inner_steps, transductive):
    """Also through the support set's statistics that normalize the queries when not
    transductive (`keeping_statistics`)."""
    episode, labels = task
    learner = tiny(inner_steps=inner_steps, transductive=transductive)
    assert learner.trainable_variables[0].dtype == "float64"
    assert learner(episode, training=True).dtype == "float64"
    analytic = meta_gradient(learner, episode, labels)
    numeric = finite_differences(learner, episode, labels)
    for variable, a, n in zip(learner.trainable_variables, analytic, numeric, strict=True):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-9, err_msg=variable.path)
    # The check is not vacuous: the gradient is far from zero.
    assert np.abs(flat(analytic)).max() > 1e-3


def test_first_order_meta_gradient_is_query_gradient_at_fast_weights(task):
    episode, labels = task
    learner = tiny(inner_steps=2, first_order=True)
    fomaml = meta_gradient(learner, episode, labels)
    adapted = adapt_by_sgd(network_copy(learner), episode, steps=2)
    expected = query_gradient(adapted, episode, labels)
    np.testing.assert_allclose(flat(fomaml), flat(expected), rtol=1e-7, atol=1e-12)


def test_second_order_differs_from_first_order_by_the_hessian_term(task):
    """With one inner step: g_2nd = (I - alpha H_support(theta)) g_1st."""
    episode, labels = task
    second = flat(meta_gradient(tiny(inner_steps=1), episode, labels))
    first = flat(meta_gradient(tiny(inner_steps=1, first_order=True), episode, labels))
    assert np.abs(second - first).max() > 1e-4 * np.abs(first).max()

    # H_support(theta) @ first, by central differences of the support gradient along `first`.
    network = network_copy(tiny(inner_steps=1))
    base = network.get_weights()
    direction = np.split(first, np.cumsum([w.size for w in base])[:-1])
    eps = 1e-5
    shifted_gradients = []
    for sign in (1.0, -1.0):
        network.set_weights(
            [w + sign * eps * d.reshape(w.shape) for w, d in zip(base, direction, strict=True)]
        )
        shifted_gradients.append(flat(support_gradient(network, episode)))
    hessian_vector = (shifted_gradients[0] - shifted_gradients[1]) / (2 * eps)
    np.testing.assert_allclose(second, first - ALPHA * hessian_vector, rtol=1e-5, atol=1e-9)


def test_without_inner_steps_both_orders_are_the_plain_gradient(task):
    episode, labels = task
    expected = flat(query_gradient(network_copy(tiny(inner_steps=0)), episode, labels))
    for first_order in (False, True):
        gradient = flat(meta_gradient(tiny(inner_steps=0, first_order=first_order), *task))
        np.testing.assert_allclose(gradient, expected, rtol=1e-10, atol=1e-14)


def test_new_layers_are_float32_again_after_the_float64_tests():
    learner = zoo.MAML(ways=2, filters=2, blocks=1, image_size=SIZE)
    assert learner.build_for_episode(2).trainable_variables[0].dtype == "float32"
    assert keras.config.floatx() == "float32"


@pytest.mark.parametrize("transductive", [True, False])
@pytest.mark.parametrize("first_order", [False, True])
def test_fused_normalization_gives_the_checked_meta_gradient(first_order, transductive):
    """In float32, training runs TensorFlow's fused batch normalization, whose derivatives
    TensorFlow registers; its meta-gradient must match the explicit float64 formula's, which
    the finite differences above check."""
    episode, labels = random_episode(ways=2, shots=2, queries=3, size=SIZE, seed=3)
    gradients = {}
    for dtype in ("float32", "float64"):
        with float_type(dtype):
            learner = zoo.MAML(
                ways=2,
                filters=3,
                blocks=2,
                image_size=SIZE,
                inner_steps=2,
                inner_learning_rate=ALPHA,
                first_order=first_order,
                transductive=transductive,
            ).build_for_episode(2, 2)
            if dtype == "float32":
                weights = learner.get_weights()
            learner.set_weights([w.astype(dtype) for w in weights])
            cast = dict(episode, query_images=episode["query_images"].astype(dtype))
            cast["support_images"] = episode["support_images"].astype(dtype)
            gradients[dtype] = flat(meta_gradient(learner, cast, labels))
    fused, exact = gradients["float32"], gradients["float64"]
    assert np.abs(exact).max() > 1e-3
    np.testing.assert_allclose(fused, exact, rtol=0, atol=1e-5 * np.abs(exact).max())
