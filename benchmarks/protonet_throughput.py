"""Prototypical Network meta-training throughput (episodes/s) on 60-way 5-shot episodes."""

import keras
import tensorflow as tf

import zoo
from benchmarks import synthetic, tables

SETTING = {"ways": 60, "shots": 5, "queries": 5, "side": 28}
NAME = "zoo.PrototypicalNetwork (compile + train_on_batch)"


def build(setting=SETTING):
    """Builder of the worker: one `train_on_batch` on one synthetic episode per call."""
    learner = zoo.PrototypicalNetwork(image_size=setting["side"])
    learner.build_for_episode(setting["ways"], setting["shots"], setting["queries"])
    learner.compile(optimizer=keras.optimizers.Adam(1e-3))
    keys = ("ways", "shots", "queries", "side")
    episode, labels = synthetic.episode(*(setting[key] for key in keys))
    x = {key: tf.constant(value) for key, value in episode.items()}
    y = tf.constant(labels)
    return {NAME: lambda: learner.train_on_batch(x, y)}, {}


def table(rate, spread, first_call, repeats, setting=SETTING):
    rows = [
        [
            NAME,
            tables.number(rate),
            f"±{spread:.0f}%",
            tables.number(1000 / rate, 0),
            tables.number(first_call, 1),
        ]
    ]
    notes = [
        f"{setting['ways']}-way {setting['shots']}-shot, {setting['queries']} queries/class, "
        f"{setting['side']}x{setting['side']}, one episode per step, Adam; median of {repeats} "
        "repeats",
    ]
    return tables.format_table(
        "Prototypical Network meta-training throughput",
        ["implementation", "episodes/s", "spread", "ms/episode", "first call s"],
        rows,
        notes,
    )
