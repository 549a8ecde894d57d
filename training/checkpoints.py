"""Resumable meta-training: a `.keras` checkpoint with optimizer state, written atomically."""

import json
import os
import time

import keras

from training.files import atomic_path, write_json_atomically

MODEL_FILE = "checkpoint.keras"
STATE_FILE = "state.json"


def read_state(directory):
    """The saved `{"epoch", "seconds", "steps_per_epoch", "recipe"}` of a checkpoint folder.

    Returns None when the folder holds no checkpoint. Runs checkpointed before
    `steps_per_epoch` was recorded used 100.
    """
    path = os.path.join(directory, STATE_FILE)
    if not os.path.isfile(path) or not os.path.isfile(os.path.join(directory, MODEL_FILE)):
        return None
    with open(path) as file:
        state = json.load(file)
    state.setdefault("steps_per_epoch", 100)
    return state


def load_checkpoint(directory):
    """The compiled learner saved in `directory`, optimizer state included."""
    import zoo  # noqa: F401  (registers the model classes with Keras)

    return keras.saving.load_model(os.path.join(directory, MODEL_FILE))


class ResumableCheckpoint(keras.callbacks.Callback):
    """Saves model, optimizer and progress at the end of each epoch, atomically.

    A run killed at any moment resumes from the last completed epoch: the model file and the
    state are each written to a temporary name and renamed.

    Args:
        directory: the checkpoint folder.
        steps_per_epoch: meta-updates per epoch, recorded so that a resumed run matches.
        recipe: name of the recipe trained, recorded likewise.
        seconds: training seconds already spent before this run (from the resumed state).
    """

    def __init__(self, directory, steps_per_epoch, recipe=None, seconds=0.0):
        super().__init__()
        self.directory = directory
        self.steps_per_epoch = int(steps_per_epoch)
        self.recipe = recipe
        self.seconds = float(seconds)
        os.makedirs(directory, exist_ok=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.time() - self._started
        with atomic_path(os.path.join(self.directory, MODEL_FILE), ".tmp.keras") as partial:
            self.model.save(partial)
        state = {
            "epoch": epoch + 1,
            "seconds": round(self.seconds, 1),
            "steps_per_epoch": self.steps_per_epoch,
            "recipe": self.recipe,
            "logs": _floats(logs),
        }
        write_json_atomically(os.path.join(self.directory, STATE_FILE), state)


def _floats(logs):
    return {key: float(value) for key, value in (logs or {}).items()}
