"""Matching Networks: the attention by hand, support order, the FCE LSTMs by hand, one query
alone, the recipes. What every learner must do (round trips, export...) is in test_contract.py."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_adapted_matches_learner, random_episode
from contract_learners import tiny_matching_network

import zoo
from zoo.matching_network import AttentionLSTM, SupportContextEmbedding


@pytest.fixture
def simple():
    keras.utils.set_random_seed(0)
    return tiny_matching_network()


@pytest.fixture
def fce():
    keras.utils.set_random_seed(0)
    return tiny_matching_network(fce=True, read_steps=2)


def embeddings_of(learner, episode, training=False):
    """f'(x) of the queries and g'(x_i) of the support set, embedded in one batch."""
    both = np.concatenate([episode["support_images"], episode["query_images"]])
    embedded = learner.backbone(learner.preprocessing(both), training=training)
    embedded = np.asarray(embedded, "float64")
    count = len(episode["support_images"])
    return embedded[count:], embedded[:count]


def numpy_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def numpy_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def cosines(queries, support):
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    return unit(queries) @ unit(support).T


# -- the simple model by hand -------------------------------------------------------------------
@pytest.mark.parametrize("training", [False, True])
def test_logits_are_log_of_the_attention_weighted_labels(simple, uneven_episode, training):
    episode, _ = uneven_episode
    labels = episode["support_labels"]
    queries, support = embeddings_of(simple, episode, training)
    scores = cosines(queries, support)
    expected = np.stack(
        [np.log(np.exp(scores[:, labels == k]).sum(axis=1)) for k in range(3)], axis=1
    )

    logits = np.asarray(simple(episode, training=training), "float64")

    assert logits.shape == (6, 3)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    # softmax(logits) is y_hat = sum_i a(x, x_i) y_i with a = softmax over the support set.
    attention = numpy_softmax(scores, axis=1)
    y_hat = attention @ np.eye(3)[labels]
    np.testing.assert_allclose(numpy_softmax(logits), y_hat, rtol=1e-5, atol=1e-6)
    assert np.ptp(y_hat) > 1e-3


def test_scale_and_euclidean_options_change_only_the_scores(uneven_episode):
    episode, _ = uneven_episode
    labels = episode["support_labels"]
    keras.utils.set_random_seed(0)
    scaled = tiny_matching_network(scale=7.0)
    keras.utils.set_random_seed(0)
    euclidean = tiny_matching_network(similarity="euclidean")
    queries, support = embeddings_of(scaled, episode)
    distances = ((queries[:, None, :] - support[None, :, :]) ** 2).sum(axis=-1)
    for learner, scores in ((scaled, 7.0 * cosines(queries, support)), (euclidean, -distances)):
        y_hat = numpy_softmax(scores, axis=1) @ np.eye(3)[labels]
        probabilities = keras.ops.softmax(learner(episode))
        np.testing.assert_allclose(probabilities, y_hat, rtol=1e-4, atol=1e-6)


def test_a_learned_scale_is_a_weight_that_training_moves(episode):
    episode, labels = episode
    keras.utils.set_random_seed(0)
    learner = tiny_matching_network(scale=3.0, learn_scale=True)
    (scale,) = [weight for weight in learner.trainable_weights if weight.name == "scale"]
    assert float(scale) == 3.0
    learner.compile(optimizer=keras.optimizers.SGD(0.5))
    learner.fit(tf.data.Dataset.from_tensors((episode, labels)).repeat(2), verbose=0)
    assert float(scale) != 3.0
    classifier, _ = assert_adapted_matches_learner(learner, episode, ways=3)
    assert classifier.get_layer("matching").scale == pytest.approx(float(scale))


def test_the_papers_bounded_cosine_floors_the_loss_and_a_scale_lifts_the_floor(episode):
    """The embeddings end with ReLU and max-pooling, so cosines lie in [0, 1]: with 2 shots of
    3 classes the right class gets at most y_hat = 2e / (2e + 4), a loss of at least 0.549
    (half of log 3), however long the model trains. A scale of 10 goes below it."""
    episode, labels = episode
    floor = -np.log(2 * np.e / (2 * np.e + 4))
    losses = {}
    for scale in (1.0, 10.0):
        keras.utils.set_random_seed(0)
        learner = tiny_matching_network(scale=scale)
        learner.compile(optimizer=keras.optimizers.Adam(1e-2))
        data = tf.data.Dataset.from_tensors((episode, labels)).repeat(30)
        learner.fit(data, verbose=0)
        queries, support = embeddings_of(learner, episode)
        assert queries.min() >= 0 and support.min() >= 0
        logits = learner(episode)
        losses[scale] = float(learner.compute_loss(episode, labels, logits))
    assert floor < losses[1.0] < np.log(3)
    assert losses[10.0] < floor / 2


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="similarity"):
        zoo.MatchingNetwork(similarity="dot")
    with pytest.raises(ValueError, match="read_steps"):
        zoo.MatchingNetwork(fce=True, read_steps=0)


# -- the order of the support set ---------------------------------------------------------------
def permuted(episode, order):
    return dict(
        episode,
        support_images=episode["support_images"][order],
        support_labels=episode["support_labels"][order],
    )


def test_the_simple_model_ignores_the_support_order(simple):
    episode, _ = random_episode(ways=3, shots=3, queries=2, seed=4)
    order = np.random.default_rng(0).permutation(9)
    np.testing.assert_allclose(
        simple(permuted(episode, order)), simple(episode), rtol=1e-5, atol=1e-6
    )


def test_fce_sorts_the_support_set_by_label_keeping_the_order_within_classes(fce):
    episode, _ = random_episode(ways=3, shots=3, queries=2, seed=4)  # labels 0,0,0,1,1,1,2,2,2
    interleaved = np.array([6, 3, 0, 7, 1, 4, 8, 2, 5])  # same order within each class
    within = np.array([1, 0, 2, 3, 4, 5, 6, 7, 8])  # class 0's first two swapped
    logits = np.asarray(fce(episode))

    np.testing.assert_allclose(fce(permuted(episode, interleaved)), logits, rtol=1e-5, atol=1e-6)
    # The bidirectional LSTM reads a sequence: another order within a class is another input.
    assert np.abs(np.asarray(fce(permuted(episode, within))) - logits).max() > 1e-5
    # adapt sorts the same way as the learner.
    assert_adapted_matches_learner(fce, permuted(episode, interleaved), ways=3)


# -- the FCE LSTMs by hand ----------------------------------------------------------------------
def numpy_lstm_step(x, state, cell, kernel, recurrent_kernel, bias):
    """Keras' LSTM step (gates i, f, c, o): `(h, c)`."""
    z = x @ kernel + state @ recurrent_kernel + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    cell = numpy_sigmoid(f) * cell + numpy_sigmoid(i) * np.tanh(g)
    return numpy_sigmoid(o) * np.tanh(cell), cell


