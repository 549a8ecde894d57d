"""One worker of a two-process `MultiWorkerMirroredStrategy` cluster, run by
`test_multiworker.py` with its own `TF_CONFIG`.

Meta-trains the tiny recipes of `test_multiworker.RECIPES` with `training.train.train` (which
picks up the strategy of `TF_CONFIG`), each from the initial weights in a preset folder, on
random 8x8 episodes, for each number of steps in turn (each run resuming the last from the
chief's checkpoint), and writes this worker's weights after each and what it saw as an `.npz`
and a `.json` file.

Usage: multiworker_worker.py SPEC_JSON OUTPUT_PREFIX
"""

import json
import os
import sys

# TensorFlow requires the strategy before any other operation: first thing, as `metazoo train`.
from training import distributed  # noqa: I001

strategy = distributed.cluster_strategy()

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import random_sampler  # noqa: E402

import zoo  # noqa: E402
from training import train  # noqa: E402


class TemporaryFolders(keras.callbacks.Callback):
    """Records, after each epoch, the files in this worker's `metazoo-*` temporary folders."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        root = os.environ["TMPDIR"]
        folders = sorted(name for name in os.listdir(root) if name.startswith("metazoo-"))
        self.seen.append({name: sorted(os.listdir(os.path.join(root, name))) for name in folders})


def main():
    with open(sys.argv[1]) as file:
        spec = json.load(file)
    prefix = sys.argv[2]
    kind, index = distributed.task_of(strategy)
    report = {
        "zoo": os.path.abspath(zoo.__file__),
        "task": [kind, index],
        "chief": distributed.is_chief(strategy),
        "replicas": strategy.num_replicas_in_sync,
        "runs": {},
    }
    weights = {}
    for name, run in spec["runs"].items():
        sampler = random_sampler(**run["sampler"])
        report["runs"][name] = {}
        # Training again to more steps resumes from the chief's checkpoint, as a restarted
        # cluster does.
        for steps in spec["steps"]:
            folders = TemporaryFolders()
            learner, state = train.train(
                run["recipe"],
                run["checkpoint"],
                steps=steps,
                steps_per_epoch=1,
                init_from=run["init_from"],
                verbose=0,
                callbacks=[folders],
                sampler=sampler,
            )
            report["runs"][name][steps] = {"state": state, "temporary_folders": folders.seen}
            for i, variable in enumerate(learner.trainable_variables):
                weights[f"{name}/{steps}/trainable/{i}"] = np.asarray(variable)
            for i, value in enumerate(learner.get_weights()):
                weights[f"{name}/{steps}/all/{i}"] = value
    np.savez(prefix + ".npz", **weights)
    with open(prefix + ".json", "w") as file:
        json.dump(report, file)


if __name__ == "__main__":
    main()
