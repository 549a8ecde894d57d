"""The LSTM meta-learner against the paper's equations, computed by hand in numpy.

The preprocessing against its formula (gradients of 0 and 1e-12 included), the meta-LSTM cell
on 3 parameters for 2 steps, whole updates against numpy, plain SGD as the special case
f_t = 1, i_t = alpha, and the meta-gradient against finite differences with the learner's
losses and gradients held constant. What every learner must do (adapt, fine-tune, fit, save,
export) is in test_contract.py.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_adapted_matches_learner, random_episode
from contract_learners import tiny_lstm_meta_learner

import zoo
from zoo.gradient_learner import GradientLearner, cross_entropy
from zoo.lstm_meta_learner import GradientPreprocessing, MetaLSTMCell

P = 10.0


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def preprocess(x, p=P):
    """Andrychowicz et al.'s preprocessing, in float64 numpy: `[...]` -> `[..., 2]`."""
    x = np.asarray(x, "float64")
    large = np.abs(x) >= np.exp(-p)
    with np.errstate(divide="ignore"):
        magnitude = np.where(large, np.log(np.abs(x)) / p, -1.0)
    return np.stack([magnitude, np.where(large, np.sign(x), np.exp(p) * x)], axis=-1)


def lstm_step(x, h, c, kernel, recurrent_kernel, bias):
    """Keras' LSTM cell in numpy: gates i, f, c, o."""
    z = x @ kernel + h @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def meta_cell_step(h, gradient, theta, forget, update, weights):
    """The paper's equations 2 and 3: f_t, i_t and theta_t = f_t theta_{t-1} - i_t grad_t."""
    w_f, w_i, b_f, b_i = weights
    forget = sigmoid(np.concatenate([h, theta[:, None], forget[:, None]], 1) @ w_f + b_f)
    update = sigmoid(np.concatenate([h, theta[:, None], update[:, None]], 1) @ w_i + b_i)
    return forget * theta - update * gradient, forget, update


def set_gates(learner, forget_kernel, forget_bias, input_kernel, input_bias):
    cell = learner.meta_lstm
    cell.forget_kernel.assign(np.broadcast_to(forget_kernel, cell.forget_kernel.shape))
    cell.forget_bias.assign(forget_bias)
    cell.input_kernel.assign(np.broadcast_to(input_kernel, cell.input_kernel.shape))
    cell.input_bias.assign(input_bias)


def flat(tensors):
    return np.concatenate([np.asarray(t).ravel() for t in tensors])


def unflatten(vector, shapes):
    """A flat numpy vector as tensors of the given shapes."""
    parts = np.split(vector, np.cumsum([math.prod(s) for s in shapes])[:-1])
    return [tf.constant(part.reshape(s)) for part, s in zip(parts, shapes, strict=True)]


def support_of(learner, episode):
    images = learner.preprocessing(episode["support_images"])
    return images, tf.constant(episode["support_labels"])


# -- the preprocessing -----------------------------------------------------------------------
def test_preprocessing_is_log_magnitude_and_sign_also_at_0_and_1e_12():
    values = np.array(
        [0.0, 1e-12, -1e-12, 2e-5, -4e-5, math.exp(-P), 1e-3, -0.25, 1.0, 7.5, -1e4], "float32"
    )
    got = np.asarray(GradientPreprocessing(P)(values))
    assert got.shape == (len(values), 2)
    np.testing.assert_allclose(got, preprocess(values), rtol=1e-6, atol=1e-7)
    # 0 and 1e-12 lie below e^-10: (-1, e^10 x), exactly; no log of 0 anywhere.
    np.testing.assert_array_equal(got[0], [-1.0, 0.0])
    assert got[1, 0] == -1.0 and got[2, 0] == -1.0
    np.testing.assert_allclose(got[1:3, 1], [2.2026466e-8, -2.2026466e-8], rtol=1e-6)
    assert got[3, 0] == -1.0 and got[3, 1] == pytest.approx(math.exp(P) * 2e-5, rel=1e-6)
    np.testing.assert_allclose(got[6:, 1], np.sign(values[6:]))
    # A scalar (the loss) gives its pair, and the derivative is finite at 0 too.
    np.testing.assert_allclose(GradientPreprocessing(P)(np.float32(2.0)), [math.log(2) / P, 1])
    x = tf.constant([0.0, 1e-12, 0.5])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = GradientPreprocessing(P)(x)
    assert np.all(np.isfinite(tape.gradient(y, x)))


