"""The benchmark's hand-written MAML graph computes what `zoo.MAML`'s train step computes.

Same weights, same raw images: the hand-written graph's meta-gradient equals the gradient that
Keras' `train_step` hands to the optimizer (second and first order), and one Adam meta-step of
each lands on the same weights. So the throughput benchmark times the same computation.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_episode

import zoo
from benchmarks import handwritten_maml, synthetic, tables

WAYS, SHOTS, QUERIES, TASKS, SIZE = 3, 1, 2, 2, 8


class RecordGradients(keras.optimizers.Optimizer):
    """An "optimizer" that writes each gradient into its variable, to read train_step's."""

    def update_step(self, gradient, variable, learning_rate):
        variable.assign(gradient)


def meta_batch():
    episodes = [random_episode(WAYS, SHOTS, QUERIES, SIZE, seed=task) for task in range(TASKS)]
    stacked = {key: np.stack([e[key] for e, _ in episodes]) for key in episodes[0][0]}
    return stacked, np.stack([labels for _, labels in episodes])


def tiny_maml(first_order, optimizer):
    keras.utils.set_random_seed(3)
    learner = zoo.MAML(  # transductive: Finn et al.'s step, as the handwritten graph's
        ways=WAYS, filters=4, blocks=2, image_size=SIZE, first_order=first_order, transductive=True
    ).build_for_episode(WAYS, SHOTS, QUERIES)
    learner.compile(optimizer=optimizer)
    return learner


def handwritten_arguments(episode, labels):
    return [
        tf.constant(episode["support_images"]),
        tf.constant(episode["support_labels"]),
        tf.constant(episode["query_images"]),
        tf.constant(labels),
    ]


@pytest.mark.parametrize("first_order", [False, True], ids=["second_order", "first_order"])
def test_handwritten_meta_gradient_equals_train_step_gradient(first_order):
    episode, labels = meta_batch()
    learner = tiny_maml(first_order, RecordGradients(learning_rate=1.0))
    weights = [v.numpy() for v in learner.network.trainable_variables]
    reference = handwritten_maml.HandwrittenMAML(weights, first_order=first_order)
    loss, expected = reference.meta_gradients(*handwritten_arguments(episode, labels))

    logs = learner.train_on_batch(episode, labels, return_dict=True)
    ours = [v.numpy() for v in learner.network.trainable_variables]

    assert np.isclose(logs["loss"], float(loss), rtol=1e-5)
    assert len(ours) == len(expected)
    # Convolution biases feed batch normalization, which cancels them: their exact gradient is
    # 0 and both sides hold only rounding noise, so the tolerance is relative to the largest
    # gradient of all.
    scale = max(np.abs(g.numpy()).max() for g in expected)
    for mine, theirs in zip(ours, expected, strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-4, atol=1e-5 * scale)


def test_per_task_loss_train_step_equals_keras_train_step():
    """`GradientLearner.train_step` averages per-task losses; Keras' takes one over all tasks.

    A loss given as a plain function has no `reduction` attribute, so it goes through Keras'
    train step.
    """

    def plain_cross_entropy(y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)

    episode, labels = meta_batch()
    results = []
    for loss in (None, plain_cross_entropy):
        learner = tiny_maml(False, RecordGradients(learning_rate=1.0))
        learner.compile(optimizer=RecordGradients(learning_rate=1.0), loss=loss)
        logs = learner.train_on_batch(episode, labels, return_dict=True)
        results.append((logs, [v.numpy() for v in learner.network.trainable_variables]))
    (per_task_logs, per_task), (keras_logs, stacked) = results
    assert np.isclose(per_task_logs["loss"], keras_logs["loss"], rtol=1e-6)
    assert np.isclose(per_task_logs["accuracy"], keras_logs["accuracy"])
    scale = max(np.abs(g).max() for g in stacked)
    for mine, theirs in zip(per_task, stacked, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6 * scale)


