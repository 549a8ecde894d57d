"""Meta-trains the contract suite's tiny learners with `fit` under MirroredStrategy on two
logical CPUs.

Run by `test_contract.py` in a fresh process, since logical devices must be configured before
TensorFlow initializes its devices. Takes registry names (`contract_learners.CONTRACT_LEARNERS`,
all of them by default) and prints one JSON line of results, one entry per name.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(CPU, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import random_sampler  # noqa: E402
from contract_learners import CONTRACT_LEARNERS, build_learner, ways_of  # noqa: E402

TASKS = 4
STEPS = 2


def run(name, strategy):
    """Trains one learner under the strategy and a copy on one device on the same data."""
    with strategy.scope():
        learner = build_learner(name)
        learner.compile(optimizer=keras.optimizers.SGD(0.05))
    single = build_learner(name, seed=1)
    single.set_weights(learner.get_weights())
    single.compile(optimizer=keras.optimizers.SGD(0.05))

    ways = ways_of(learner)
    data = random_sampler(ways=ways, shots=1, queries=2).dataset(tasks_per_batch=TASKS)
    first = next(iter(strategy.experimental_distribute_dataset(data.take(1))))
    tasks = strategy.run(lambda episode, labels: tf.shape(episode["support_images"])[0], first)
    devices = strategy.run(lambda: tf.constant(0)).values

    initial = [np.array(variable) for variable in learner.trainable_variables]
    history = learner.fit(data, epochs=1, steps_per_epoch=STEPS, shuffle=False, verbose=0)
    single.fit(data, epochs=1, steps_per_epoch=STEPS, shuffle=False, verbose=0)
    difference = max(
        float(np.abs(np.asarray(a) - np.asarray(b)).max())
        for a, b in zip(learner.trainable_variables, single.trainable_variables, strict=True)
    )
    moved = max(
        float(np.abs(np.asarray(a) - b).max())
        for a, b in zip(learner.trainable_variables, initial, strict=True)
    )
    result = {
        "zoo": os.path.abspath(zoo.__file__),
        "replicas": strategy.num_replicas_in_sync,
        "devices": sorted({value.device for value in devices}),
        "tasks_per_replica": [int(t) for t in strategy.experimental_local_results(tasks)],
        "loss": [float(value) for value in history.history["loss"]],
        "iterations": int(np.asarray(learner.optimizer.iterations)),
        "difference_from_one_device": difference,
        "moved": moved,
    }
    try:
        unbatched = random_sampler(ways=ways).dataset()
        learner.fit(unbatched, epochs=1, steps_per_epoch=1, verbose=0)
        result["unbatched_error"] = None
    except ValueError as error:
        result["unbatched_error"] = str(error)
    return result


def main():
    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    strategy = tf.distribute.MirroredStrategy(devices)
    names = sys.argv[1:] or sorted(CONTRACT_LEARNERS)
    print(json.dumps({name: run(name, strategy) for name in names}))


if __name__ == "__main__":
    main()
