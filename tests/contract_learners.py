"""The registry of the contract suite (`test_contract.py`): every meta-learner, one tiny factory.

A new model joins the whole suite by ONE entry in `CONTRACT_LEARNERS` below, e.g.
`"relationnet": tiny_relation_network,` with the factory written here beside the others: it
takes keyword overrides and returns the model BUILT (`build_for_episode`) for 8x8 images,
8 filters, 2 blocks. Episodes are 3-way unless the model fixes its number of ways
(`learner.fixed_ways`), which the suite then uses. No per-model test, no special case in the
suite: a model that genuinely needs another setting for a check (the learning rates of
`ContractLearner`, say) gets it through its entry, `"name": ContractLearner(factory, ...)`.
"""

import dataclasses
from collections.abc import Callable

import keras
import numpy as np

import zoo
from export.verify import raw_images

IMAGE_SIZE = 8
"""Side of the tiny models' input (raw episodes may have any size: the models resize)."""

WAYS = 3
"""Classes per contract episode, for models whose number of ways is not fixed."""


def tiny_protonet(**kwargs):
    """A built Prototypical Network with 8 filters, 2 blocks, 8x8 inputs."""
    options = {"filters": 8, "blocks": 2, "image_size": IMAGE_SIZE, **kwargs}
    return zoo.PrototypicalNetwork(**options).build_for_episode(WAYS, 2)


def tiny_maml(**kwargs):
    """A built 3-way MAML with 8 filters, 2 blocks, 8x8 inputs."""
    options = {"ways": WAYS, "filters": 8, "blocks": 2, "image_size": IMAGE_SIZE, **kwargs}
    return zoo.MAML(**options).build_for_episode(options["ways"], 2)


@dataclasses.dataclass(frozen=True)
class ContractLearner:
    """A registry entry: the factory, and the few settings a model may need to differ in.

    Args:
        build: zero-argument callable returning a built tiny learner (keyword overrides
            allowed, as `tiny_maml(inner_steps=2)`).
        meta_learning_rate: Adam's rate in the meta-training check (30 steps halve the loss).
        fine_tune_learning_rate: Adam's rate when fine-tuning the adapted classifier.
    """

    build: Callable[..., zoo.MetaLearner]
    meta_learning_rate: float = 1e-2
    fine_tune_learning_rate: float = 1e-2


CONTRACT_LEARNERS = {
    "protonet": tiny_protonet,
    "maml": tiny_maml,
}
"""Every meta-learner the zoo exports: name -> factory (or `ContractLearner` with settings)."""


def contract_entry(name):
    """The registry entry `name` as a `ContractLearner`."""
    entry = CONTRACT_LEARNERS[name]
    return entry if isinstance(entry, ContractLearner) else ContractLearner(entry)


def build_learner(name, seed=0):
    """A fresh tiny learner of registry entry `name`, its weights drawn with `seed`."""
    keras.utils.set_random_seed(seed)
    return contract_entry(name).build()


def ways_of(learner):
    """The number of classes of the learner's contract episodes."""
    return learner.fixed_ways or WAYS


def sharp_classifier(name, seed=4, spread=0.2, factor=1.5):
    """A tiny learner of entry `name` adapted to a random task, with clearly unequal outputs.

    An untrained tiny model gives nearly uniform probabilities, and parity of near-uniform
    outputs (of an export, say) would prove little. So the learner's kernels are multiplied by
    `factor` until the adapted classifier's probabilities on raw Omniglot-like images (the kind
    the exporters verify with) spread over more than `spread`, at most 20 times.

    Returns:
        The adapted classifier.
    """
    learner = build_learner(name)
    ways = ways_of(learner)
    rng = np.random.default_rng(seed)
    support = rng.uniform(0, 255, (2 * ways, IMAGE_SIZE, IMAGE_SIZE, 1)).astype("float32")
    labels = np.repeat(np.arange(ways), 2)
    queries = raw_images(6, 28, 28, rng)
    for _ in range(20):
        classifier = learner.adapt(support, labels)
        if np.ptp(np.asarray(classifier(queries))) > spread:
            return classifier
        for variable in learner.trainable_variables:
            if "kernel" in variable.path:
                variable.assign(variable * factor)
    raise AssertionError(f"{name}: adapted probabilities stay within {spread} of each other")