def test_first_and_second_order_meta_gradients_differ():
    """The comparison above would be vacuous if the second-order terms were zero."""
    episode, labels = meta_batch()
    learner = tiny_maml(False, "adam")
    weights = [v.numpy() for v in learner.network.trainable_variables]
    arguments = handwritten_arguments(episode, labels)
    _, second = handwritten_maml.HandwrittenMAML(weights).meta_gradients(*arguments)
    _, first = handwritten_maml.HandwrittenMAML(weights, first_order=True).meta_gradients(
        *arguments
    )
    scale = max(np.abs(g.numpy()).max() for g in second)
    gap = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(second, first, strict=True))
    assert gap > 1e-2 * scale  # a thousand times the tolerance of the comparison above


def test_handwritten_adam_step_matches_keras_adam():
    episode, labels = meta_batch()
    learner = tiny_maml(False, keras.optimizers.Adam(1e-3))
    weights = [v.numpy() for v in learner.network.trainable_variables]
    reference = handwritten_maml.HandwrittenMAML(weights)
    arguments = handwritten_arguments(episode, labels)
    for _ in range(2):
        learner.train_on_batch(episode, labels)
        reference.train_step(*arguments)
    pairs = zip(learner.network.trainable_variables, reference.variables, strict=True)
    for ours, theirs in pairs:
        if "conv" in ours.path and "bias" in ours.path:
            continue  # exact gradient 0 (batch norm follows): Adam scales rounding noise up
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_synthetic_meta_batch_shapes():
    episode, labels = synthetic.meta_batch(4, 5, 1, 15, 28)
    assert episode["support_images"].shape == (4, 5, 28, 28, 1)
    assert episode["query_images"].shape == (4, 75, 28, 28, 1)
    assert labels.shape == (4, 75)
    assert episode["support_images"].max() <= 255 and episode["support_images"].min() >= 0


def test_table_columns_are_aligned():
    text = tables.format_table("T", ["name", "value"], [["a", "1.0"], ["longer", "12.5"]])
    lines = text.splitlines()
    assert lines[2].startswith("name") and set(lines[3]) <= {"-", " "}
    assert len({len(line) for line in lines[2:6]}) == 1


def test_latency_benchmark_runs_and_prints_its_tables():
    """Every latency step runs on tiny learners, and the tables name every row (no timing)."""
    from benchmarks import latency

    def tiny_learners():
        keras.utils.set_random_seed(0)
        protonet = zoo.PrototypicalNetwork(filters=4, blocks=2, image_size=SIZE)
        return {"MAML": tiny_maml_learner(3), "ProtoNet": protonet.build_for_episode(5)}

    def tiny_maml_learner(steps):
        return zoo.MAML(ways=5, filters=4, blocks=2, image_size=SIZE, eval_inner_steps=steps)

    def tiny_lstm_meta_learner(steps):
        learner = zoo.LSTMMetaLearner(
            ways=5, filters=4, blocks=2, image_size=SIZE, inner_steps=steps
        )
        return learner.build_for_episode(5)

    steps, notes = latency.build(
        maml_steps=(1, 2),
        learners=tiny_learners,
        maml=tiny_maml_learner,
        onnx=True,
        lstm_steps=(1, 3),
        lstm=tiny_lstm_meta_learner,
    )
    torch_steps, torch_notes = latency.build_torch()
    for step in list(steps.values()) + [s for s in torch_steps.values() if s is not None]:
        step()
    probabilities = steps[latency.name("MAML", latency.NEW_TASK, latency.QUERIES)]()
    assert probabilities.shape == (latency.QUERIES, 5)
    milliseconds = dict.fromkeys(steps, 1.0)
    text = latency.tables_text(milliseconds, {**notes, **torch_notes}, 3, tasks=10)
    for row in ("2 inner steps", "onnxruntime", "Keras predict", latency.LEARN2LEARN):
        assert row in text
    lstm_rows = [line.split() for line in text.splitlines() if line.startswith("LSTM")]
    assert [row[2:4] for row in lstm_rows] == [["1", "updates"], ["3", "updates"]]
    assert "median of 10 tasks" in text


