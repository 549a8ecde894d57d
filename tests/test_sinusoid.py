"""Sinusoid regression (Finn et al. section 5.1): the task sampler, regression adaptation
against numpy hand computations of plain SGD (MAML) and of Adam with beta1 = 0 (Reptile),
ONNX parity of an adapted regressor, meta-training on MSE, and the evaluation and figure.

The network is the paper's 40-40 ReLU MLP (`sinusoid_mlp`): small enough to use as it is.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import export
import zoo
from training import recipes
from training.sinusoid import AMPLITUDE, INPUT_RANGE, PHASE, SinusoidSampler, sinusoid
from training.sinusoid_evaluate import (
    FIGURE_3_MAML,
    READING_ERROR,
    adapted_curves,
    evaluate_regression,
    evaluation_tasks,
    meets_figure,
    task_mse,
)
from training.sinusoid_figure import draw_curves
from zoo import presets
from zoo.gradient_learner import REGRESSION_KEYS
from zoo.reptile.reptile import BETA_2, EPSILON


def regressor(algorithm="MAML", seed=0, **kwargs):
    """A built regression learner whose MLP weights are N(0, 0.5): large enough that every
    layer's gradient matters (the paper's initialization, std 0.01, makes them tiny)."""
    learner = getattr(zoo, algorithm)(network="sinusoid", **kwargs).build_for_episode(1, 5)
    rng = np.random.default_rng(seed)
    learner.network.set_weights(
        [rng.normal(0.0, 0.5, w.shape).astype("float32") for w in learner.network.weights]
    )
    return learner


def mlp_forward(weights, x):
    """The 1 -> 40 -> 40 -> 1 ReLU MLP in numpy (float64); returns output and activations."""
    w1, b1, w2, b2, w3, b3 = weights
    z1 = x @ w1 + b1
    h1 = np.maximum(z1, 0.0)
    z2 = h1 @ w2 + b2
    h2 = np.maximum(z2, 0.0)
    return h2 @ w3 + b3, (z1, h1, z2, h2)


def mse_gradients(weights, x, t):
    """Gradients of mean((f(x) - t)^2) with respect to the six weights, by hand."""
    w1, _, w2, _, w3, _ = weights
    y, (z1, h1, z2, h2) = mlp_forward(weights, x)
    dy = 2.0 * (y - t) / y.size
    dz2 = (dy @ w3.T) * (z2 > 0)
    dz1 = (dz2 @ w2.T) * (z1 > 0)
    return [x.T @ dz1, dz1.sum(0), h1.T @ dz2, dz2.sum(0), h2.T @ dy, dy.sum(0)]


def numpy_weights(learner):
    return [np.asarray(v.numpy(), "float64") for v in learner.network.trainable_variables]


def fixed_task(shots=5, index=0):
    tasks = SinusoidSampler(shots, 7, seed=3).sample(index + 1)
    return {key: value[index] for key, value in tasks.items()}


# -- the sampler -----------------------------------------------------------------------------
def test_sampler_draws_tasks_in_the_papers_ranges():
    tasks = SinusoidSampler(shots=10, queries=6, seed=0).sample(500)
    assert tasks["support_inputs"].shape == (500, 10, 1)
    assert tasks["query_inputs"].shape == tasks["query_targets"].shape == (500, 6, 1)
    assert AMPLITUDE[0] <= tasks["amplitude"].min() and tasks["amplitude"].max() <= AMPLITUDE[1]
    assert PHASE[0] <= tasks["phase"].min() and tasks["phase"].max() <= PHASE[1]
    for key in ("support_inputs", "query_inputs"):
        assert INPUT_RANGE[0] <= tasks[key].min() and tasks[key].max() <= INPUT_RANGE[1]
    # Spread over the ranges, not stuck in a corner.
    assert tasks["amplitude"].max() - tasks["amplitude"].min() > 4.5
    assert tasks["phase"].max() - tasks["phase"].min() > 3.0
    assert tasks["support_inputs"].max() - tasks["support_inputs"].min() > 9.5
    amplitude, phase = tasks["amplitude"][:, None, None], tasks["phase"][:, None, None]
    for inputs, targets in (
        ("support_inputs", "support_targets"),
        ("query_inputs", "query_targets"),
    ):
        expected = sinusoid(tasks[inputs].astype("float64"), amplitude, phase)
        np.testing.assert_allclose(tasks[targets], expected, atol=1e-5)


def test_sampler_is_deterministic_per_seed():
    first = SinusoidSampler(5, seed=7).sample(20)
    again = SinusoidSampler(5, seed=7).sample(20)
    later = SinusoidSampler(5, seed=7).sample(10, start=10)
    other = SinusoidSampler(5, seed=8).sample(20)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
        np.testing.assert_array_equal(first[key][10:], later[key])
    assert not np.allclose(first["amplitude"], other["amplitude"])


def test_sampler_dataset_gives_meta_batches_of_the_same_tasks():
    sampler = SinusoidSampler(shots=10, seed=2)
    tasks = sampler.sample(50)
    batches = list(sampler.dataset(tasks=50, tasks_per_batch=25))
    assert len(batches) == 2
    episode, query_targets = batches[1]
    assert set(episode) == set(REGRESSION_KEYS)
    assert episode["support_inputs"].shape == (25, 10, 1)
    np.testing.assert_array_equal(episode["support_targets"], tasks["support_targets"][25:])
    np.testing.assert_array_equal(query_targets, tasks["query_targets"][25:])
    resumed, _ = next(iter(sampler.dataset(tasks_per_batch=25, start=25)))  # endless, resumable
    np.testing.assert_array_equal(resumed["query_inputs"], tasks["query_inputs"][25:])


# -- adaptation by hand --------------------------------------------------------------------------
@pytest.mark.parametrize("first_order", [False, True])
def test_maml_adapt_is_plain_sgd_on_the_support_mse(first_order):
    alpha, steps = 0.05, 3
    learner = regressor(inner_learning_rate=alpha, eval_inner_steps=1, first_order=first_order)
    task = fixed_task()
    x, t = task["support_inputs"].astype("float64"), task["support_targets"].astype("float64")
    weights = numpy_weights(learner)
    predictions = {0: mlp_forward(weights, task["query_inputs"])[0]}
    for step in range(1, steps + 1):
        weights = [
            w - alpha * g for w, g in zip(weights, mse_gradients(weights, x, t), strict=True)
        ]
        predictions[step] = mlp_forward(weights, task["query_inputs"])[0]
    assert np.abs(predictions[steps] - predictions[0]).max() > 0.05  # the steps do move it
    for step, expected in predictions.items():
        adapted = learner.adapt(task["support_inputs"], task["support_targets"], steps=step)
        assert isinstance(adapted, keras.Model)
        assert adapted.input_shape == (None, 1) and adapted.output_shape == (None, 1)
        got = adapted.predict(task["query_inputs"], verbose=0)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    # The default is the learner's eval_inner_steps (1); the learner's own weights stay.
    default = learner.adapt(task["support_inputs"], task["support_targets"])
    np.testing.assert_allclose(
        default.predict(task["query_inputs"], verbose=0), predictions[1], rtol=1e-4, atol=1e-5
    )
    np.testing.assert_array_equal(
        numpy_weights(learner)[0], np.asarray(regressor().network.weights[0])
    )


def test_reptile_adapt_is_adam_with_beta1_zero_on_the_support_mse():
    rate, steps = 0.01, 4
    learner = regressor(
        "Reptile", inner_learning_rate=rate, eval_inner_steps=steps, eval_inner_batch_size=None
    )
    task = fixed_task()
    x, t = task["support_inputs"].astype("float64"), task["support_targets"].astype("float64")
    weights = numpy_weights(learner)
    velocity = [np.zeros_like(w) for w in weights]
    for step in range(1, steps + 1):
        gradients = mse_gradients(weights, x, t)
        velocity = [
            BETA_2 * v + (1 - BETA_2) * g**2 for v, g in zip(velocity, gradients, strict=True)
        ]
        corrected = rate * np.sqrt(1 - BETA_2**step)
        weights = [
            w - corrected * g / (np.sqrt(v) + EPSILON)
            for w, g, v in zip(weights, gradients, velocity, strict=True)
        ]
    adapted = learner.adapt(task["support_inputs"], task["support_targets"])
    expected = mlp_forward(weights, task["query_inputs"])[0]
    np.testing.assert_allclose(
        adapted.predict(task["query_inputs"], verbose=0), expected, rtol=1e-4, atol=1e-5
    )


def test_call_on_a_meta_batch_matches_adapt_per_task():
    learner = regressor(inner_learning_rate=0.05, eval_inner_steps=2)
    episode, _ = next(iter(SinusoidSampler(5, 4, seed=1).dataset(tasks_per_batch=3)))
    outputs = learner(episode).numpy()
    assert outputs.shape == (3, 4, 1)
    for t in range(3):
        adapted = learner.adapt(episode["support_inputs"][t], episode["support_targets"][t])
        np.testing.assert_allclose(
            outputs[t], adapted.predict(episode["query_inputs"][t], verbose=0), rtol=1e-5, atol=1e-6
        )


def test_adapt_rejects_malformed_regression_sets():
    learner = regressor()
    with pytest.raises(zoo.EpisodeError, match=r"expected \[K, 1\]"):
        learner.adapt(np.zeros(5), np.zeros((5, 1)))
    with pytest.raises(zoo.EpisodeError, match="5 support inputs but 4 support targets"):
        learner.adapt(np.zeros((5, 1)), np.zeros((4, 1)))
    with pytest.raises(zoo.EpisodeError, match="NaN"):
        learner.adapt(np.full((5, 1), np.nan), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="network must be one of"):
        zoo.MAML(network="mlp")


# -- export and serialization ----------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["MAML", "Reptile"])
def test_adapted_regressor_exports_to_onnx_with_parity(algorithm, tmp_path):
    import onnxruntime

    learner = regressor(algorithm, inner_learning_rate=1e-3, eval_inner_steps=3)
    task = fixed_task()
    adapted = learner.adapt(task["support_inputs"], task["support_targets"])
    assert np.abs(adapted.predict(task["query_inputs"], verbose=0)).max() < 100  # no blow-up
    result = export.to_onnx(adapted, str(tmp_path / "sine.onnx"))
    assert result.max_abs_diff < 1e-4
    session = onnxruntime.InferenceSession(str(tmp_path / "sine.onnx"))
    grid = np.linspace(-5, 5, 33, dtype="float32")[:, None]
    (onnx_outputs,) = session.run(None, {session.get_inputs()[0].name: grid})
    keras_outputs = adapted.predict(grid, verbose=0)
    np.testing.assert_allclose(onnx_outputs, keras_outputs, atol=1e-5)
    assert np.ptp(keras_outputs) > 0.1  # a curve, not a constant


@pytest.mark.parametrize("algorithm", ["MAML", "Reptile"])
def test_regression_learner_saves_and_loads(algorithm, tmp_path):
    learner = regressor(algorithm, inner_learning_rate=0.02, eval_inner_steps=2)
    learner.compile()
    path = str(tmp_path / "learner.keras")
    learner.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.regression and loaded.get_config()["network"] == "sinusoid"
    task = fixed_task()
    episode = {key: task[key] for key in REGRESSION_KEYS}
    np.testing.assert_allclose(loaded(episode), learner(episode), rtol=1e-6)


# -- meta-training -------------------------------------------------------------------------------
_REPTILE_OPTIONS = {"inner_steps": 3, "eval_inner_steps": 3, "inner_batch_size": None}


@pytest.mark.parametrize(
    "algorithm, options",
    [
        ("MAML", {"inner_learning_rate": 0.01}),
        ("MAML", {"inner_learning_rate": 0.01, "first_order": True}),
        (
            "Reptile",
            {"inner_learning_rate": 0.05, "eval_inner_batch_size": None, **_REPTILE_OPTIONS},
        ),
    ],
)
def test_fit_lowers_the_mse_on_a_fixed_task(algorithm, options):
    keras.utils.set_random_seed(0)  # the same initial network every run
    learner = getattr(zoo, algorithm)(network="sinusoid", **options).build_for_episode(1, 5)
    if algorithm == "Reptile":
        learner.compile(optimizer=zoo.Reptile.outer_optimizer(200))
    else:
        learner.compile(optimizer=keras.optimizers.Adam(1e-2))
    task = fixed_task(index=2)  # amplitude 4.4: far from the initial network's zero
    episode = {key: task[key][None] for key in REGRESSION_KEYS}
    data = tf.data.Dataset.from_tensors((episode, task["query_targets"][None])).repeat()
    before = learner.evaluate(data, steps=1, verbose=0)
    learner.fit(data, epochs=1, steps_per_epoch=60, verbose=0)
    after = learner.evaluate(data, steps=1, verbose=0)
    assert after < 0.5 * before, (before, after)


def test_sinusoid_recipes_build_regression_learners():
    for name in ("maml_sinusoid", "fomaml_sinusoid", "reptile_sinusoid"):
        recipe = recipes.get_recipe(name)
        learner = recipes.build_learner(recipe)
        assert learner.regression and name in recipe["presets"]
        assert recipe["train"]["tasks_per_batch"] == 25 and recipe["train"]["shots"] == 10
    assert recipes.build_learner(recipes.get_recipe("fomaml_sinusoid")).first_order
    assert (
        recipes.build_learner(recipes.get_recipe("sinusoid_pretrained_baseline")).inner_steps == 0
    )


# -- evaluation -------------------------------------------------------------------------------
def test_evaluation_is_the_query_mse_of_the_adapted_models():
    learner = regressor(inner_learning_rate=0.02)
    tasks = evaluation_tasks(5, 4, seed=0)
    by_evaluation = task_mse(learner, tasks, steps=2, batch=3)
    for index in range(4):
        adapted = learner.adapt(tasks["support_inputs"][index], tasks["support_targets"][index], 2)
        predictions = adapted.predict(tasks["query_inputs"][index], verbose=0)
        expected = np.mean((predictions - tasks["query_targets"][index]) ** 2)
        np.testing.assert_allclose(by_evaluation[index], expected, rtol=1e-4)
    results = evaluate_regression(learner, shots=(5, 10), steps=(1, 2), tasks=4)
    assert results["mse"]["5"]["2"]["mse"] == pytest.approx(by_evaluation.mean(), rel=1e-3)
    assert set(results["mse"]) == {"5", "10"} and set(results["mse"]["10"]) == {"0", "1", "2"}
    assert all(row["ci95"] > 0 for k in results["mse"].values() for row in k.values())


def test_figure_draws_curves_to_a_png(tmp_path):
    from PIL import Image

    learner = regressor(inner_learning_rate=0.02)
    curves = adapted_curves(learner, shots=5, steps=(0, 1), tasks=2, points=50)
    assert curves[0]["steps"][0].shape == (50,) and curves[0]["true"].shape == (50,)
    path = draw_curves({"MAML": curves, "again": curves}, str(tmp_path / "curves.png"))
    image = Image.open(path)
    assert image.size[0] >= 800 and os.path.getsize(path) > 1000


def test_meeting_the_figure_is_every_point_within_the_reading_error():
    def result(value):
        return {
            "mse": {k: {s: {"mse": value(k, s)} for s in ("1", "10")} for k in ("5", "10", "20")}
        }

    def figure(k, s):
        return FIGURE_3_MAML[k][s]

    assert meets_figure(result(figure))
    assert meets_figure(result(lambda k, s: figure(k, s) + 0.99 * READING_ERROR))
    assert not meets_figure(result(lambda k, s: figure(k, s) + (0.2 if k == "20" else 0.0)))
    assert not meets_figure(result(lambda k, s: figure(k, s) + (0.2 if s == "1" else 0.0)))


# -- shipped presets -------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(set(presets.SINUSOID_PRESETS) & set(presets.PRESETS)))
def test_sinusoid_preset_is_complete_and_its_mse_matches_metadata(name):
    metadata = zoo.preset_metadata(name)
    assert metadata["dataset"] == "sinusoid" and metadata["mse"]["tasks"] >= 1000
    table = metadata["mse"]["mse"]
    assert set(table) == {"5", "10", "20"} and all(
        set(r) == {"0", "1", "5", "10"} for r in table.values()
    )
    folder = presets.preset_directory(name)
    assert (
        presets.sha256_of(os.path.join(folder, presets.WEIGHTS_FILE)) == metadata["weights_sha256"]
    )
    assert metadata["paper_mse"] == FIGURE_3_MAML
    assert metadata["meets_paper"] == meets_figure(metadata["mse"])
    learner = zoo.load_preset(name)
    assert learner.regression
    result = evaluate_regression(learner, shots=(10,), steps=(10,), tasks=200, seed=1)
    measured, recorded = result["mse"]["10"]["10"], table["10"]["10"]
    assert abs(measured["mse"] - recorded["mse"]) <= 2 * measured["ci95"] + recorded["ci95"]


def test_metazoo_train_meta_trains_a_sinusoid_recipe_and_writes_its_preset(capsys, tmp_path):
    from metazoo import cli
    from metazoo.commands.list import format_sinusoid_mse

    checkpoint, out = tmp_path / "checkpoint", tmp_path / "out"
    argv = ["train", "fomaml_sinusoid", "--steps", "4", "--steps-per-epoch", "2"]
    argv += ["--checkpoint", str(checkpoint), "--out", str(out), "--eval-episodes", "2"]
    assert cli.main(argv) == 0
    assert "sinusoid regression, MSE" in capsys.readouterr().out
    metadata = zoo.preset_metadata(str(out / "fomaml_sinusoid"))
    assert metadata["dataset"] == "sinusoid" and metadata["train_steps"] == 4
    assert metadata["mse"]["tasks"] == 2 and set(metadata["mse"]["mse"]) == {"5", "10", "20"}
    assert format_sinusoid_mse(metadata).startswith("MSE ")
    learner = zoo.load_preset(str(out / "fomaml_sinusoid"))
    assert learner.regression and learner.first_order
