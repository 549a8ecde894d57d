"""Meta-training throughput and `adapt()` latency of every algorithm, at its recipes' sizes.

The rows come from `training.recipes`: every recipe meta-trained on Omniglot episodes (the
sinusoid recipes are left out, first-order MAML's are there), built at its real size by
`recipes.build_learner` and compiled with `recipes.build_optimizer`. Recipes that train the
same model on the same episodes (the second stages: `_long`, `_refine`, `_anneal`) give one
row, named after the first of them. `ISSUE_EPISODES` adds rows of other training episodes
that the issues ask for (the Relation Network's at the paper's 5-way 1-shot, 19 queries per
class, issue 11), and the recipes on Santoro et al.'s sequences (`"protocol": "sequences"`)
give rows of their own (short name `mann_sequences`, issue 15).

- Meta-training: `train_on_batch` (the compiled `train_step` that `fit` runs) on one synthetic
  batch of the recipe's `train` episodes (28x28 raw images, the protocol's; a meta-batch of
  `tasks_per_batch` episodes, or one episode when that is None). The Siamese rows count
  the image pairs their similarity scores too (`pairs_per_episode`, issue 12). A sequence
  recipe's step is the `train_on_batch` of its MANN's `training.sequences.SequenceTrainer`
  on `tasks_per_batch` synthetic sequences of `classes` x `instances` raw images at the
  model's `image_size` (the size the protocol loads); it has no adaptation rows (its presets
  are sequences, not N-way K-shot tasks). A recipe with a `dtype_policy` trains under that
  Keras policy, as `metazoo train` runs it (`training.precision`), and adapts in float32.
- Adaptation, for each `(ways, shots)` of the presets of the recipes that share the model:
  `adapt()` on raw 105x105 support images, each call a support set not seen before (as
  `benchmarks.latency`), and `predict` of the classifier the latest `adapt()` returned on 25
  raw queries.

Everything runs in one worker process (`benchmarks.workers`); its steps are interleaved.
"""

import dataclasses
import json

import numpy as np

from benchmarks import latency, synthetic, tables, timing
from training import precision
from training.sequence_recipes import is_sequence_recipe

TRAIN_SIDE = 28
"""Side of the meta-training images: the Omniglot protocol's 28x28."""

SEPARATOR = latency.SEPARATOR
TRAIN, ADAPT, PREDICT = "train", "adapt()", f"predict {latency.QUERIES}"

KEYS = {
    "PrototypicalNetwork": "protonet",
    "MatchingNetwork": "matchingnet",
    "RelationNetwork": "relationnet",
    "SiameseNetwork": "siamese",
    "MAML": "maml",
    "Reptile": "reptile",
    "LSTMMetaLearner": "lstm_meta_learner",
    "MANN": "mann",
    "MetaNetwork": "metanet",
}
"""Short names of the algorithms (`--algorithms`), by class; `matchingnet_fce`, `fomaml`,
`siamese_koch` and `mann_sequences` are variants (`algorithm_key`)."""

ADAPTATION_NEUTRAL = ("first_order", "scale", "learn_scale")
"""Model settings that leave `adapt()` and `predict` as they are, so models differing only in
them are adapted to once: the meta-gradient's order (fomaml adapts as maml) and a Matching
Network's attention scale, fixed or learned (one number either way)."""

ISSUE_EPISODES = {
    "relationnet": ("issue 11", {"ways": 5, "shots": 1, "queries": 19, "tasks_per_batch": None}),
}
"""More training episodes to time, by short name: `(source, train)`, with the model of the
algorithm's first recipe (not with `--quick`'s first rows only). Issue 11 asks for the
Relation Network's at the paper's 5-way 1-shot with 19 queries per class."""


@dataclasses.dataclass(frozen=True)
class Setting:
    """One row of the throughput table and its rows of the adaptation table.

    Args:
        name: the row's name: the first recipe of its kind.
        algorithm: the short name (`algorithm_key`).
        recipe: the recipe, with the model overrides applied.
        presets: `(ways, shots)` to adapt to; empty when an earlier row has the same model.
    """

    name: str
    algorithm: str
    recipe: dict
    presets: tuple


def algorithm_key(recipe):
    """The short name of a recipe's algorithm: a key of `KEYS`, `matchingnet_fce`, `fomaml`,
    `siamese_koch` or `mann_sequences`."""
    key = KEYS.get(recipe["algorithm"], recipe["algorithm"].lower())
    model = recipe["model"]
    if is_sequence_recipe(recipe):
        return f"{key}_sequences"
    if key == "matchingnet" and model.get("fce"):
        return "matchingnet_fce"
    if key == "maml" and model.get("first_order"):
        return "fomaml"
    if key == "siamese" and model.get("encoder") == "koch":
        return "siamese_koch"
    return key