TINY_MODELS = {
    "protonet": {"filters": 8, "blocks": 2, "image_size": SIZE},
    "matchingnet": {"filters": 8, "blocks": 2, "image_size": SIZE},
    "matchingnet_fce": {"filters": 8, "blocks": 2, "image_size": SIZE},
    "relationnet": {"filters": 8},  # its relation module needs 28x28 inputs
    "siamese": {"filters": 8, "blocks": 2, "image_size": SIZE},
    "siamese_koch": {"image_size": 65},  # the smallest input Koch's valid convolutions take
    "maml": {"filters": 8, "blocks": 2, "image_size": SIZE},
    "fomaml": {"filters": 8, "blocks": 2, "image_size": SIZE},
    "reptile": {"filters": 8, "blocks": 2, "image_size": SIZE, "eval_inner_steps": 2},
    "lstm_meta_learner": {"filters": 8, "blocks": 2, "image_size": SIZE, "inner_steps": 2},
    "mann": {
        "controller_units": 16,
        "memory_rows": 12,
        "memory_width": 6,
        "read_heads": 2,
        "image_size": SIZE,
    },
    "metanet": {"filters": 8, "blocks": 2, "units": 8, "meta_units": 4, "image_size": SIZE},
}


def test_algorithm_settings_cover_every_omniglot_recipe():
    """A row per algorithm, model and episodes: second stages fold into their first recipe,
    first-order MAML joins, sinusoid recipes stay out; every preset is adapted to once."""
    from benchmarks import algorithms
    from training.recipes import RECIPES

    rows = algorithms.settings()
    names = [row.name for row in rows]
    assert "protonet_omniglot_long" not in names and "maml_omniglot_5way_5shot_refine" not in names
    assert not any("sinusoid" in name for name in names)
    assert {row.algorithm for row in rows} == set(algorithms.KEYS.values()) | {
        "fomaml",
        "matchingnet_fce",
        "siamese_koch",
    }
    fomaml = [row for row in rows if row.algorithm == "fomaml"]
    assert fomaml and all(row.recipe["model"]["first_order"] for row in fomaml)
    assert all(not row.presets for row in fomaml)  # adapts as MAML, measured there
    adapted = [(row.algorithm, setting) for row in rows for setting in row.presets]
    assert len(adapted) == len(set(adapted))
    for recipe in RECIPES.values():
        if recipe.get("data", "omniglot") == "omniglot" and recipe.get("protocol") != "sequences":
            key = algorithms.algorithm_key(recipe)
            key = "maml" if key == "fomaml" else key  # first order adapts as MAML
            for setting in recipe["presets"].values():
                assert (key, tuple(setting)) in adapted
    quick = algorithms.settings(first_only=True)
    assert [row.algorithm for row in quick] == sorted(
        {row.algorithm for row in rows}, key=[row.algorithm for row in rows].index
    )
    assert [row.name for row in algorithms.settings(["maml_omniglot_5way_5shot", "mann"])] == [
        "maml_omniglot_5way_5shot",
        "mann_omniglot",
        "mann_omniglot_5shot",
    ]


def test_algorithms_benchmark_runs_every_step_and_prints_a_row_per_algorithm():
    """Every algorithm's meta-training step, adapt() and predict run once on tiny models (the
    recipes' episodes, meta-batches cut to 2 tasks, the first preset setting); the tables name
    them all (no timing)."""
    from benchmarks import algorithms

    keras.utils.set_random_seed(0)
    arguments = {"overrides": TINY_MODELS, "max_tasks": 2, "first_only": True, "max_presets": 1}
    steps, _ = algorithms.build(**arguments)
    rows = algorithms.settings(**arguments)
    assert len(rows) == len(TINY_MODELS)
    outputs = {key: step() for key, step in steps.items()}
    for key, output in outputs.items():
        if key.startswith(algorithms.TRAIN):
            assert all(np.isfinite(value) for value in np.ravel(output))
        elif key.startswith(algorithms.PREDICT):
            ways = int(key.split(algorithms.SEPARATOR)[-1].split("-way")[0])
            assert output.shape == (algorithms.latency.QUERIES, ways)
            np.testing.assert_allclose(output.sum(axis=1), 1.0, rtol=1e-5)
    times = {key: [0.5, 0.25] for key in steps}
    text = algorithms.tables_text(times, rows, {}, repeats=2, per_task=2)
    throughput, adaptation = text.split("\n\n")
    for row in rows:
        assert f"{row.algorithm}  " in throughput
    for algorithm in set(TINY_MODELS) - {"fomaml"}:
        assert f"\n{algorithm} " in adaptation
    assert "5-way 1-shot 1q x2" in throughput  # MAML's episodes, meta-batch cut to 2
