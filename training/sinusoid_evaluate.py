"""Sinusoid regression evaluation: query MSE after a few inner steps, and a figure of curves."""

import math

import numpy as np
import tensorflow as tf

from training.sinusoid import INPUT_RANGE, SinusoidSampler, sinusoid

SHOTS = (5, 10, 20)
"""Support points K of the evaluated tasks (Finn et al.'s figure 3)."""

STEPS = (1, 5, 10)
"""Inner steps after which the query MSE is measured (0, the pre-update MSE, is added)."""


PROTOCOL = "sinusoid-finn-2017: A in [0.1, 5], phase in [0, pi], x in [-5, 5]"
"""The task distribution of Finn et al. section 5.1 (`training.sinusoid`)."""


FIGURE_3_MAML = {
    "5": {"1": 0.7, "10": 0.35},
    "10": {"1": 0.35, "10": 0.2},
    "20": {"1": 0.2, "10": 0.1},
}
"""MAML's query MSE in Finn et al.'s figure 3 after 1 and 10 inner steps, for K = 5, 10, 20,
read off approximately (the figure's last point, step 9, stands for 10 steps)."""

READING_ERROR = 0.1
"""How far off `FIGURE_3_MAML`'s values may be: they are what three automated text
descriptions of the figure's image agree on (the image itself was not at hand offline), and
those descriptions differ by up to 0.2 after one step."""


def meets_figure(mse):
    """Whether an `evaluate_regression` result is at most `FIGURE_3_MAML` (+ `READING_ERROR`)
    at each K and number of steps the figure is read at."""
    return all(
        mse["mse"][k][steps]["mse"] <= value + READING_ERROR
        for k, row in FIGURE_3_MAML.items()
        for steps, value in row.items()
    )


def preset_fields():
    """The metadata fields of a sinusoid regression preset, beside the recipe's.

    A regression preset has no accuracy: `metazoo eval PRESET --write` records `mse` (and
    `baseline_mse`, the pretrained baseline on the same tasks) as `evaluate_regression` gives
    them, and `meets_paper` (`meets_figure`).
    """
    return {
        "dataset": "sinusoid",
        "protocol": PROTOCOL,
        "paper_accuracy": None,
        "test_protocol": "query MSE on K query points per task (K support and K query points, "
        "as Finn et al.'s code), mean over the tasks with 1.96 * std / sqrt(n); mse[K][steps], "
        "steps 0 being the MSE before adaptation",
        "paper_mse": FIGURE_3_MAML,
        "paper_mse_note": "Finn et al. give the sinusoid results only as curves (figure 3: MAML "
        "after 0 to 9 steps, K = 5, 10, 20, beside the pretrained baseline, which barely "
        "moves). paper_mse is MAML's curve read off approximately, after 1 and 10 steps (the "
        "figure's step 9): the values three automated text descriptions of the figure's image "
        f"agree on, good to about {READING_ERROR}; the image itself was not at hand. "
        "meets_paper: every mse at those points at most paper_mse + "
        f"{READING_ERROR}. Compare `mse` with `baseline_mse` too, measured on the same tasks.",
    }


def mean_and_ci95(values):
    """Mean and 95% normal-approximation half-width 1.96 * std / sqrt(n)."""
    values = np.asarray(values, "float64")
    if values.size < 2:
        raise ValueError("a confidence interval needs at least two tasks")
    return float(values.mean()), float(1.96 * values.std(ddof=1) / math.sqrt(values.size))


def query_predictions(learner, steps):
    """A compiled function from meta-batches `(support [T, K, 1], targets [T, K, 1], queries
    [T, Q, 1])` to query predictions `[T, Q, 1]` after `steps` inner steps on each task.

    It runs `adapted_weights`' inner loop, the one `adapt` runs, on each task in turn
    (`tf.map_fn`), and the network on the queries under the fast weights.
    """

    def predict(support, targets, queries):
        def task(values):
            support, targets, queries = values
            fast = learner.inner_loop(learner.initial_weights(), support, targets, steps)
            return learner.functional_call(fast, queries, training=False)

        return tf.map_fn(task, (support, targets, queries), fn_output_signature=queries.dtype)

    key = ("query_predictions", steps, learner.inner_learning_rate)
    return learner.compiled_function(key, predict)


def task_mse(learner, tasks, steps, batch=100):
    """Each task's query MSE after `steps` inner steps: float64 `[T]`.

    Args:
        learner: a regression `GradientLearner` (`network="sinusoid"`).
        tasks: a dict from `SinusoidSampler.sample`.
        steps: inner steps (0: the meta-learned initialization itself).
        batch: tasks per compiled call.
    """
    predict = query_predictions(learner, int(steps))
    errors = []
    for first in range(0, len(tasks["support_inputs"]), batch):
        part = {key: value[first : first + batch] for key, value in tasks.items()}
        predictions = predict(
            tf.constant(part["support_inputs"]),
            tf.constant(part["support_targets"]),
            tf.constant(part["query_inputs"]),
        ).numpy()
        errors.append(np.mean((predictions - part["query_targets"]) ** 2, axis=(1, 2)))
    return np.concatenate(errors).astype("float64")


