"""Prototypical Network: logits by hand, uneven shots, trainable prototypes.

What every learner must do (adapt, fine-tune, fit, save, export) is in test_contract.py.
"""

import keras
import numpy as np
import pytest
from conftest import assert_adapted_matches_learner


def numpy_preprocess(images, size):
    """Area resize by an integer factor (block means), scale to [0, 1], invert."""
    images = np.asarray(images, "float64")
    factor = images.shape[1] // size
    blocks = images.reshape(len(images), size, factor, size, factor, 1).mean(axis=(2, 4))
    return (1.0 - blocks / 255.0).astype("float32")


def hand_logits(learner, episode, training):
    """Embed with the backbone, average each class, negative squared Euclidean distances."""
    size = learner.image_size
    support = numpy_preprocess(episode["support_images"], size)
    queries = numpy_preprocess(episode["query_images"], size)
    both = np.concatenate([support, queries])
    embeddings = np.asarray(learner.backbone(both, training=training), "float64")
    support_embeddings, query_embeddings = embeddings[: len(support)], embeddings[len(support) :]
    labels = np.asarray(episode["support_labels"])
    prototypes = np.stack(
        [support_embeddings[labels == k].mean(axis=0) for k in range(labels.max() + 1)]
    )
    differences = query_embeddings[:, None, :] - prototypes[None, :, :]
    return -(differences**2).sum(axis=-1)


@pytest.mark.parametrize("training", [False, True])
def test_logits_match_a_hand_computation(protonet, uneven_episode, training):
    episode, _ = uneven_episode
    expected = hand_logits(protonet, episode, training)
    logits = np.asarray(protonet(episode, training=training))
    assert logits.shape == (6, 3)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    assert np.abs(expected).max() > 1e-2


def test_adapt_with_uneven_shots_is_not_transductive(protonet, uneven_episode):
    episode, _ = uneven_episode
    classifier, probabilities = assert_adapted_matches_learner(protonet, episode, ways=3)
    # Not transductive: one query at a time gives the same probabilities.
    single = np.asarray(classifier(episode["query_images"][:1]))
    np.testing.assert_allclose(single, probabilities[:1], rtol=1e-4, atol=1e-6)


def test_fine_tuning_the_classifier_moves_its_prototypes(protonet, episode):
    episode, _ = episode
    classifier = protonet.adapt(episode["support_images"], episode["support_labels"])
    prototypes = classifier.get_layer("prototypes").get_weights()[0]
    assert prototypes.shape == (3, 32)
    classifier.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    classifier.fit(
        episode["support_images"], episode["support_labels"], epochs=1, batch_size=6, verbose=0
    )
    assert not np.array_equal(prototypes, classifier.get_layer("prototypes").get_weights()[0])