def _frozen(value):
    return json.dumps(value, sort_keys=True, default=str)


def omniglot_recipes(recipes=None):
    """`{name: recipe}` of the recipes meta-trained on Omniglot episodes (first-order MAML's
    too; not those on Santoro et al.'s sequences, whose step is not the contract's)."""
    if recipes is None:
        from training.recipes import RECIPES as recipes
    return {
        name: r
        for name, r in recipes.items()
        if r.get("data", "omniglot") == "omniglot" and not is_sequence_recipe(r)
    }


def sequence_recipes(recipes=None):
    """`{name: recipe}` of the recipes meta-trained on Santoro et al.'s sequences (MANN's)."""
    if recipes is None:
        from training.recipes import RECIPES as recipes
    return {name: r for name, r in recipes.items() if is_sequence_recipe(r)}


def settings(
    selection=None, recipes=None, overrides=None, max_tasks=None, first_only=False, max_presets=None
):
    """The rows: one per algorithm, model and training episodes.

    Args:
        selection: short names (`algorithm_key`) or recipe names to keep; None keeps all.
        first_only: keep only the first row of each algorithm (`--quick`).
        max_presets: caps the adaptation settings of a row (tests).
        recipes: `{name: recipe}` (default: `training.recipes.RECIPES`).
        overrides: `{short name: model keyword arguments}` applied over the recipes' models
            (e.g. tiny models in tests).
        max_tasks: caps the recipes' meta-batch sizes (tests).

    Returns:
        A list of `Setting`, in the recipes' order (the sequence recipes last), each row of
        `ISSUE_EPISODES` after its algorithm's first. A model's presets are adapted to in its
        first row: the union of the presets of all recipes with that algorithm and model.
    """
    overrides = overrides or {}
    rows, presets = {}, {}
    chosen = {**omniglot_recipes(recipes), **sequence_recipes(recipes)}
    for name, recipe in chosen.items():
        key = algorithm_key(recipe)
        if selection and key not in selection and name not in selection:
            continue
        if first_only and any(row[1] == key for row in rows.values()):
            continue
        model = {**recipe["model"], **overrides.get(key, {})}
        # the synthetic batches time the model's step, not the augmentation of the data
        train = {k: v for k, v in recipe["train"].items() if k != "perturb"}
        if max_tasks and train["tasks_per_batch"]:
            train["tasks_per_batch"] = min(train["tasks_per_batch"], max_tasks)
        recipe = {**recipe, "model": model, "train": train}
        rows.setdefault(_frozen([recipe["algorithm"], model, train]), (name, key, recipe))
        if key in ISSUE_EPISODES and not first_only:
            source, episodes = ISSUE_EPISODES[key]
            extra = {**recipe, "train": episodes}
            rows.setdefault(
                _frozen([recipe["algorithm"], model, episodes]), (f"{name} ({source})", key, extra)
            )
        if is_sequence_recipe(recipe):
            continue  # its presets are sequences (classes, instances): nothing to adapt to
        adapted = {k: v for k, v in model.items() if k not in ADAPTATION_NEUTRAL}
        model_id = _frozen([recipe["algorithm"], adapted])
        if model_id not in presets:
            presets[model_id] = {"row": name, "settings": []}
        known = presets[model_id]["settings"]
        known += [tuple(s) for s in recipe["presets"].values() if tuple(s) not in known]
    by_row = {entry["row"]: tuple(entry["settings"][:max_presets]) for entry in presets.values()}
    return [Setting(name, key, recipe, by_row.get(name, ())) for name, key, recipe in rows.values()]


def episode_batch(train, seed=0):
    """`(x, y)` numpy arrays of a recipe's `train` episodes: a meta-batch or one episode."""
    shape = (train["ways"], train["shots"], train["queries"], TRAIN_SIDE)
    if train["tasks_per_batch"]:
        return synthetic.meta_batch(train["tasks_per_batch"], *shape, seed=seed)
    return synthetic.episode(*shape, seed=seed)


def sequence_batch(train, side, seed=0):
    """`(x, y)` numpy arrays of a sequence recipe's `train` episodes, images `side` x `side`."""
    shape = (train["classes"], train["instances"], side)
    return synthetic.sequences(train["tasks_per_batch"], *shape, seed=seed)


