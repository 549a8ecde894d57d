"""Matching Network meta-training throughput (episodes/s), simple and FCE, 20-way 1-shot."""

import keras
import tensorflow as tf

import zoo
from benchmarks import synthetic, tables

SETTING = {"ways": 20, "shots": 1, "queries": 15, "side": 28}
READ_STEPS = 2
NAMES = {
    False: "zoo.MatchingNetwork (simple)",
    True: f"zoo.MatchingNetwork (FCE, K = {READ_STEPS})",
}


def build(setting=SETTING):
    """Builder of the worker: one `train_on_batch` on one synthetic episode per call, for the
    simple and the FCE model (the recipes' episodes: 20-way 1-shot, 15 queries per class)."""
    keys = ("ways", "shots", "queries", "side")
    episode, labels = synthetic.episode(*(setting[key] for key in keys))
    x = {key: tf.constant(value) for key, value in episode.items()}
    y = tf.constant(labels)
    steps = {}
    for fce, name in NAMES.items():
        learner = zoo.MatchingNetwork(fce=fce, read_steps=READ_STEPS, image_size=setting["side"])
        learner.build_for_episode(setting["ways"], setting["shots"], setting["queries"])
        learner.compile(optimizer=keras.optimizers.Adam(1e-3))
        steps[name] = lambda learner=learner: learner.train_on_batch(x, y)
    return steps, {}


def table(results, repeats, setting=SETTING):
    """The table from `{name: (episodes/s, spread %, first call s)}`."""
    rows = [
        [
            name,
            tables.number(rate),
            f"±{spread:.0f}%",
            tables.number(1000 / rate, 0),
            tables.number(first_call, 1),
        ]
        for name, (rate, spread, first_call) in results.items()
    ]
    notes = [
        f"{setting['ways']}-way {setting['shots']}-shot, {setting['queries']} queries/class, "
        f"{setting['side']}x{setting['side']}, one episode per step, Adam; median of {repeats} "
        "repeats, the two models' steps interleaved",
    ]
    return tables.format_table(
        "Matching Network meta-training throughput",
        ["implementation", "episodes/s", "spread", "ms/episode", "first call s"],
        rows,
        notes,
    )