def test_attention_lstm_matches_a_hand_worked_example():
    """Two support embeddings of size 3, two queries, 2 read steps, weights set by hand."""
    support = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5]])
    queries = np.array([[0.5, 0.2, 0.1], [-0.3, 0.8, 0.4]])
    kernel = np.linspace(-0.6, 0.6, 3 * 12).reshape(3, 12)
    recurrent_kernel = np.cos(np.arange(6 * 12)).reshape(6, 12) * 0.3
    bias = np.linspace(-0.2, 0.2, 12)
    layer = AttentionLSTM(3, read_steps=2)
    layer.set_weights([kernel, recurrent_kernel, bias])

    # h_hat_0 = c_0 = 0, so h_0 = f'(x); then K = 2 reads.
    h, c = queries, np.zeros_like(queries)
    reads = []
    for _ in range(2):
        a = numpy_softmax(h @ support.T, axis=1)  # a(h_{k-1}, g(x_i))
        r = a @ support  # r_{k-1}
        reads.append(a)
        h_hat, c = numpy_lstm_step(
            queries, np.concatenate([h, r], axis=1), c, kernel, recurrent_kernel, bias
        )
        h = h_hat + queries  # h_k
    got = np.asarray(layer(queries.astype("float32"), support.astype("float32")))

    np.testing.assert_allclose(got, h, rtol=1e-5, atol=1e-6)
    assert np.abs(reads[1] - reads[0]).max() > 1e-3  # the second read differs from the first
    # One query alone gives the same output: no dependence between queries.
    alone = np.asarray(layer(queries[1:].astype("float32"), support.astype("float32")))
    np.testing.assert_allclose(alone, h[1:], rtol=1e-5, atol=1e-6)