def describe_episodes(train):
    if "classes" in train:  # Santoro et al.'s sequences
        text = f"{train['classes']}-class {train['instances']}-instance sequences"
    else:
        text = f"{train['ways']}-way {train['shots']}-shot {train['queries']}q"
    return text + (f" x{train['tasks_per_batch']}" if train["tasks_per_batch"] else "")


def pairs_per_episode(recipe):
    """The image pairs a Siamese network's training episode scores, None for other algorithms.

    `SiameseNetwork.task_logits` compares every query image with every support image: N x q
    queries against N x K support images (the loss then takes each query's class scores, one
    same and N - 1 different pairs; the same count at K = 1).
    """
    if recipe["algorithm"] != "SiameseNetwork":
        return None
    train = recipe["train"]
    return train["ways"] * train["queries"] * train["ways"] * train["shots"]


def name(*parts):
    return SEPARATOR.join(str(part) for part in parts)


def setting_name(ways, shots):
    return f"{ways}-way {shots}-shot"


def build(selection=None, overrides=None, max_tasks=None, first_only=False, max_presets=None):
    """Builder of the worker: `train | row`, `adapt() | row | N-way K-shot` and
    `predict 25 | row | N-way K-shot` steps (arguments as `settings`)."""
    import tensorflow as tf

    from training import recipes
    from training.sequences import SequenceTrainer

    steps, notes = {}, {}
    rng = np.random.default_rng(0)
    queries = synthetic.raw_images(latency.QUERIES, latency.SIDE, rng)
    rows = settings(selection, None, overrides, max_tasks, first_only, max_presets)
    for row in rows:
        train = row.recipe["train"]
        policy = precision.recipe_policy(row.recipe)  # trains under it, adapts in float32
        with precision.dtype_policy(policy):
            learner = recipes.build_learner(row.recipe)
            if is_sequence_recipe(row.recipe):
                model = SequenceTrainer(learner)
                x, y = sequence_batch(train, learner.image_size)
            else:
                model = learner.build_for_episode(train["ways"], train["shots"], train["queries"])
                x, y = episode_batch(train)
            model.compile(optimizer=recipes.build_optimizer(row.recipe))
        if policy:
            learner = precision.float32_copy(learner, train["ways"], train["shots"])
        x = {key: tf.constant(value) for key, value in x.items()}
        y = tf.constant(y)
        steps[name(TRAIN, row.name)] = lambda model=model, x=x, y=y: model.train_on_batch(x, y)
        for ways, shots in row.presets:
            labels = np.repeat(np.arange(ways, dtype="int32"), shots)
            support_sets = [
                (synthetic.raw_images(ways * shots, latency.SIDE, rng), labels)
                for _ in range(latency.TASKS)
            ]
            latest = {}

            def adapt(images, labels, learner=learner, latest=latest):
                latest["classifier"] = learner.adapt(images, labels)

            setting = setting_name(ways, shots)
            steps[name(ADAPT, row.name, setting)] = latency.cycling(adapt, support_sets)
            steps[name(PREDICT, row.name, setting)] = lambda latest=latest: latest[
                "classifier"
            ].predict(queries, verbose=0)
    return steps, notes


def adaptation_detail(recipe):
    """What `adapt()` runs, from the recipe's model settings."""
    model, algorithm = recipe["model"], recipe["algorithm"]
    if algorithm == "LSTMMetaLearner":
        return f"meta-LSTM, {model.get('inner_steps')} updates"
    if algorithm == "Reptile":
        return (
            f"Adam, {model.get('eval_inner_steps')} steps on batches of "
            f"{model.get('eval_inner_batch_size')}"
        )
    if "eval_inner_steps" in model:
        return f"gradient, {model['eval_inner_steps']} steps"
    return {
        "PrototypicalNetwork": "embed support, prototypes",
        "MatchingNetwork": "embed support" + (", FCE LSTMs" if model.get("fce") else ""),
        "RelationNetwork": "embed support, class sums",
        "SiameseNetwork": "embed support",
        "MANN": "support sequence into memory",
        "MetaNetwork": "support gradients, fast weights",
    }.get(algorithm, "")