# -- the meta-LSTM cell ------------------------------------------------------------------------
def test_meta_lstm_cell_follows_the_papers_equations_on_3_parameters_for_2_steps():
    weights = (
        np.array([0.5, -1.0, 2.0, 0.3]),  # W_F over [h (2), theta, f_{t-1}]
        np.array([-0.4, 0.8, -1.5, 0.6]),  # W_I over [h (2), theta, i_{t-1}]
        1.0,  # b_F
        -2.0,  # b_I
    )
    cell = MetaLSTMCell()
    cell.build((3, 2))
    cell.forget_kernel.assign(weights[0])
    cell.input_kernel.assign(weights[1])
    cell.forget_bias.assign(weights[2])
    cell.input_bias.assign(weights[3])
    hidden = [
        np.array([[0.1, -0.2], [0.5, 0.3], [-0.7, 0.9]]),
        np.array([[0.2, 0.2], [-1, 0], [0, 1]]),
    ]
    gradients = [np.array([0.4, -0.1, 2.0]), np.array([-0.3, 0.6, 0.05])]

    theta, forget, update = np.array([0.3, -1.2, 2.0]), np.zeros(3), np.zeros(3)
    state = (theta.astype("float32"), *cell.initial_gates(3))
    for h, g in zip(hidden, gradients, strict=True):
        theta, forget, update = meta_cell_step(h, g, theta, forget, update, weights)
        state = cell(h.astype("float32"), g.astype("float32"), state)
        for got, expected in zip(state, (theta, forget, update), strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    # The gates moved away from their start and differ per coordinate.
    assert np.ptp(forget) > 0.05 and np.ptp(update) > 0.05


def test_gates_start_as_gradient_descent_with_a_small_step():
    keras.utils.set_random_seed(3)
    learner = zoo.LSTMMetaLearner(ways=3, filters=8, blocks=2, image_size=8)
    cell, lstm = learner.meta_lstm, learner.coordinate_lstm.cell
    assert 4.0 <= float(cell.forget_bias) <= 5.0
    assert -5.0 <= float(cell.input_bias) <= -4.0
    for weight in (cell.forget_kernel, cell.input_kernel, lstm.kernel, lstm.recurrent_kernel):
        values = np.asarray(weight)
        assert np.abs(values).max() <= 0.01 and np.ptp(values) > 0
    assert np.abs(np.asarray(lstm.bias)).max() <= 0.01
    # Each weight its own draw (an unseeded Keras initializer reused would repeat them).
    assert not np.array_equal(cell.forget_kernel, cell.input_kernel)
    assert learner.coordinate_lstm.units == 20 and cell.forget_kernel.shape == (22,)


# -- whole updates -----------------------------------------------------------------------------
def test_two_updates_compose_preprocessing_lstm_and_cell_as_the_paper_says(float64, episode):
    episode, _ = episode
    keras.utils.set_random_seed(4)
    learner = tiny_lstm_meta_learner(hidden_units=3)
    rng = np.random.default_rng(0)
    lstm = learner.coordinate_lstm.cell
    for weight in (lstm.kernel, lstm.recurrent_kernel, lstm.bias):
        weight.assign(rng.normal(0.0, 0.5, weight.shape))
    set_gates(learner, rng.normal(0, 0.5, 5), 2.0, rng.normal(0, 0.5, 5), -1.0)
    images, labels = support_of(learner, episode)
    initial = learner.initial_weights()
    shapes = [w.shape for w in initial]

    theta = flat(initial)
    h, c = np.zeros((len(theta), 3)), np.zeros((len(theta), 3))
    forget, update = np.zeros(len(theta)), np.zeros(len(theta))
    cell_weights = [np.asarray(w) for w in learner.meta_lstm.weights]
    lstm_weights = [np.asarray(w) for w in (lstm.kernel, lstm.recurrent_kernel, lstm.bias)]
    for _ in range(2):
        fast = unflatten(theta, shapes)
        with tf.GradientTape() as tape:
            tape.watch(fast)
            loss = cross_entropy(labels, learner.functional_call(fast, images, training=True))
        gradient = flat(tape.gradient(loss, fast))
        x = np.concatenate(
            [np.broadcast_to(preprocess(float(loss)), (len(theta), 2)), preprocess(gradient)], 1
        )
        h, c = lstm_step(x, h, c, *lstm_weights)
        theta, forget, update = meta_cell_step(h, gradient, theta, forget, update, cell_weights)
    assert np.ptp(update) > 1e-3, "the input gate should differ between coordinates"

    got = learner.inner_loop(initial, images, labels, 2)
    np.testing.assert_allclose(flat(got), theta, rtol=1e-9, atol=1e-12)
    assert [tuple(g.shape) for g in got] == [tuple(s) for s in shapes]


def test_with_f_1_and_i_alpha_the_updates_are_plain_sgd_with_rate_alpha(episode):
    episode, _ = episode
    alpha, steps = 0.3, 3
    learner = tiny_lstm_meta_learner(inner_learning_rate=alpha)
    # sigmoid(40) is 1 in float32: f_t = 1; i_t = sigmoid(logit(alpha)) = alpha.
    set_gates(learner, 0.0, 40.0, 0.0, math.log(alpha / (1 - alpha)))
    images, labels = support_of(learner, episode)
    initial = learner.initial_weights()

    got = learner.inner_loop(initial, images, labels, steps)
    sgd = GradientLearner.inner_loop(learner, initial, images, labels, steps)
    np.testing.assert_allclose(flat(got), flat(sgd), rtol=1e-5, atol=1e-6)
    assert np.abs(flat(sgd) - flat(initial)).max() > 1e-2, "the steps should move the weights"


# -- the meta-gradient -------------------------------------------------------------------------
def meta_gradient(learner, episode, labels, variables):
    with tf.GradientTape() as tape:
        loss = cross_entropy(labels, learner(episode, training=True))
    return [np.asarray(g) for g in tape.gradient(loss, variables)]


def test_meta_gradient_is_first_order_in_the_learners_gradients(episode):
    """With f_t = 1 and i_t = alpha the meta-gradient of c_0 is first-order MAML's."""
    episode, labels = episode
    alpha = 0.3
    learner = tiny_lstm_meta_learner(inner_learning_rate=alpha)
    set_gates(learner, 0.0, 40.0, 0.0, math.log(alpha / (1 - alpha)))
    network = learner.network.trainable_variables
    got = meta_gradient(learner, episode, labels, network)

    lstm_inner_loop = learner.inner_loop
    learner.inner_loop = lambda *args: GradientLearner.inner_loop(learner, *args)
    first_order = meta_gradient(learner, episode, labels, network)
    learner.first_order = False
    second_order = meta_gradient(learner, episode, labels, network)
    learner.inner_loop, learner.first_order = lstm_inner_loop, True

    np.testing.assert_allclose(flat(got), flat(first_order), rtol=1e-4, atol=1e-6)
    assert np.abs(flat(second_order) - flat(first_order)).max() > 1e-4


class Replay:
    """Stands in for `support_loss_and_gradient`: records its (L_t, grad_t) on the first
    pass, then returns them in order from `position` on, whatever the parameters."""

    def __init__(self, compute):
        self.compute, self.recorded, self.position = compute, [], None

    def __call__(self, *args):
        if self.position is None:
            self.recorded.append(self.compute(*args))
            return self.recorded[-1]
        self.position += 1
        return self.recorded[self.position - 1]


def test_meta_gradient_is_exact_with_the_learners_losses_and_gradients_held_constant(float64):
    """Finite differences of the query loss with L_t and grad_t replayed as recorded.

    A network of one block of 2 filters on 6x6 images and a first LSTM of 2 units: every
    meta-parameter (the 62 of c_0, the LSTM's and the cell's) is checked.
    """
    episode, labels = random_episode(ways=2, shots=2, queries=3, size=6, seed=5)
    keras.utils.set_random_seed(6)
    learner = zoo.LSTMMetaLearner(
        ways=2, filters=2, blocks=1, image_size=6, hidden_units=2, inner_steps=2
    ).build_for_episode(2, 2)
    rng = np.random.default_rng(1)
    for weight in learner.coordinate_lstm.weights:
        weight.assign(rng.normal(0.0, 0.5, weight.shape))
    set_gates(learner, rng.normal(0, 0.5, 4), 1.0, rng.normal(0, 0.5, 4), -1.0)
    variables = learner.trainable_variables
    assert sum(math.prod(v.shape) for v in learner.network.trainable_variables) == 62
    got = meta_gradient(learner, episode, labels, variables)

    replay = Replay(learner.support_loss_and_gradient)
    learner.support_loss_and_gradient = replay
    base = float(cross_entropy(labels, learner(episode, training=True)))
    assert len(replay.recorded) == 2

    def query_loss():
        replay.position = 0
        return float(cross_entropy(labels, learner(episode, training=True)))

    assert query_loss() == pytest.approx(base, rel=1e-12)
    eps = 1e-6
    for variable, gradient in zip(variables, got, strict=True):
        values = np.asarray(variable)
        expected = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            losses = []
            for sign in (1.0, -1.0):
                shifted = values.copy()
                shifted[index] += sign * eps
                variable.assign(shifted)
                losses.append(query_loss())
            expected[index] = (losses[0] - losses[1]) / (2 * eps)
        variable.assign(values)
        np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-8, err_msg=variable.path)
    assert all(np.abs(g).max() > 0 for g in got), "every meta-parameter gets a gradient"


