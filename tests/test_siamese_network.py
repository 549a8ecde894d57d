"""Siamese network: the weighted L1 similarity, class scores and the loss, by hand."""

import keras
import numpy as np
import pytest
from conftest import IMAGE_SIZE, assert_adapted_matches_learner, random_episode

import zoo
from zoo.siamese_network.similarity import class_scores


def test_weighted_l1_similarity_against_numpy():
    rng = np.random.default_rng(0)
    first = rng.normal(size=(4, 5)).astype("float32")
    second = rng.normal(size=(3, 5)).astype("float32")
    layer = zoo.WeightedL1Similarity()
    layer.build((None, 5))
    alpha = rng.normal(size=5).astype("float32")
    layer.set_weights([alpha, np.float32(0.3)])
    expected = np.abs(first[:, None] - second[None]) @ alpha + 0.3
    np.testing.assert_allclose(layer(first, second), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_a_class_scores_by_the_mean_or_max_of_its_shots(pooling):
    logits = np.array([[0.1, 2.0, -1.0, 0.5, 0.7], [1.0, -2.0, 3.0, 0.0, -0.5]], "float32")
    labels = np.array([1, 0, 1, 2, 2], "int32")
    reduce = np.mean if pooling == "mean" else np.max
    expected = np.stack([[reduce(row[labels == k]) for k in range(3)] for row in logits]).astype(
        "float32"
    )
    np.testing.assert_allclose(class_scores(logits, labels, 3, pooling), expected, rtol=1e-6)


def test_the_loss_balances_same_and_different_pairs():
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 1.0, -3.0]], "float32")
    labels = np.array([0, 2])

    def bce(target, logit):
        p = 1.0 / (1.0 + np.exp(-logit))
        return -(target * np.log(p) + (1 - target) * np.log(1 - p))

    per_query = []
    for row, label in zip(logits, labels, strict=True):
        same = bce(1.0, row[label])
        different = np.mean([bce(0.0, value) for k, value in enumerate(row) if k != label])
        per_query.append(0.5 * (same + different))
    loss = float(zoo.BalancedVerificationLoss()(labels, logits))
    np.testing.assert_allclose(loss, np.mean(per_query), rtol=1e-5)


def test_compile_defaults_to_the_verification_loss():
    learner = zoo.SiameseNetwork(filters=8, blocks=2, image_size=IMAGE_SIZE)
    learner.compile()
    assert isinstance(learner.loss, zoo.BalancedVerificationLoss)


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_logits_follow_the_definition_and_adapt_matches(pooling):
    keras.utils.set_random_seed(0)
    learner = zoo.SiameseNetwork(filters=8, blocks=2, image_size=IMAGE_SIZE, shot_pooling=pooling)
    learner.build_for_episode(3, 2)
    episode, _ = random_episode(ways=3, shots=2, queries=2, seed=1)
    support = learner.backbone(learner.preprocessing(episode["support_images"]))
    queries = learner.backbone(learner.preprocessing(episode["query_images"]))
    pairs = np.abs(np.asarray(queries)[:, None] - np.asarray(support)[None])
    alpha, bias = (np.asarray(w) for w in learner.similarity.weights)
    expected = class_scores(pairs @ alpha + bias, episode["support_labels"], 3, pooling)
    np.testing.assert_allclose(learner(episode), expected, rtol=1e-4, atol=1e-5)
    classifier, probabilities = assert_adapted_matches_learner(learner, episode, ways=3)
    alone = np.asarray(classifier(episode["query_images"][:1]))
    np.testing.assert_allclose(alone, probabilities[:1], rtol=1e-5, atol=1e-6)


def test_koch_encoder_has_the_papers_shape():
    learner = zoo.SiameseNetwork(encoder="koch")
    assert learner.image_size == 105
    assert learner.backbone.output_shape == (None, 4096)
    assert learner.backbone.get_layer("flatten").output.shape[-1] == 9216
    convolutions = (10 * 10 * 64 + 64) + (7 * 7 * 64 * 128 + 128) + (4 * 4 * 128 * 128 + 128)
    convolutions += 4 * 4 * 128 * 256 + 256
    assert learner.backbone.count_params() == convolutions + 9216 * 4096 + 4096


@pytest.mark.parametrize(
    "options, match",
    [({"encoder": "resnet"}, "encoder must be one of"), ({"shot_pooling": "sum"}, "shot_pooling")],
)
def test_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        zoo.SiameseNetwork(**options)
