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

    def tiny_reptile(steps):
        learner = zoo.Reptile(ways=5, filters=4, blocks=2, image_size=SIZE, eval_inner_steps=steps)
        return learner.build_for_episode(5)

    steps, notes = latency.build(
        maml_steps=(1, 2),
        learners=tiny_learners,
        maml=tiny_maml_learner,
        onnx=True,
        lstm_steps=(1, 3),
        lstm=tiny_lstm_meta_learner,
        reptile_steps=(1, 2, 4),
        reptile=tiny_reptile,
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
    assert [row[2:4] for row in lstm_rows[:2]] == [["1", "updates"], ["3", "updates"]]
    reptile_rows = [line.split() for line in text.splitlines() if line.startswith("Reptile")]
    assert [row[1:3] for row in reptile_rows[:3]] == [
        ["1", "inner"],
        ["2", "inner"],
        ["4", "inner"],
    ]
    assert "median of 10 tasks" in text
    assert "<= 0.5x learn2learn" in text and "b25 <= 20 ms" in text and "b1 <= 10 ms" in text
    sweep = [line.split() for line in text.splitlines() if line.startswith("Reptile ")]
    assert float(sweep[-1][-5]) == pytest.approx(0.0, abs=0.01)  # equal times: a flat line
    assert sweep[-1][-4:] == ["1.0", "1.000", "linear", "met"]


def test_latency_targets_are_judged_against_issue_18():
    """Per new task against learn2learn, the inference bounds and the sweep's least-squares
    line, from given medians (no timing)."""
    from benchmarks import latency

    per_task = {"MAML": 20.0, "ProtoNet": 15.0, latency.LEARN2LEARN: 28.5}
    milliseconds = {
        latency.name(
            model,
            latency.TORCH_TASK if model == latency.LEARN2LEARN else latency.NEW_TASK,
            latency.QUERIES,
        ): ms
        for model, ms in per_task.items()
    }
    for steps in (1, 5, 10, 20):
        milliseconds[latency.name(f"MAML, {steps} inner steps", latency.ADAPT, 5)] = (
            4.0 + 2.5 * steps
        )
        milliseconds[latency.name(f"Reptile, {steps} inner steps", latency.ADAPT, 5)] = steps**2
    for call, batch, ms in (
        ("Keras predict", 25, 21.0),
        ("Keras model(x)", 1, 9.0),
        ("onnxruntime", 25, 4.0),
    ):
        milliseconds[latency.name("MAML", call, batch)] = ms
    lines = latency.tables_text(milliseconds, {}, 3).splitlines()

    def row(*starts):
        return next(
            line.split("  ")[-1].strip() for line in lines if all(s in line for s in starts)
        )

    assert row("MAML ", latency.NEW_TASK) == "met"  # 20.0 < 28.5
    assert row("ProtoNet ", latency.NEW_TASK) == "not met"  # 15.0 > 28.5 / 2
    assert row("Keras predict") == "not met" and row("Keras model(x)") == "met"
    assert row("onnxruntime") == "met"
    assert row("MAML ", "1, 5, 10, 20") == "met" and row("Reptile ", "1, 5, 10, 20") == "not met"
    assert latency.linear_fit([1, 5, 10, 20], [6.5, 16.5, 29.0, 54.0]) == pytest.approx(
        (2.5, 4.0, 1.0)
    )
    del milliseconds[latency.name(latency.LEARN2LEARN, latency.TORCH_TASK, latency.QUERIES)]
    lines = latency.tables_text(milliseconds, {}, 3).splitlines()
    assert row("MAML ", latency.NEW_TASK) == row("ProtoNet ", latency.NEW_TASK) == "-"


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
    "mann_sequences": {
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
        "mann_sequences",
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


def test_issue_rows_pairs_and_sequences_of_the_algorithms_benchmark():
    """Issue 11's Relation Network episodes beside the recipes', the Siamese pairs (every query
    against every support image) and the MANN sequence rows, without adaptation rows."""
    from benchmarks import algorithms

    rows = {
        row.name: row for row in algorithms.settings(["relationnet", "siamese", "mann_sequences"])
    }
    issue = rows["relationnet_omniglot_1shot (issue 11)"]
    assert issue.recipe["train"] == {"ways": 5, "shots": 1, "queries": 19, "tasks_per_batch": None}
    assert issue.recipe["model"] == rows["relationnet_omniglot_1shot"].recipe["model"]
    assert not issue.presets and rows["relationnet_omniglot_1shot"].presets
    assert algorithms.describe_episodes(issue.recipe["train"]) == "5-way 1-shot 19q"
    assert algorithms.pairs_per_episode(rows["siamese_omniglot"].recipe) == 20 * 5 * 20
    assert algorithms.pairs_per_episode(issue.recipe) is None
    siamese = {"algorithm": "SiameseNetwork", "train": {"ways": 5, "shots": 2, "queries": 3}}
    assert algorithms.pairs_per_episode(siamese) == 15 * 10
    for name, classes in (("mann_omniglot_5class", 5), ("mann_omniglot_15class", 15)):
        assert rows[name].algorithm == "mann_sequences" and not rows[name].presets
        text = f"{classes}-class 10-instance sequences x16"
        assert algorithms.describe_episodes(rows[name].recipe["train"]) == text
    assert "relationnet_omniglot_1shot (issue 11)" not in [
        row.name for row in algorithms.settings(["relationnet"], first_only=True)
    ]

    times = {algorithms.name(algorithms.TRAIN, name): [0.5] for name in rows}
    text = algorithms.tables_text(times, list(rows.values()), {}, repeats=1, per_task=1)
    throughput = text.split("\n\n")[0]
    line = next(line for line in throughput.splitlines() if "siamese_omniglot " in line)
    assert "4,000" in line.split()  # 2000 pairs an episode, an episode in 0.5 s
    line = next(line for line in throughput.splitlines() if "mann_omniglot_15class" in line)
    assert "32.0" in line.split()  # 16 sequences in 0.5 s


def test_synthetic_sequences_hold_every_class_instances_times():
    from benchmarks import synthetic

    data, labels = synthetic.sequences(3, 5, 4, 20, seed=1)
    assert data["images"].shape == (3, 20, 20, 20, 1) and labels.shape == (3, 20)
    assert (data["labels"] == labels).all()
    for sequence in labels:
        assert np.bincount(sequence).tolist() == [4] * 5
    assert not (labels[0] == labels[1]).all()  # shuffled per sequence


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
    for algorithm in set(TINY_MODELS) - {"fomaml", "mann_sequences"}:
        assert f"\n{algorithm} " in adaptation
    assert "5-way 1-shot 1q x2" in throughput  # MAML's episodes, meta-batch cut to 2