def test_support_losses_and_gradients_carry_no_gradient(episode):
    episode, _ = episode
    learner = tiny_lstm_meta_learner()
    images, labels = support_of(learner, episode)
    initial = learner.initial_weights()
    parameters = tf.concat([tf.reshape(w, [-1]) for w in initial], 0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(parameters)
        loss, gradient = learner.support_loss_and_gradient(
            parameters, [w.shape for w in initial], images, labels
        )
        total = loss + tf.reduce_sum(gradient**2)
    assert tape.gradient(total, parameters) is None
    assert gradient.shape == parameters.shape and np.abs(np.asarray(gradient)).max() > 0


# -- adapt and config --------------------------------------------------------------------------
def test_adapt_runs_eval_inner_steps(episode):
    episode, _ = episode
    learner = tiny_lstm_meta_learner(inner_steps=1, eval_inner_steps=3)
    set_gates(learner, 0.0, 40.0, 0.0, 0.0)  # i_t = 0.5: steps that show
    _, probabilities = assert_adapted_matches_learner(learner, episode, ways=3)
    one_step = keras.ops.softmax(learner(episode, training=True))
    assert np.abs(probabilities - np.asarray(one_step)).max() > 1e-3


def test_the_paper_defaults_and_first_order_only():
    learner = zoo.LSTMMetaLearner()
    config = learner.get_config()
    assert config["filters"] == 32 and config["blocks"] == 4 and config["ways"] == 5
    assert config["hidden_units"] == 20 and config["preprocessing_p"] == 10.0
    assert config["inner_steps"] == config["eval_inner_steps"] == 12
    assert config["first_order"] is True
    learner.build_for_episode(5)
    count = sum(math.prod(v.shape) for v in learner.network.trainable_variables)
    assert count == 28485  # the paper's Conv-4 with 32 filters at 28x28, 5 ways
    with pytest.raises(ValueError, match="first_order"):
        zoo.LSTMMetaLearner(first_order=False)
