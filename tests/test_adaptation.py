"""What `adapt` builds once and shares, and what every adapted classifier keeps to itself.

Classifiers of one learner share network structures (`NetworkCopy`) and a compiled forward
pass (`SharedForward`), but each owns its weights: adapting or fine-tuning one task changes no
other task's classifier nor the learner. The compiled functions are traced once per shape and
read the learner's weights at every call, so a learner trained further adapts with its new
weights.
"""

import keras
import numpy as np
import pytest
from conftest import (
    any_weight_changed,
    assert_adapted_matches_learner,
    assert_weights_equal,
    random_episode,
    tiny_maml,
    tiny_protonet,
    weights_of,
)

import zoo
from zoo.adapted_classifier import AdaptedClassifier
from zoo.layers.network_copy import NetworkCopy

TINY = {"protonet": tiny_protonet, "maml": tiny_maml}


@pytest.fixture(params=sorted(TINY))
def learner(request):
    keras.utils.set_random_seed(0)
    return TINY[request.param]()


def adapt(learner, seed):
    episode, labels = random_episode(seed=seed)
    return learner.adapt(episode["support_images"], episode["support_labels"]), episode, labels


def test_classifiers_of_different_tasks_are_independent(learner):
    learner_weights = weights_of(learner)
    first, episode, _ = adapt(learner, seed=1)
    queries = episode["query_images"]
    before = np.asarray(first(queries))
    first_weights = weights_of(first)

    second, other, labels = adapt(learner, seed=2)
    assert not np.allclose(np.asarray(second(queries)), before)
    assert not {id(w) for w in first.weights} & {id(w) for w in second.weights}
    second.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    second_weights = weights_of(second)
    second.fit(other["query_images"], labels, epochs=2, batch_size=len(labels), verbose=0)

    assert any_weight_changed(second_weights, weights_of(second))
    assert_weights_equal(first_weights, weights_of(first))
    np.testing.assert_array_equal(np.asarray(first(queries)), before)
    assert_weights_equal(learner_weights, weights_of(learner))


def test_classifiers_of_one_shape_share_one_trace(learner):
    classifiers = [adapt(learner, seed)[0] for seed in range(3)]
    rng = np.random.default_rng(0)
    for size, classifier in zip((1, 5, 7), classifiers, strict=True):
        assert isinstance(classifier, AdaptedClassifier)
        classifier(rng.uniform(0, 255, (size, 20, 12, 1)).astype("float32"))
        classifier.predict(rng.uniform(0, 255, (size, 8, 8, 1)).astype("uint8"), verbose=0)
    forwards = {id(classifier._forward.value) for classifier in classifiers}
    assert len(forwards) == 1 and None not in forwards
    forward = classifiers[0]._forward.value
    assert forward.function(False, None).experimental_get_tracing_count() == 1
    cache = learner.adaptation_cache
    assert all(f.experimental_get_tracing_count() == 1 for f in cache._functions.values())


def test_fast_predict_equals_keras_predict(learner):
    """Batch by batch, as Keras: MAML normalizes with each batch's statistics."""
    classifier, episode, _ = adapt(learner, seed=3)
    queries = np.concatenate([episode["query_images"]] * 7)  # 42: batches of 32 and 10
    for batch_size in (None, 5):
        fast = classifier.predict(queries, batch_size=batch_size, verbose=0)
        keras_predict = keras.Model.predict(classifier, queries, batch_size=batch_size, verbose=0)
        assert fast.shape == (42, 3)
        np.testing.assert_allclose(fast, keras_predict, rtol=1e-5, atol=1e-7)


def test_a_learner_trained_after_adapting_adapts_with_its_new_weights(learner):
    old, episode, _ = adapt(learner, seed=4)
    old_probabilities = np.asarray(old(episode["query_images"]))
    for variable in learner.trainable_variables:
        if "kernel" in variable.path:
            variable.assign(variable * 1.5)
    _, probabilities = assert_adapted_matches_learner(learner, episode, ways=3)
    assert not np.allclose(probabilities, old_probabilities)
    np.testing.assert_array_equal(np.asarray(old(episode["query_images"])), old_probabilities)


