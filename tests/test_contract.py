"""The contract every meta-learner of the zoo keeps, checked for each entry of the registry.

Each test runs once per entry of `contract_learners.CONTRACT_LEARNERS` (a tiny model) on random
8x8 episodes with `ways_of(learner)` classes: the episode `call`, `adapt` and fine-tuning the
adapted classifier, meta-training with `fit`, configs and `.keras` files, SavedModel and ONNX
export, bad input, and `fit` under `tf.distribute.MirroredStrategy`. A new model joins by one
entry there; its own equations are tested in its own file.
"""

import inspect
import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import onnxruntime
import pytest
import tensorflow as tf
from conftest import (
    any_weight_changed,
    assert_adapted_matches_learner,
    assert_weights_equal,
    random_episode,
    weights_of,
)
from contract_learners import (
    CONTRACT_LEARNERS,
    META_STEPS,
    build_learner,
    contract_entry,
    meta_trained,
    sharp_classifier,
    ways_of,
)

import zoo
from export import to_onnx, to_saved_model
from export.verify import TOLERANCE
from zoo.adapted_classifier import SharedForward

NAMES = sorted(CONTRACT_LEARNERS)
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed_worker.py")


@pytest.fixture(scope="module", params=NAMES)
def name(request):
    return request.param


@pytest.fixture(scope="module")
def learner(name):
    """A tiny learner shared by the tests that must not change it (and check they do not)."""
    return build_learner(name)


@pytest.fixture(scope="module")
def task(learner):
    """`(episode, query_labels)`: a random episode of the learner's ways, 2 shots, 2 queries."""
    return random_episode(ways=ways_of(learner), shots=2, queries=2, seed=0)


FAMILY_BASES = (zoo.MetaLearner, zoo.MetricLearner, zoo.GradientLearner)


def test_every_meta_learner_the_zoo_exports_is_in_the_registry():
    exported = {
        value
        for value in (getattr(zoo, name) for name in zoo.__all__)
        if isinstance(value, type) and issubclass(value, zoo.MetaLearner)
    }
    registered = {type(build_learner(name)) for name in NAMES}
    missing = sorted(cls.__name__ for cls in exported - registered - set(FAMILY_BASES))
    assert not missing, f"add {missing} to CONTRACT_LEARNERS in tests/contract_learners.py"


# -- 1. call -------------------------------------------------------------------------------------
def test_call_gives_logits_of_one_episode_and_of_each_task_of_a_meta_batch(learner):
    ways = ways_of(learner)
    tasks = [random_episode(ways=ways, shots=2, queries=2, seed=seed)[0] for seed in range(3)]
    single = np.asarray(learner(tasks[0]))
    assert single.shape == (2 * ways, ways)
    assert np.all(np.isfinite(single))

    batch = {key: np.stack([task[key] for task in tasks]) for key in tasks[0]}
    logits = np.asarray(learner(batch))
    assert logits.shape == (3, 2 * ways, ways)
    assert np.all(np.isfinite(logits))
    for index, task in enumerate(tasks):
        np.testing.assert_allclose(logits[index], learner(task), rtol=1e-5, atol=1e-5)
    assert np.abs(logits[0] - logits[1]).max() > 1e-6, "different tasks, different logits"


def test_uint8_pixels_give_the_outputs_of_float_pixels_of_the_same_values(learner):
    episode, _ = random_episode(ways=ways_of(learner), seed=2, dtype="uint8")
    assert episode["support_images"].dtype == np.uint8
    floats = dict(episode)
    for key in ("support_images", "query_images"):
        floats[key] = episode[key].astype("float32")
    np.testing.assert_allclose(learner(episode), learner(floats), rtol=1e-6, atol=1e-6)
    classifier = learner.adapt(episode["support_images"], episode["support_labels"])
    np.testing.assert_allclose(
        classifier(episode["query_images"]), classifier(floats["query_images"]), rtol=1e-6
    )


# -- 2. adapt ------------------------------------------------------------------------------------
def test_adapt_returns_a_plain_model_with_the_learner_probabilities(learner, task):
    episode, _ = task
    before = weights_of(learner)
    assert_adapted_matches_learner(learner, episode, ways_of(learner))
    assert_weights_equal(before, weights_of(learner))