def evaluate_regression(learner, shots=SHOTS, steps=STEPS, tasks=1000, seed=0):
    """Query MSE with 95% CI after 0 and each of `steps` inner steps, for each K in `shots`.

    Finn et al.'s test protocol (their code's `test`): K support and K query points per task
    (the MSE is on the K query points, not on a dense grid), the mean over tasks with
    1.96 * std / sqrt(n). The tasks of one K and seed are the same for every learner, so two
    learners compare on the same tasks.

    Args:
        learner: a regression `GradientLearner`.
        shots: the values of K.
        steps: numbers of inner steps.
        tasks: tasks per K (at least 2).
        seed: seed of the test tasks (for K, `SinusoidSampler(K, K, seed + 1000 * K)`).

    Returns:
        `{"tasks", "seed", "mse": {"K": {"steps": {"mse", "ci95"}}}}` (string keys, as JSON).
    """
    if tasks < 2:
        raise ValueError(f"evaluation needs at least 2 tasks, got {tasks}")
    results = {}
    for k in shots:
        sample = evaluation_tasks(k, tasks, seed)
        results[str(k)] = {}
        for count in (0, *steps):
            mse, ci95 = mean_and_ci95(task_mse(learner, sample, count))
            results[str(k)][str(count)] = {"mse": round(mse, 4), "ci95": round(ci95, 4)}
    return {"tasks": int(tasks), "seed": int(seed), "mse": results}


def evaluation_tasks(shots, tasks, seed=0):
    """The test tasks of `evaluate_regression` for one K: K support and K query points."""
    return SinusoidSampler(shots, shots, seed=seed + 1000 * int(shots)).sample(tasks)


def format_table(results, name=""):
    """The MSE table of `evaluate_regression` as text, one row per K."""
    counts = list(next(iter(results["mse"].values())))
    header = f"{name:>12}  K  " + "  ".join(f"{c + ' steps':>16}" for c in counts)
    lines = [header]
    for k, row in results["mse"].items():
        cells = "  ".join(f"{row[c]['mse']:8.3f} ± {row[c]['ci95']:5.3f}" for c in counts)
        lines.append(f"{'':>12} {int(k):2d}  {cells}")
    return "\n".join(lines)


def adapted_curves(learner, shots=10, steps=(0, 1, 10), tasks=3, seed=0, points=200):
    """Curves of a few test tasks: the true function and the learner's after each of `steps`.

    Returns:
        A list of dicts with `x` (`[points]`), `true`, `support_inputs`, `support_targets`
        and `steps` (a dict from a number of steps to predictions at `x`), one per task,
        computed with `learner.adapt`.
    """
    sample = evaluation_tasks(shots, tasks, seed)
    grid = np.linspace(*INPUT_RANGE, points, dtype="float32")[:, None]
    curves = []
    for index in range(tasks):
        support, targets = sample["support_inputs"][index], sample["support_targets"][index]
        curve = {
            "x": grid[:, 0],
            "true": sinusoid(grid[:, 0], sample["amplitude"][index], sample["phase"][index]),
            "support_inputs": support[:, 0],
            "support_targets": targets[:, 0],
            "steps": {},
        }
        for count in steps:
            adapted = learner.adapt(support, targets, steps=count)
            curve["steps"][count] = adapted(grid, training=False).numpy()[:, 0]
        curves.append(curve)
    return curves


def report(learner, baseline=None, tasks=1000, seed=0, figure=None, names=("MAML", "baseline")):
    """`evaluate_regression` of a learner and of a baseline on the same tasks, and a figure.

    Args:
        learner: a regression `GradientLearner`.
        baseline: another one (Finn et al.'s pretrained network), or None.
        tasks: tasks per K.
        seed: seed of the test tasks.
        figure: a PNG path for `draw_curves` of 3 tasks with K = 10 (pre-update, 1 and 10
            steps), one row per learner; None for no figure.
        names: the rows' names in the figure.

    Returns:
        `{"mse": ..., "baseline_mse": ... (with a baseline), "figure": path (with a figure)}`.
    """
    from training.sinusoid_figure import draw_curves

    result = {"mse": evaluate_regression(learner, tasks=tasks, seed=seed)}
    if baseline is not None:
        result["baseline_mse"] = evaluate_regression(baseline, tasks=tasks, seed=seed)
    if figure:
        rows = {names[0]: adapted_curves(learner, 10, (0, 1, 10), seed=seed)}
        if baseline is not None:
            rows[names[1]] = adapted_curves(baseline, 10, (0, 1, 10), seed=seed)
        result["figure"] = draw_curves(rows, figure, "sinusoid regression, K = 10")
    return result
