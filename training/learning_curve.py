"""Training you can watch: the history as CSV, TensorBoard logs and a learning-curve PNG."""

import csv
import os

import keras

from training.charts import line_charts

HISTORY_FILE = "history.csv"
CURVE_FILE = "learning_curve.png"
TENSORBOARD_FOLDER = "tensorboard"


class LearningCurve(keras.callbacks.Callback):
    """Redraws the learning curve from the run's `history.csv` at the end of each epoch.

    The history is Keras' `CSVLogger` (appending, so a resumed run continues it); an epoch
    written twice (a run killed between the history and its checkpoint) counts once, with its
    last values. The chart has the training loss and each metric against meta-updates.

    Args:
        directory: the run's checkpoint folder, holding `history.csv`.
        steps_per_epoch: meta-updates per epoch (the horizontal axis counts updates).
    """

    def __init__(self, directory, steps_per_epoch):
        super().__init__()
        self.directory = directory
        self.steps_per_epoch = int(steps_per_epoch)

    def on_epoch_end(self, epoch, logs=None):
        draw_learning_curve(self.directory, self.steps_per_epoch)


def read_history(directory):
    """`{epoch: {name: value}}` from the run's `history.csv` (the last row of each epoch;
    values Keras wrote as missing, "NA", left out)."""
    path = os.path.join(directory, HISTORY_FILE)
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as file:
        return {
            int(row.pop("epoch")): {
                key: float(value) for key, value in row.items() if value not in ("", "NA")
            }
            for row in csv.DictReader(file)
        }


def draw_learning_curve(directory, steps_per_epoch):
    """Writes `learning_curve.png` in `directory` from its history; returns its path.

    One panel per quantity: the loss, then each metric (accuracy), against meta-updates.
    """
    history = read_history(directory)
    if not history:
        return None
    epochs = sorted(history)
    names = sorted({name for values in history.values() for name in values})
    names.sort(key=lambda name: name != "loss")
    panels = []
    for name in names:
        points = [
            ((e + 1) * steps_per_epoch, history[e][name]) for e in epochs if name in history[e]
        ]
        xs, ys = zip(*points, strict=True)
        panels.append(
            {"curves": {name: (xs, ys)}, "x_label": "meta-updates", "y_label": name, "title": name}
        )
    path = os.path.join(directory, CURVE_FILE)
    line_charts(path, panels)
    return path


def monitoring_callbacks(directory, steps_per_epoch):
    """The callbacks `training.train` adds to every run: history, TensorBoard, curve."""
    return [
        keras.callbacks.CSVLogger(os.path.join(directory, HISTORY_FILE), append=True),
        keras.callbacks.TensorBoard(
            os.path.join(directory, TENSORBOARD_FOLDER), write_graph=False, update_freq="epoch"
        ),
        LearningCurve(directory, steps_per_epoch),
    ]