def test_context_embedding_is_a_bidirectional_lstm_plus_the_skip():
    rng = np.random.default_rng(0)
    support = rng.normal(size=(4, 3))
    layer = SupportContextEmbedding(3)
    layer.build((4, 3))
    layer.set_weights([rng.normal(size=w.shape) * 0.5 for w in layer.get_weights()])
    forward_weights = [np.asarray(w) for w in layer.lstm.forward_layer.weights]
    backward_weights = [np.asarray(w) for w in layer.lstm.backward_layer.weights]

    def run(sequence, weights):
        h, c, outputs = np.zeros(3), np.zeros(3), []
        for x in sequence:
            h, c = numpy_lstm_step(x, h, c, *weights)
            outputs.append(h)
        return np.stack(outputs)

    forward = run(support, forward_weights)
    backward = run(support[::-1], backward_weights)[::-1]  # h_bwd_i: after reading n..i
    expected = forward + backward + support

    got = np.asarray(layer(support.astype("float32")))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # The last item's backward state has seen only itself; the first item's, all of them.
    np.testing.assert_allclose(backward[-1], run(support[-1:], backward_weights)[0], atol=1e-12)


# -- adapt, round trips, export -----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["simple", "fce"])
def test_adapt_equals_the_learner_and_classifies_each_query_alone(kind, request, uneven_episode):
    learner = request.getfixturevalue(kind)
    episode, _ = uneven_episode
    classifier, probabilities = assert_adapted_matches_learner(learner, episode, ways=3)
    head = classifier.get_layer("matching")
    assert head.support_embeddings.shape == (6, 32) and head.fce == (kind == "fce")
    for index in (0, 4):
        single = np.asarray(classifier(episode["query_images"][index : index + 1]))
        np.testing.assert_allclose(single, probabilities[index : index + 1], rtol=1e-4, atol=1e-6)
    if kind == "fce":
        for old, new in zip(learner.attention.weights, head.attention.weights, strict=True):
            np.testing.assert_array_equal(old, new)
            assert old is not new  # a copy: fine-tuning the classifier leaves the learner alone


def test_fce_adapts_new_tasks_of_one_shape_without_tracing_again(fce):
    """The sort and the bidirectional LSTM run compiled, traced once; the classifiers of all
    tasks share one compiled forward pass (`SharedForward`), traced once."""
    classifiers = []
    for seed in range(3):
        episode, _ = random_episode(ways=3, shots=2, queries=2, seed=seed)
        classifier = fce.adapt(episode["support_images"], episode["support_labels"])
        classifier.predict(episode["query_images"], verbose=0)
        classifiers.append(classifier)
    forwards = {id(classifier.shared_forward()) for classifier in classifiers}
    assert len(forwards) == 1 and id(None) not in forwards
    forward = classifiers[0].shared_forward()
    assert forward.function(False, None).experimental_get_tracing_count() == 1
    functions = fce.adaptation_cache._functions
    assert "support_sequence" in functions
    assert all(function.experimental_get_tracing_count() == 1 for function in functions.values())


def test_the_recipes_serve_the_eight_preset_names_and_the_scaled_option():
    from training.recipes import RECIPES
    from zoo.matching_network.matching_network_presets import MATCHING_NETWORK_PRESETS

    served = {}
    for name in ("matchingnet_omniglot", "matchingnet_fce_omniglot"):
        recipe = RECIPES[name]
        assert recipe["model"]["fce"] == ("fce" in name) and not recipe["transductive"]
        served.update(recipe["presets"])
    assert len(served) == 8
    settings = {(5, 1): 98.1, (5, 5): 98.9, (20, 1): 93.8, (20, 5): 98.5}
    for preset, setting in served.items():
        assert preset.endswith(f"_{setting[0]}way_{setting[1]}shot")
        assert RECIPES["matchingnet_omniglot"]["paper"][setting] == settings[setting]
    # The option beside the paper's model: the simple model with a learned scale.
    scaled = RECIPES["matchingnet_scaled_omniglot"]
    assert scaled["model"]["learn_scale"] and not scaled["model"]["fce"]
    assert scaled["paper"] == RECIPES["matchingnet_omniglot"]["paper"]
    assert set(MATCHING_NETWORK_PRESETS) == set(served) | set(scaled["presets"])  # all ship