def test_the_adapted_classifier_classifies_each_image_on_its_own(learner, task):
    """An image gets the same probabilities alone as in a batch of 50 others (not transductive)."""
    episode, _ = task
    classifier = learner.adapt(episode["support_images"], episode["support_labels"])
    image = episode["query_images"][:1]
    others, _ = random_episode(ways=ways_of(learner), shots=1, queries=50, seed=7)
    batch = np.concatenate([image, others["query_images"][:50]])
    alone = np.asarray(classifier(image))
    np.testing.assert_allclose(np.asarray(classifier(batch))[:1], alone, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(classifier(batch[::-1]))[-1:], alone, rtol=1e-5, atol=1e-6
    )


def test_the_adapted_classifier_fine_tunes_and_leaves_the_learner_alone(learner, task):
    episode, _ = task
    images, labels = episode["support_images"], episode["support_labels"]
    learner_weights = weights_of(learner)
    classifier = learner.adapt(images, labels)
    adapted_weights = weights_of(classifier)
    classifier.compile(keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    history = classifier.fit(images, labels, epochs=5, batch_size=len(labels), verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0], f"fine-tuning loss did not fall: {losses}"
    assert any_weight_changed(adapted_weights, weights_of(classifier))
    assert_weights_equal(learner_weights, weights_of(learner))


def test_adapting_and_fine_tuning_task_b_leaves_the_classifier_of_task_a_alone(learner):
    """Classifiers of two tasks share structure and compiled passes, never variables."""
    ways = ways_of(learner)
    task_a, _ = random_episode(ways=ways, shots=2, queries=2, seed=3)
    task_b, labels_b = random_episode(ways=ways, shots=2, queries=2, seed=4)
    learner_weights = weights_of(learner)
    queries = task_a["query_images"]
    classifier_a = learner.adapt(task_a["support_images"], task_a["support_labels"])
    before = np.asarray(classifier_a(queries))
    weights_a = weights_of(classifier_a)

    classifier_b = learner.adapt(task_b["support_images"], task_b["support_labels"])
    assert any_weight_changed(weights_a, weights_of(classifier_b)), "task B is not task A"
    assert not np.array_equal(np.asarray(classifier_b(queries)), before)
    assert not {id(v) for v in classifier_a.variables} & {id(v) for v in classifier_b.variables}
    classifier_b.compile(keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    weights_b = weights_of(classifier_b)
    classifier_b.fit(task_b["query_images"], labels_b, epochs=2, batch_size=2 * ways, verbose=0)

    assert any_weight_changed(weights_b, weights_of(classifier_b))
    assert_weights_equal(weights_a, weights_of(classifier_a))
    np.testing.assert_array_equal(np.asarray(classifier_a(queries)), before)
    assert_weights_equal(learner_weights, weights_of(learner))


def _tracing_counts(learner, classifier):
    """How often each compiled function of `learner`'s adaptation and of the classifier's
    shared forward pass has been traced, by function."""
    forward = classifier.shared_forward()
    functions = {
        **{("adapt", repr(key)): f for key, f in learner.adaptation_cache._functions.items()},
        **{("forward", key): f for key, f in forward._functions.items()},
    }
    return {key: f.experimental_get_tracing_count() for key, f in functions.items()}


def test_a_new_task_of_the_same_shape_traces_nothing_and_shares_the_compiled_pass(learner):
    """Issue 18's one mechanism, for every model: after a first task, `adapt` and `predict`
    on a second task of the same shapes run the learner's compiled functions and the
    classifiers' shared forward pass as they are, without tracing them again."""
    ways = ways_of(learner)
    first, second = (random_episode(ways=ways, shots=3, queries=4, seed=s)[0] for s in (21, 22))
    classifier_a = learner.adapt(first["support_images"], first["support_labels"])
    classifier_a.predict(first["query_images"], verbose=0)
    classifier_a(first["query_images"][:1])
    forward = classifier_a.shared_forward()
    assert isinstance(forward, SharedForward), f"{type(learner).__name__} has no shared pass"
    before = _tracing_counts(learner, classifier_a)

    classifier_b = learner.adapt(second["support_images"], second["support_labels"])
    classifier_b.predict(second["query_images"], verbose=0)
    classifier_b(second["query_images"][:1])

    assert classifier_b.shared_forward() is forward
    assert _tracing_counts(learner, classifier_b) == before
    assert all(count >= 1 for count in before.values())


# -- 3. meta-training ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(name):
    """A learner meta-trained with `fit` on one fixed episode (`contract_learners.meta_trained`)."""
    return meta_trained(name)


def test_fit_meta_trains_and_evaluate_reports_accuracy(name, trained):
    learner, losses = trained["learner"], trained["losses"]
    assert len(losses) == META_STEPS and np.all(np.isfinite(losses))
    fraction = contract_entry(name).loss_fraction
    assert losses[-1] < fraction * losses[0], f"{META_STEPS} steps, losses {losses}"
    assert any_weight_changed(trained["before"], weights_of(learner))

    result = learner.evaluate(trained["data"], verbose=0, return_dict=True)
    predicted = np.argmax(np.asarray(learner(trained["episode"])), axis=-1)
    assert result["accuracy"] == pytest.approx(np.mean(predicted == trained["labels"]))
    assert np.isfinite(result["loss"])


# -- 4. configs and .keras files -----------------------------------------------------------------
def constructor_arguments(learner):
    """Names of the arguments of every `__init__` from the learner's class up to MetaLearner."""
    names = set()
    for cls in type(learner).__mro__:
        if isinstance(cls, type) and issubclass(cls, zoo.MetaLearner):
            for parameter in inspect.signature(cls.__init__).parameters.values():
                if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                    names.add(parameter.name)
    return names - {"self"}


def test_config_round_trip_gives_the_same_logits(learner, task):
    episode, _ = task
    config = learner.get_config()
    missing = constructor_arguments(learner) - set(config)
    assert not missing, f"get_config lacks constructor arguments {sorted(missing)}"
    assert type(learner).from_config(config).get_config() == config
    changed = dict(config, name="renamed", invert=not config["invert"])
    assert type(learner).from_config(changed).get_config() == changed

    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(learner))
    assert type(restored) is type(learner)
    assert restored.get_config() == config
    restored.build_for_episode(ways_of(learner), 2)
    restored.set_weights(learner.get_weights())
    np.testing.assert_array_equal(restored(episode), learner(episode))


def test_keras_file_round_trip_of_a_compiled_trained_learner(trained, tmp_path):
    learner, data, episode = trained["learner"], trained["data"], trained["episode"]
    path = str(tmp_path / "learner.keras")

    learner.save(path)
    loaded = keras.saving.load_model(path)

    assert type(loaded) is type(learner)
    assert loaded.get_config() == learner.get_config()
    assert_weights_equal(weights_of(learner), weights_of(loaded))
    np.testing.assert_array_equal(loaded(episode), learner(episode))
    # The optimizer comes back with its state: training goes on where it stopped.
    steps = int(learner.optimizer.iterations)
    assert steps >= META_STEPS and int(loaded.optimizer.iterations) == steps
    assert_weights_equal(
        [np.asarray(v) for v in learner.optimizer.variables],
        [np.asarray(v) for v in loaded.optimizer.variables],
    )
    loaded.fit(data, epochs=1, verbose=0)
    learner.fit(data, epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations) == steps + 1
    for old, new in zip(weights_of(learner), weights_of(loaded), strict=True):
        np.testing.assert_allclose(new, old, rtol=1e-5, atol=1e-6)


def test_keras_file_round_trip_of_an_adapted_classifier(learner, task, tmp_path):
    episode, _ = task
    classifier = learner.adapt(episode["support_images"], episode["support_labels"])
    path = str(tmp_path / "classifier.keras")
    classifier.save(path)
    loaded = keras.saving.load_model(path)
    queries = episode["query_images"]
    np.testing.assert_array_equal(loaded(queries), classifier(queries))
    # Raw images of another size go through the same preprocessing.
    larger = np.repeat(np.repeat(queries, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(loaded(larger), classifier(queries), rtol=1e-5, atol=1e-6)


# -- 5. export -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def adapted(trained):
    """`(classifier, queries)`: the trained learner adapted to its task, outputs spread out."""
    return sharp_classifier(trained)


def test_saved_model_export_matches_keras(adapted, tmp_path):
    classifier, queries = adapted
    result = to_saved_model(classifier, tmp_path / "model")

    assert os.path.isfile(os.path.join(result.path, "saved_model.pb"))
    assert 0.0 <= result.max_abs_diff <= TOLERANCE
    serving = tf.saved_model.load(result.path).signatures["serving_default"]
    spec = serving.structured_input_signature[1]["images"]
    assert spec.shape.as_list() == [None, None, None, 1] and spec.dtype == tf.float32
    assert list(serving.structured_outputs) == ["probabilities"]
    # The task's own queries: 8x8, a size the exporter's verification does not use.
    np.testing.assert_allclose(
        serving(images=tf.constant(queries))["probabilities"].numpy(),
        np.asarray(classifier(queries)),
        rtol=0,
        atol=TOLERANCE,
    )


def test_onnx_export_matches_keras(adapted, tmp_path):
    classifier, queries = adapted
    result = to_onnx(classifier, tmp_path / "model.onnx")

    assert 0.0 <= result.max_abs_diff <= TOLERANCE
    session = onnxruntime.InferenceSession(result.path, providers=["CPUExecutionProvider"])
    (images,), (probabilities,) = session.get_inputs(), session.get_outputs()
    assert (images.name, probabilities.name) == ("images", "probabilities")
    assert images.type == "tensor(float)"
    assert [isinstance(d, int) for d in images.shape] == [False, False, False, True]
    # The task's own queries: 8x8, a size the exporter's verification does not use.
    np.testing.assert_allclose(
        session.run(None, {"images": queries})[0],
        np.asarray(classifier(queries)),
        rtol=0,
        atol=TOLERANCE,
    )


# -- 6. bad input --------------------------------------------------------------------------------
def _labels(changed):
    return lambda images, labels: (images, np.asarray(changed(labels)))


def _with_pixel(value):
    def change(images, labels):
        images = images.copy()
        images[1, 2, 3, 0] = value
        return images, labels

    return change


BAD_SUPPORT_SETS = {
    "one label too few": (_labels(lambda y: y[:-1]), "labels for"),
    "labels of rank 2": (_labels(lambda y: y[:, None]), "1-D"),
    "a label past the last class": (
        _labels(lambda y: np.where(y == y.max(), y.max() + 1, y)),
        "must lie in|no support",  # a model of any number of ways misses the last class
    ),
    "a negative label": (_labels(lambda y: np.where(y == y.max(), -1, y)), "must lie in"),
    "a non-integer label": (_labels(lambda y: np.where(y == y.max(), 0.5, y)), "integers"),
    "a class without support": (_labels(lambda y: np.where(y == 1, 0, y)), "no support"),
    "an empty support set": (lambda x, y: (x[:0], y[:0]), "empty"),
    "3-channel images": (lambda x, y: (np.repeat(x, 3, axis=-1), y), "channel"),
    "no channel axis": (lambda x, y: (x[..., 0], y), "channel axis"),
    "a NaN pixel": (_with_pixel(np.nan), "NaN or infinite"),
    "an infinite pixel": (_with_pixel(np.inf), "NaN or infinite"),
    "a negative infinite pixel": (_with_pixel(-np.inf), "NaN or infinite"),
    "non-numeric pixels": (lambda x, y: (np.full(x.shape, "a"), y), "numeric"),
}


@pytest.mark.parametrize("case", BAD_SUPPORT_SETS)
def test_adapt_refuses_bad_support_sets(learner, task, case):
    change, match = BAD_SUPPORT_SETS[case]
    images, labels = change(task[0]["support_images"], task[0]["support_labels"])
    with pytest.raises(zoo.EpisodeError, match=match):
        learner.adapt(images, labels)


@pytest.mark.parametrize("part", ["support_images", "query_images"])
def test_call_refuses_3_channel_images(learner, task, part):
    episode = dict(task[0])
    episode[part] = np.repeat(episode[part], 3, axis=-1)
    with pytest.raises(zoo.EpisodeError, match=rf"{part} has 3 channels: this model takes 1"):
        learner(episode)


# -- 6b. colour images: channels=3 ----------------------------------------------------------------
def test_channels_3_calls_adapts_fits_saves_and_exports_rgb_images(name, tmp_path):
    """The whole contract at C = 3, cheaply: call (one episode and a meta-batch), adapt with
    the learner's probabilities, one `fit` step, the config and `.keras` round trips, ONNX
    parity, and grayscale images refused with the model's C named."""
    keras.utils.set_random_seed(0)
    learner = contract_entry(name).build(channels=3, invert=False)
    assert learner.channels == 3 and not learner.invert
    ways = ways_of(learner)
    tasks = [
        random_episode(ways=ways, shots=2, queries=2, seed=seed, channels=3) for seed in range(2)
    ]
    episode, labels = tasks[0]
    batch = {key: np.stack([task[0][key] for task in tasks]) for key in episode}
    assert np.asarray(learner(batch)).shape == (2, 2 * ways, ways)
    classifier, _ = assert_adapted_matches_learner(learner, episode, ways)
    assert tuple(classifier.inputs[0].shape) == (None, None, None, 3)

    with pytest.raises(zoo.EpisodeError, match=r"this model takes 3 \(RGB\), shape \[n, H, W, 3\]"):
        learner.adapt(episode["support_images"][..., :1], episode["support_labels"])
    gray = dict(episode, query_images=episode["query_images"][..., :1])
    with pytest.raises(zoo.EpisodeError, match="query_images has 1 channels: this model takes 3"):
        learner(gray)

    copy = type(learner).from_config(learner.get_config()).build_for_episode(ways, 2)
    copy.set_weights(learner.get_weights())
    np.testing.assert_allclose(copy(episode), learner(episode), rtol=1e-5, atol=1e-6)

    learner.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = weights_of(learner)
    learner.fit(tf.data.Dataset.from_tensors((episode, labels)), epochs=1, verbose=0)
    assert any_weight_changed(before, weights_of(learner))
    learner.save(tmp_path / "learner.keras")
    loaded = keras.saving.load_model(tmp_path / "learner.keras")
    assert loaded.channels == 3
    np.testing.assert_allclose(loaded(episode), learner(episode), rtol=1e-5, atol=1e-5)

    classifier = learner.adapt(episode["support_images"], episode["support_labels"])
    result = to_onnx(classifier, tmp_path / "model.onnx")
    assert 0.0 <= result.max_abs_diff <= TOLERANCE
    session = onnxruntime.InferenceSession(result.path, providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[-1] == 3
    np.testing.assert_allclose(
        session.run(None, {"images": episode["query_images"]})[0],
        np.asarray(classifier(episode["query_images"])),
        rtol=0,
        atol=TOLERANCE,
    )


# -- 7. tf.distribute ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def distributed():
    """Results of `distributed_worker.py` for every registry entry, from one subprocess.

    Logical devices must be set up before TensorFlow initializes its devices, which this
    process has already done, hence a fresh interpreter.
    """
    # The worker must import the zoo this process tests (a worktree's, not the installed one).
    root = os.path.dirname(os.path.dirname(os.path.abspath(zoo.__file__)))
    paths = [root, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    environment = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.pathsep.join(p for p in paths if p)
    )
    process = subprocess.run(
        [sys.executable, WORKER, *NAMES],
        capture_output=True,
        text=True,
        timeout=900,
        env=environment,
    )
    assert process.returncode == 0, f"worker failed:\n{process.stdout}\n{process.stderr[-5000:]}"
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_fit_under_mirrored_strategy_runs_whole_tasks_on_both_replicas(distributed, name):
    result = distributed[name]
    assert result["zoo"] == os.path.abspath(zoo.__file__)
    assert result["replicas"] == 2
    assert [device[-5:] for device in result["devices"]] == ["CPU:0", "CPU:1"]
    # A meta-batch of 4 tasks is split 2 + 2, whole episodes on each replica.
    assert result["tasks_per_replica"] == [2, 2]
    assert result["iterations"] == 2
    assert all(math.isfinite(loss) for loss in result["loss"])


def test_fit_under_mirrored_strategy_equals_the_one_device_update(distributed, name):
    result = distributed[name]
    assert result["moved"] > 1e-3
    assert result["difference_from_one_device"] < 1e-4 * result["moved"] + 1e-6


def test_fit_under_mirrored_strategy_refuses_episodes_without_a_task_axis(distributed, name):
    message = distributed[name]["unbatched_error"]
    assert message is not None, "fit accepted episodes a strategy would cut apart"
    assert "cut single episodes apart" in message
    assert "tasks_per_batch=2" in message
