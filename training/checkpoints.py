"""Resumable meta-training: a `.keras` checkpoint with optimizer state, written atomically."""

import json
import os
import time

import keras

from zoo.files import atomic_destination, write_json_atomically

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


def resume_settings(directory, recipe, steps_per_epoch, steps):
    """The state of the run to resume in `directory` and the steps per epoch to train with.

    Args:
        directory: the checkpoint folder.
        recipe: name of the recipe to train (None: not checked).
        steps_per_epoch: the value asked for, or None for the resumed run's (else 100).
        steps: total meta-updates asked for; a fresh run has at most this many per epoch.

    Returns:
        `(state, steps_per_epoch)`: `state` is None for a fresh run.

    Raises:
        ValueError: when the folder holds a run of another recipe or another steps per epoch.
    """
    state = read_state(directory)
    if state is None:
        return None, int(steps_per_epoch or min(100, steps))
    if recipe and state.get("recipe") not in (None, recipe):
        raise ValueError(
            f"checkpoint folder {directory} holds a run of recipe {state['recipe']}, not "
            f"{recipe}; use another checkpoint folder (--checkpoint)"
        )
    if steps_per_epoch and steps_per_epoch != state["steps_per_epoch"]:
        raise ValueError(
            f"the run in {directory} has {state['steps_per_epoch']} steps per epoch; resume it "
            f"with the same value (--steps-per-epoch {state['steps_per_epoch']})"
        )
    return state, int(state["steps_per_epoch"])


def episodes_done(state, steps_per_epoch, episodes_per_step):
    """Episodes of the seeded stream the run in a checkpoint has trained on (0 for a fresh run).

    Recorded since runs may change their episodes per step (an unbatched recipe on several
    replicas takes one episode per replica); older checkpoints took `episodes_per_step`.
    """
    if not state:
        return 0
    if "episodes" in state:
        return int(state["episodes"])
    return int(state["epoch"]) * int(steps_per_epoch) * int(episodes_per_step)


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
        init_from: where the run's starting weights came from (a dict such as `{"preset",
            "train_steps", "train_seconds"}`), recorded for the presets' metadata.
        episodes_per_step: episodes of the stream each step takes, to record how many the run
            has used (`episodes_done`); None: not recorded.
        episodes: episodes of the stream used before this run (from the resumed state).
    """

    def __init__(
        self,
        directory,
        steps_per_epoch,
        recipe=None,
        seconds=0.0,
        init_from=None,
        episodes_per_step=None,
        episodes=0,
    ):
        super().__init__()
        self.directory = directory
        self.steps_per_epoch = int(steps_per_epoch)
        self.recipe = recipe
        self.seconds = float(seconds)
        self.init_from = init_from
        self.episodes_per_step = episodes_per_step
        self.episodes = int(episodes)
        os.makedirs(directory, exist_ok=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.time() - self._started
        if self.episodes_per_step:
            self.episodes += self.steps_per_epoch * int(self.episodes_per_step)
        with atomic_destination(os.path.join(self.directory, MODEL_FILE), ".tmp.keras") as partial:
            self.model.save(partial)
        state = {
            "epoch": epoch + 1,
            "seconds": round(self.seconds, 1),
            "steps_per_epoch": self.steps_per_epoch,
            "recipe": self.recipe,
            "logs": _floats(logs),
        }
        if self.episodes_per_step:
            state["episodes"] = self.episodes
        if self.init_from:
            state["init_from"] = self.init_from
        write_json_atomically(os.path.join(self.directory, STATE_FILE), state)


def _floats(logs):
    return {key: float(value) for key, value in (logs or {}).items()}
