"""Reptile's equations against numpy: the inner Adam (beta1 = 0) steps on minibatches in the
reference code's order, the outer update theta <- theta + epsilon * mean_i(phi_i - theta) with
epsilon annealed linearly to 0, and the inner Adam state kept across meta-steps.

The hand computations use a linear model of one pixel: a Reptile with no convolution blocks
and 1x1 images is `logits = x * kernel + bias` over 2 ways (four weights), whose cross-entropy
gradient is written out in numpy. The contract suite (`test_contract.py`, entry "reptile")
checks the rest.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from training import recipes
from zoo.reptile.reptile import BETA_2, EPSILON, EVALUATION_SEED, minibatch_indices

WAYS = 2


def linear_reptile(**kwargs):
    """A float64 2-way Reptile on 1x1 images with no blocks: logits = x * kernel + bias."""
    options = {"ways": WAYS, "blocks": 0, "image_size": 1, "invert": False, **kwargs}
    learner = zoo.Reptile(**options).build_for_episode(WAYS, 2)
    kernel, bias = learner.network.trainable_variables
    assert tuple(kernel.shape) == (1, WAYS) and tuple(bias.shape) == (WAYS,)
    learner.network.set_weights([np.array([[0.8, -0.5]]), np.array([0.1, -0.2])])
    return learner


def pixels(values):
    """Raw 1x1 images of the given pixel values (0..255): the network sees values / 255."""
    return np.asarray(values, "float64").reshape(-1, 1, 1, 1)


def softmax(logits):
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def cross_entropy(weights, x, y):
    """Mean cross-entropy of the linear model on inputs `x` [n] with labels `y` [n]."""
    kernel, bias = weights
    probabilities = softmax(x[:, None] * kernel[0] + bias)
    return -np.mean(np.log(probabilities[np.arange(len(y)), y]))


def gradients(weights, x, y):
    """d(mean cross-entropy)/d(kernel, bias) of the linear model, by hand."""
    kernel, bias = weights
    delta = (softmax(x[:, None] * kernel[0] + bias) - np.eye(WAYS)[y]) / len(y)
    return [(x[:, None] * delta).sum(axis=0)[None, :], delta.sum(axis=0)]


def adam(weights, velocity, iterations, x, y, rate, batches):
    """Adam with beta1 = 0, one step per row of `batches` (positions in `x`), as TensorFlow's
    AdamOptimizer(beta1=0) computes it; returns the weights and the second moments."""
    for t, batch in enumerate(batches, start=iterations + 1):
        g = gradients(weights, x[batch], y[batch])
        velocity = [BETA_2 * v + (1 - BETA_2) * gi**2 for v, gi in zip(velocity, g, strict=True)]
        step = rate * np.sqrt(1 - BETA_2**t)
        weights = [
            w - step * gi / (np.sqrt(v) + EPSILON)
            for w, gi, v in zip(weights, g, velocity, strict=True)
        ]
    return weights, velocity


def values(variables):
    return [np.array(variable.numpy()) for variable in variables]


def test_defaults_are_the_papers_5_way_omniglot_settings():
    learner = zoo.Reptile()
    assert (learner.inner_steps, learner.inner_learning_rate, learner.inner_batch_size) == (
        5,
        1e-3,
        10,
    )
    assert (learner.eval_inner_steps, learner.eval_inner_batch_size) == (50, 5)
    assert [layer.use_bias for layer in learner.network.layers[0].layers[:12:3]] == [False] * 4


def test_minibatches_are_consecutive_slices_of_reshuffled_passes():
    seed = tf.constant([3, 4], "int64")
    batches = np.asarray(minibatch_indices(5, 3, 4, seed))
    assert batches.shape == (4, 3)
    flat = batches.reshape(-1)
    # Passes of the 5 examples, each a permutation; the second batch straddles two passes.
    assert sorted(flat[:5]) == sorted(flat[5:10]) == [0, 1, 2, 3, 4]
    assert len(set(flat[10:])) == 2
    np.testing.assert_array_equal(batches, minibatch_indices(5, 3, 4, seed))
    others = [
        np.asarray(minibatch_indices(5, 3, 4, tf.constant([3, s], "int64"))) for s in range(5)
    ]
    assert any(not np.array_equal(batches, other) for other in others)
    # A batch larger than the set holds every example, some twice.
    large = np.asarray(minibatch_indices(3, 4, 1, seed))[0]
    assert set(large) == {0, 1, 2} and len(large) == 4


def test_adaptation_takes_adam_steps_from_the_stored_state_on_the_reference_minibatches(float64):
    learner = linear_reptile(eval_inner_steps=4, eval_inner_batch_size=3, inner_learning_rate=0.1)
    stored = [np.array([[2e-3, 1e-3]]), np.array([5e-4, 3e-3])]
    for variable, value in zip(learner.inner_velocity, stored, strict=True):
        variable.assign(value)
    learner.inner_iterations.assign(7.0)
    state = values([*learner.inner_velocity, learner.inner_iterations])
    images, labels = pixels([30, 200, 90, 250, 10]), np.array([0, 1, 0, 1, 1], "int32")
    x = images.reshape(-1) / 255.0
    theta = values(learner.network.trainable_variables)

    batches = np.asarray(minibatch_indices(5, 3, 4, tf.constant(EVALUATION_SEED, "int64")))
    expected, _ = adam(theta, stored, 7, x, labels, 0.1, batches)

    fast = learner.inner_loop(
        learner.initial_weights(), learner.preprocessing(images), tf.constant(labels), 4
    )
    for got, want in zip(fast, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert np.abs(expected[0] - theta[0]).max() > 0.1, "the steps moved the weights"
    # It matters that the state is the stored one: from a fresh state the weights differ.
    fresh, _ = adam(theta, [np.zeros_like(w) for w in theta], 0, x, labels, 0.1, batches)
    assert np.abs(fresh[0] - expected[0]).max() > 1e-3

    queries = pixels([60, 220])
    classifier = learner.adapt(images, labels)
    kernel, bias = expected
    np.testing.assert_allclose(
        classifier(queries), softmax(queries.reshape(-1, 1) / 255.0 * kernel[0] + bias), rtol=1e-6
    )  # the adapted classifier computes in float32
    np.testing.assert_array_equal(learner.adapt(images, labels)(queries), classifier(queries))
    unchanged = values([*learner.inner_velocity, learner.inner_iterations])
    for before, after in zip(state, unchanged, strict=True):
        np.testing.assert_array_equal(before, after)


def meta_batch(seed):
    """Two 2-way tasks of 1x1 images, 2 shots and 2 queries per class, and the query labels."""
    rng = np.random.default_rng(seed)
    labels = np.tile(np.repeat(np.arange(WAYS), 2), (2, 1)).astype("int32")
    episode = {
        "support_images": rng.uniform(0, 255, (2, 4, 1, 1, 1)),
        "support_labels": labels,
        "query_images": rng.uniform(0, 255, (2, 4, 1, 1, 1)),
    }
    return episode, labels


def test_outer_update_moves_theta_by_an_annealed_epsilon_toward_the_mean_adapted_weights(
    float64,
):
    """Two meta-steps of two tasks each, 3 inner steps on the whole support set, epsilon
    annealed over 2 steps: 1 at the first (theta becomes the mean phi), 1/2 at the second;
    the second starts the inner Adam from the tasks' mean state after 3 steps."""
    learner = linear_reptile(inner_steps=3, inner_batch_size=None, inner_learning_rate=0.1)
    learner.compile(optimizer=zoo.Reptile.outer_optimizer(2))
    theta = values(learner.network.trainable_variables)
    velocity, iterations = [np.zeros_like(w) for w in theta], 0
    for step, epsilon in enumerate([1.0, 0.5]):
        episode, query_labels = meta_batch(step)
        history = learner.fit(
            tf.data.Dataset.from_tensors((episode, query_labels)), epochs=1, verbose=0
        )

        adapted, states, losses, correct = [], [], [], []
        for task in range(2):
            x = episode["support_images"][task].reshape(-1) / 255.0
            y = episode["support_labels"][task]
            phi, state = adam(theta, velocity, iterations, x, y, 0.1, [np.arange(4)] * 3)
            adapted.append(phi)
            states.append(state)
            queries = episode["query_images"][task].reshape(-1) / 255.0
            losses.append(cross_entropy(phi, queries, query_labels[task]))
            logits = queries[:, None] * phi[0][0] + phi[1]
            correct.extend(np.argmax(logits, axis=-1) == query_labels[task])
        mean_phi = [np.mean(ws, axis=0) for ws in zip(*adapted, strict=True)]
        theta = [w + epsilon * (m - w) for w, m in zip(theta, mean_phi, strict=True)]
        velocity = [np.mean(vs, axis=0) for vs in zip(*states, strict=True)]
        iterations += 3

        for got, want in zip(learner.network.trainable_variables, theta, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        for got, want in zip(learner.inner_velocity, velocity, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
        assert float(learner.inner_iterations) == iterations
        assert history.history["loss"][0] == pytest.approx(np.mean(losses), rel=1e-9)
        assert history.history["accuracy"][0] == pytest.approx(np.mean(correct))
    assert np.abs(adapted[0][0] - adapted[1][0]).max() > 1e-3, "the tasks adapt differently"


def test_one_episode_is_a_meta_batch_of_one_task(float64):
    episode, query_labels = meta_batch(0)
    single = {key: value[0] for key, value in episode.items()}
    learners = [linear_reptile(inner_batch_size=None) for _ in range(2)]
    for learner, data in zip(
        learners,
        [
            (single, query_labels[0]),
            (
                {key: value[:1] for key, value in episode.items()},
                query_labels[:1],
            ),
        ],
        strict=True,
    ):
        learner.compile(optimizer=keras.optimizers.SGD(1.0))
        learner.fit(tf.data.Dataset.from_tensors(data), epochs=1, verbose=0)
    for a, b in zip(learners[0].weights, learners[1].weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_outer_optimizer_anneals_epsilon_linearly_to_zero():
    optimizer = zoo.Reptile.outer_optimizer(100)
    assert isinstance(optimizer, keras.optimizers.SGD)
    rates = []
    for step in (0, 25, 50, 99, 100, 150):
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    np.testing.assert_allclose(rates, [1.0, 0.75, 0.5, 0.01, 0.0, 0.0], atol=1e-7)
    half = zoo.Reptile.outer_optimizer(10, epsilon=0.5)
    half.iterations.assign(5)
    assert float(half.learning_rate) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("name", "epsilon"),
    [
        ("reptile_omniglot", 1.0),
        ("reptile_omniglot_40k", 1.0),
        ("reptile_omniglot_20way", 1.0),
        ("reptile_omniglot_20way_40k", 1.0),
        ("reptile_omniglot_20way_continued", 0.5),
    ],
)
def test_the_recipes_outer_optimizer_is_the_annealed_sgd(name, epsilon):
    recipe = recipes.get_recipe(name)
    optimizer = recipes.build_optimizer(recipe)
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(optimizer.learning_rate) == pytest.approx(epsilon)
    optimizer.iterations.assign(recipe["steps"] // 2)
    assert float(optimizer.learning_rate) == pytest.approx(epsilon / 2)
    learner = recipes.build_learner(recipe)
    assert isinstance(learner, zoo.Reptile)
    assert recipe["train"]["shots"] == 10 and recipe["train"]["tasks_per_batch"] == 5
    assert learner.eval_inner_steps == 50


def test_meta_training_draws_each_tasks_minibatches_with_the_step_and_the_tasks_index(float64):
    """Minibatches of 2 of the 4 support examples: task i of meta-step s takes the order of
    seed (s, i), so two copies of one task in a meta-batch adapt differently."""
    learner = linear_reptile(inner_steps=2, inner_batch_size=2, inner_learning_rate=0.1)
    learner.compile(optimizer=keras.optimizers.SGD(1.0))
    theta = values(learner.network.trainable_variables)
    episode, query_labels = meta_batch(0)
    twice = {key: np.stack([value[0], value[0]]) for key, value in episode.items()}
    learner.fit(tf.data.Dataset.from_tensors((twice, query_labels[[0, 0]])), epochs=1, verbose=0)

    x = episode["support_images"][0].reshape(-1) / 255.0
    y = episode["support_labels"][0]
    adapted = []
    for task in range(2):
        batches = np.asarray(minibatch_indices(4, 2, 2, tf.constant([0, task], "int64")))
        adapted.append(adam(theta, [np.zeros_like(w) for w in theta], 0, x, y, 0.1, batches)[0])
    assert np.abs(adapted[0][0] - adapted[1][0]).max() > 1e-3
    expected = [np.mean(ws, axis=0) for ws in zip(*adapted, strict=True)]
    for got, want in zip(learner.network.trainable_variables, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