def measure(worker, quick=False, repeats=5, log=print):
    """Times the worker's steps, interleaved.

    Returns:
        `(times, per_task)`: `{step name: [seconds per call, one a measurement]}` and the
        number of new tasks behind each adaptation median.

    Training steps run `1 if quick else 3` calls per measurement; adaptation `1` call (a new
    task) over `max(repeats, 2 if quick else 10)` measurements, as `benchmarks.latency`;
    predictions `2 if quick else 5` calls.
    """
    train = [key for key in worker.available if key.startswith(TRAIN + SEPARATOR)]
    adapt = [key for key in worker.available if key.startswith(ADAPT + SEPARATOR)]
    predict = [key for key in worker.available if key.startswith(PREDICT + SEPARATOR)]
    times = {}
    log(f"  [algorithms] timing {len(train)} meta-training steps ...")
    times.update(
        timing.interleaved(
            {key: worker.step_function(key, 1 if quick else 3) for key in train}, repeats
        )
    )
    per_task = max(repeats, 2 if quick else 10)
    log(f"  [algorithms] timing {len(adapt)} adaptations x {per_task} new tasks ...")
    timers = {key: worker.step_function(key, 1) for key in adapt}
    for timer in timers.values():  # a second warm-up task beside the worker's first
        timer()
    times.update(timing.interleaved(timers, per_task))
    log(f"  [algorithms] timing {len(predict)} predictions ...")
    timers = {key: worker.step_function(key, 2 if quick else 5) for key in predict}
    times.update(timing.interleaved(timers, repeats))
    return times, per_task


def tables_text(times, rows, first_calls, repeats, per_task):
    """The throughput table and the adaptation table.

    Args:
        times: `{step name: [seconds per call, one a measurement]}`.
        rows: the `Setting`s measured.
        first_calls: `{step name: seconds of its first call}`.
        repeats: measurements per training median.
        per_task: new tasks per adaptation median.
    """
    first_calls = first_calls or {}
    throughput, adaptation = [], []
    for row in rows:
        train = row.recipe["train"]
        key = name(TRAIN, row.name)
        values = times.get(key)
        seconds = timing.median(values) if values else None
        episodes = train["tasks_per_batch"] or 1
        pairs = pairs_per_episode(row.recipe)
        throughput.append(
            [
                row.algorithm,
                row.name,
                describe_episodes(train),
                tables.number(episodes / seconds if seconds else None, 1),
                f"±{timing.spread(values):.0f}%" if values else "",
                tables.number(pairs * episodes / seconds if seconds else None, 0) if pairs else "",
                tables.number(1000 * seconds if seconds else None, 0),
                tables.number(first_calls.get(key), 1),
            ]
        )
        for ways, shots in row.presets:
            setting = setting_name(ways, shots)
            adapt = times.get(name(ADAPT, row.name, setting))
            predict = times.get(name(PREDICT, row.name, setting))
            first = first_calls.get(name(ADAPT, row.name, setting))
            adaptation.append(
                [
                    row.algorithm,
                    setting,
                    adaptation_detail(row.recipe),
                    tables.number(1000 * timing.median(adapt) if adapt else None, 1),
                    tables.number(1000 * timing.median(predict) if predict else None, 1),
                    tables.number(first, 1),
                ]
            )
    text = tables.format_table(
        "Meta-training throughput of every algorithm",
        [
            "algorithm",
            "recipe",
            "episodes",
            "episodes/s",
            "spread",
            "pairs/s",
            "ms/step",
            "first call s",
        ],
        throughput,
        [
            "the recipes' models and optimizers; train_on_batch on synthetic "
            f"{TRAIN_SIDE}x{TRAIN_SIDE} raw images of the recipes' episodes",
            "episodes: N-way K-shot, queries per class, x tasks of a meta-batch; or C-class "
            "sequences of I instances each (Santoro et al.'s, images at the model's size)",
            "(issue N): the recipe's model on the episodes issue N asks for",
            "pairs/s: Siamese rows, image pairs the similarity scores (N x q queries against "
            "N x K support images an episode)",
            f"median of {repeats} interleaved repeats (spread: ± half the interquartile "
            "range); first call: tracing, seconds",
            *[
                f"{row.name}: trains under Keras' {row.recipe['dtype_policy']} policy, as its "
                "recipe (adapt() rows: float32, as its presets)"
                for row in rows
                if precision.recipe_policy(row.recipe)
            ],
        ],
    )
    text += "\n" + tables.format_table(
        "adapt() and predict() latency of every algorithm",
        ["algorithm", "task", "adaptation", "adapt() ms", f"{PREDICT} ms", "first adapt() s"],
        adaptation,
        [
            f"the presets' settings, raw {latency.SIDE}x{latency.SIDE} images; adapt(): each "
            "call a support set not seen before,",
            f"  median of {per_task} tasks after 2 warm-up tasks; first adapt(): the first "
            "call, which traces, seconds",
            f"{PREDICT}: predict() of the latest adapted classifier on {latency.QUERIES} raw "
            f"queries, median of {repeats} repeats",
            "fomaml adapts as maml does (first order changes only the meta-gradient)",
        ],
    )
    return text