def test_maml_adapts_with_the_current_number_of_inner_steps(episode):
    episode, _ = episode
    learner = tiny_maml(eval_inner_steps=1)
    _, one_step = assert_adapted_matches_learner(learner, episode, ways=3)
    learner.eval_inner_steps = 4
    _, four_steps = assert_adapted_matches_learner(learner, episode, ways=3)
    assert np.abs(one_step - four_steps).max() > 1e-4


def test_protonet_adapts_to_any_number_of_ways():
    learner = tiny_protonet()
    for ways in (2, 4, 3):
        episode, _ = random_episode(ways=ways, seed=ways)
        assert_adapted_matches_learner(learner, episode, ways=ways)
    assert len(learner.adaptation_cache._forwards) == 3


def test_network_copy_owns_its_weights_and_batch_statistics():
    keras.utils.set_random_seed(0)
    network = zoo.conv4_backbone(4, 2, image_size=8)
    copy = NetworkCopy(network)
    images = np.random.default_rng(0).uniform(0, 1, (5, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(copy(images)), np.asarray(network(images)), atol=1e-6)
    assert [w.path for w in copy.weights] == [
        "conv4/trainable_values",
        "conv4/non_trainable_values",
    ]
    assert not {id(w) for w in copy.weights} & {id(w) for w in network.weights}
    for flat, weights in zip(
        copy.weights, (network.trainable_weights, network.non_trainable_weights), strict=True
    ):
        end_to_end = np.concatenate([np.asarray(w).ravel() for w in weights])
        np.testing.assert_array_equal(np.asarray(flat), end_to_end)
    for value, weight in zip(copy.weight_values(), network.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(value), np.asarray(weight))

    source = weights_of(network)
    copy(images, training=True)  # batch normalization updates its moving averages
    assert_weights_equal(source, weights_of(network))
    moving = [
        v
        for v, w in zip(copy.weight_values(), network.weights, strict=True)
        if "moving_mean" in w.path
    ]
    assert moving and any(np.abs(np.asarray(v)).max() > 0 for v in moving)
    assert [w.trainable for w in copy.weights] == [True, False]


def test_network_copy_takes_the_given_values():
    keras.utils.set_random_seed(0)
    network = zoo.conv4_backbone(4, 2, image_size=8)
    rng = np.random.default_rng(1)
    values = [rng.normal(size=w.shape).astype("float32") for w in network.weights]
    copy = NetworkCopy(network, values)
    for value, given in zip(copy.weight_values(), values, strict=True):
        np.testing.assert_array_equal(np.asarray(value), given)
    images = rng.uniform(0, 1, (3, 8, 8, 1)).astype("float32")
    network.set_weights(values)
    np.testing.assert_allclose(np.asarray(copy(images)), np.asarray(network(images)), atol=1e-6)
    with pytest.raises(ValueError, match="11 values for the 12 weights"):
        NetworkCopy(network, values[:-1])


def test_a_learner_saves_the_same_after_adapting(tmp_path):
    learner = tiny_protonet()
    count = len(learner.weights)
    adapt(learner, seed=5)
    assert len(learner.weights) == count and len(learner.layers) == 2
    learner.save(tmp_path / "learner.keras")
    loaded = keras.saving.load_model(tmp_path / "learner.keras")
    assert_weights_equal(weights_of(learner), weights_of(loaded))


class ClonedHeadProtoNet(zoo.PrototypicalNetwork):
    """A learner whose own `task_head` returns ordinary layers: a clone of its backbone."""

    def task_head(self, support, support_labels):
        backbone = keras.models.clone_model(self.backbone)
        backbone.set_weights(self.backbone.get_weights())
        return [backbone, self.metric_head(self.embed(support), support_labels)]


def test_a_task_head_of_ordinary_layers_shares_one_forward_pass():
    learner = ClonedHeadProtoNet(filters=8, blocks=2, image_size=8).build_for_episode(3, 2)
    classifiers = []
    for seed in (6, 7):
        episode, _ = random_episode(seed=seed)
        classifier, _ = assert_adapted_matches_learner(learner, episode, ways=3)
        classifiers.append(classifier)
    first, second = (classifier.shared_forward() for classifier in classifiers)
    assert first is second is not None
    assert len(learner.adaptation_cache._forwards) == 1
