"""Relation Network: the relation module, the K-shot sum and the loss, by hand."""

import keras
import numpy as np
import pytest
from conftest import assert_adapted_matches_learner, random_episode
from contract_learners import tiny_relation_network

import zoo
from zoo.relation_network.relation_loss import relation_scores
from zoo.relation_network.relation_module import RelationModule, class_features


@pytest.fixture
def module():
    keras.utils.set_random_seed(0)
    layer = RelationModule(filters=4, hidden_units=3)
    layer.build((None, 5, 5, 4), (None, 5, 5, 4))
    rng = np.random.default_rng(0)
    for weight in layer.weights:
        value = rng.normal(0, 0.5, weight.shape)
        weight.assign(np.abs(value) + 0.5 if "variance" in weight.path else value)
    return layer


def concatenated_reference(module, class_maps, query_maps, training):
    """The paper's g_phi on C(class map, query map): one convolution over 2c channels."""
    kernel = np.concatenate(
        [np.asarray(module.class_conv.kernel), np.asarray(module.query_conv.kernel)], axis=2
    )
    conv = keras.layers.Conv2D(module.filters, 3, padding="same")
    conv.build((None, 5, 5, 2 * class_maps.shape[-1]))
    conv.set_weights([kernel, np.asarray(module.class_conv.bias)])
    ways, queries = len(class_maps), len(query_maps)
    pairs = np.concatenate(
        [
            np.broadcast_to(class_maps[None], (queries, *class_maps.shape)),
            np.broadcast_to(query_maps[:, None], (queries, ways, *query_maps.shape[1:])),
        ],
        axis=-1,
    ).reshape(queries * ways, 5, 5, -1)
    x = conv(pairs)
    x = module.pool(keras.ops.relu(module.norm0(x, training=training)))
    x = module.pool(keras.ops.relu(module.norm1(module.conv1(x), training=training)))
    logits = module.relation(module.hidden(keras.ops.reshape(x, (queries * ways, -1))))
    return np.asarray(logits).reshape(queries, ways)


@pytest.mark.parametrize("training", [False, True])
def test_split_first_convolution_equals_the_concatenation(module, training):
    rng = np.random.default_rng(1)
    class_maps = rng.normal(size=(3, 5, 5, 4)).astype("float32")
    query_maps = rng.normal(size=(7, 5, 5, 4)).astype("float32")
    logits = np.asarray(module(class_maps, query_maps, training=training))
    assert logits.shape == (7, 3)
    expected = concatenated_reference(module, class_maps, query_maps, training)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
    assert np.ptp(expected) > 0.1


def test_relation_logits_have_a_row_per_query_and_a_column_per_class(module):
    for ways, queries in [(1, 1), (5, 2), (20, 3)]:
        logits = module(np.ones((ways, 5, 5, 4), "float32"), np.ones((queries, 5, 5, 4), "float32"))
        assert tuple(logits.shape) == (queries, ways)


def test_a_class_is_the_sum_of_its_support_maps():
    rng = np.random.default_rng(2)
    maps = rng.normal(size=(6, 2, 2, 3)).astype("float32")
    labels = np.array([2, 0, 1, 2, 0, 2], "int32")
    summed = np.asarray(class_features(maps, labels, 3))
    expected = np.stack([maps[labels == k].sum(axis=0) for k in range(3)])
    np.testing.assert_allclose(summed, expected, rtol=1e-6, atol=1e-6)


def test_relation_scores_of_the_model_are_in_zero_one():
    """The model's logits map to scores in [0, 1]: 0.5 at logit 0, the bounds at extremes."""
    keras.utils.set_random_seed(0)
    learner = tiny_relation_network()
    episode, _ = random_episode(ways=3, shots=2, queries=2, size=28, seed=6)
    logits = np.asarray(learner(episode))
    for values in (logits, 100 * logits, np.array([[-1e4, 0.0, 1e4]], "float32")):
        scores = np.asarray(relation_scores(values))
        assert scores.shape == values.shape
        assert np.all((scores >= 0) & (scores <= 1))
        expected = 0.5 * (1 + np.tanh(0.5 * values.astype("float64")))  # sigmoid, no overflow
        np.testing.assert_allclose(scores, expected, atol=1e-6)
    np.testing.assert_array_equal(relation_scores(np.array([-1e4, 0.0, 1e4])), [0.0, 0.5, 1.0])


def test_mean_squared_error_of_scores_against_one_hot_targets():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, size=(4, 3)).astype("float32")
    labels = np.array([0, 2, 1, 2])
    scores = 1.0 / (1.0 + np.exp(-logits.astype("float64")))
    expected = np.mean((scores - np.eye(3)[labels]) ** 2)
    loss = float(zoo.RelationMeanSquaredError()(labels, logits))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_compile_defaults_to_the_relation_loss():
    learner = tiny_relation_network()
    learner.compile()
    assert isinstance(learner.loss, zoo.RelationMeanSquaredError)


def test_logits_follow_the_definition():
    keras.utils.set_random_seed(0)
    learner = tiny_relation_network()
    episode, _ = random_episode(ways=3, shots=2, queries=2, size=28, seed=4)
    preprocess = learner.preprocessing
    support = learner.backbone(preprocess(episode["support_images"]))
    queries = learner.backbone(preprocess(episode["query_images"]))
    assert tuple(support.shape) == (6, 5, 5, 8)
    classes = class_features(support, episode["support_labels"], 3)
    expected = np.asarray(learner.relation_module(classes, queries))
    np.testing.assert_allclose(learner(episode), expected, rtol=1e-4, atol=1e-5)


def test_adapted_classifier_scores_each_image_on_its_own():
    keras.utils.set_random_seed(0)
    learner = tiny_relation_network()
    episode, _ = random_episode(ways=3, shots=2, queries=3, size=28, seed=5)
    classifier, probabilities = assert_adapted_matches_learner(learner, episode, ways=3)
    for index in range(len(probabilities)):
        alone = np.asarray(classifier(episode["query_images"][index : index + 1]))
        np.testing.assert_allclose(alone[0], probabilities[index], rtol=1e-5, atol=1e-6)


def test_images_too_small_for_the_relation_module():
    with pytest.raises(ValueError, match="at least 22x22"):
        zoo.RelationNetwork(filters=8, image_size=16)


def test_the_transductive_setting_uses_the_episode_statistics_and_leaves_the_learner_alone():
    from conftest import weights_of

    keras.utils.set_random_seed(0)
    learner = tiny_relation_network()
    episode, _ = random_episode(ways=3, shots=2, queries=2, size=28, seed=6)
    other = dict(episode, query_images=np.concatenate([episode["query_images"][:1]] * 6))
    before = weights_of(learner)
    transductive = learner.transductive_predictor()
    # Query 0 is the same image in both episodes; only its companions differ.
    first, second = np.asarray(transductive(episode))[0], np.asarray(transductive(other))[0]
    assert np.abs(first - second).max() > 1e-4
    np.testing.assert_allclose(learner(episode)[0], learner(other)[0], rtol=1e-5, atol=1e-6)
    for old, new in zip(before, weights_of(learner), strict=True):
        np.testing.assert_array_equal(old, new)
