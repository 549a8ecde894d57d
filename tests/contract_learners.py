"""The registry of the contract suite (`test_contract.py`): every meta-learner, one tiny factory.

A new model joins the whole suite by ONE entry in `CONTRACT_LEARNERS` below, e.g.
`"matchingnet": tiny_matching_network,` with the factory written here beside the others: it
takes keyword overrides and returns the model BUILT (`build_for_episode`) with 8 filters and 2
blocks for 8x8 images (or the least size the model takes: the raw episodes stay 8x8 and its
preprocessing resizes them). Episodes are 3-way unless the model fixes its number of ways
(`learner.fixed_ways`), which the suite then uses. No per-model test, no special case in the
suite: a model that genuinely needs another setting for a check (its `loss_fraction`, say) gets
it through its entry, `"name": ContractLearner(factory, loss_fraction=...)`.
"""

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

import zoo

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


def tiny_fomaml(**kwargs):
    """`tiny_maml` with first-order meta-gradients (`first_order=True`, FOMAML)."""
    return tiny_maml(**{"first_order": True, **kwargs})


def tiny_reptile(**kwargs):
    """A built 3-way Reptile with 8 filters, 2 blocks, 8x8 inputs, 2 inner steps of minibatches
    of 4 (3 when adapting)."""
    options = {
        "ways": WAYS,
        "filters": 8,
        "blocks": 2,
        "image_size": IMAGE_SIZE,
        "inner_steps": 2,
        "eval_inner_steps": 3,
        "inner_learning_rate": 1e-2,
        "inner_batch_size": 4,
        "eval_inner_batch_size": 4,
        **kwargs,
    }
    return zoo.Reptile(**options).build_for_episode(options["ways"], 2)


def tiny_lstm_meta_learner(**kwargs):
    """A built 3-way LSTM meta-learner with 8 filters, 2 blocks, 8x8 inputs, 2 updates."""
    options = {"ways": WAYS, "filters": 8, "blocks": 2, "image_size": IMAGE_SIZE, **kwargs}
    options.setdefault("inner_steps", 2)
    return zoo.LSTMMetaLearner(**options).build_for_episode(options["ways"], 2)


def tiny_relation_network(**kwargs):
    """A built Relation Network with 8 filters, 28x28 inputs (its relation module needs at
    least 22x22: two unpadded blocks and two poolings leave it 5x5 maps)."""
    options = {"filters": 8, **kwargs}
    return zoo.RelationNetwork(**options).build_for_episode(WAYS, 2)


def tiny_siamese_network(**kwargs):
    """A built Siamese network with 8 filters, 2 blocks, 8x8 inputs."""
    options = {"filters": 8, "blocks": 2, "image_size": IMAGE_SIZE, **kwargs}
    return zoo.SiameseNetwork(**options).build_for_episode(WAYS, 2)


def tiny_matching_network(**kwargs):
    """A built Matching Network with 8 filters, 2 blocks, 8x8 inputs."""
    options = {"filters": 8, "blocks": 2, "image_size": IMAGE_SIZE, **kwargs}
    return zoo.MatchingNetwork(**options).build_for_episode(WAYS, 2)


def tiny_matching_network_fce(**kwargs):
    """A built Matching Network with full context embeddings, 2 reads, 8 filters, 2 blocks."""
    return tiny_matching_network(**{"fce": True, "read_steps": 2, **kwargs})


def tiny_mann(**kwargs):
    """A built 3-way MANN: 16 LSTM units, a 12 x 6 memory, 2 heads, 8x8 inputs."""
    options = {
        "ways": WAYS,
        "controller_units": 16,
        "memory_rows": 12,
        "memory_width": 6,
        "read_heads": 2,
        "image_size": IMAGE_SIZE,
        **kwargs,
    }
    return zoo.MANN(**options).build_for_episode(options["ways"], 2)


def tiny_mann_ntm(**kwargs):
    """A built 3-way MANN with NTM-style addressing, as small as `tiny_mann`."""
    return tiny_mann(**{"addressing": "ntm", **kwargs})


def tiny_mann_strings(**kwargs):
    """A built 3-way MANN with string labels (five-hot in, 5 x 5 logits out), as `tiny_mann`."""
    return tiny_mann(**{"labels": "strings", **kwargs})


def tiny_meta_network(**kwargs):
    """A built 3-way Meta Network: 8 filters, 2 blocks, 8 units, generators of 4 units, 8x8."""
    options = {
        "ways": WAYS,
        "filters": 8,
        "blocks": 2,
        "units": 8,
        "meta_units": 4,
        "image_size": IMAGE_SIZE,
        **kwargs,
    }
    return zoo.MetaNetwork(**options).build_for_episode(options["ways"], 2)


@dataclasses.dataclass(frozen=True)
class ContractLearner:
    """A registry entry: the factory, and the few settings a model may need to differ in.

    Args:
        build: callable returning a built tiny learner (keyword overrides allowed, as
            `tiny_maml(inner_steps=2)`).
        loss_fraction: meta-training on one episode must bring the loss below this fraction of
            its start in `META_STEPS` steps. A model whose logits are bounded may need more:
            cosine attention over non-negative (ReLU) features keeps a 3-way loss above
            0.502 of its start.
        queries_from_support: `meta_trained`'s episode asks its support images again as its
            queries. Random queries are independent of the support set, so a learner whose
            meta-update never reads the query labels (Reptile: theta moves toward weights
            trained on the support set alone) cannot learn them; its queries must be images
            its adaptation can fit.
    """

    build: Callable[..., zoo.MetaLearner]
    loss_fraction: float = 0.5
    queries_from_support: bool = False


CONTRACT_LEARNERS = {
    "protonet": tiny_protonet,
    "maml": tiny_maml,
    "fomaml": tiny_fomaml,
    "lstm_meta_learner": tiny_lstm_meta_learner,
    "relationnet": tiny_relation_network,
    "reptile": ContractLearner(tiny_reptile, queries_from_support=True),
    "siamese": tiny_siamese_network,
    "matchingnet": ContractLearner(tiny_matching_network, loss_fraction=0.6),
    "matchingnet_fce": tiny_matching_network_fce,
    "mann": tiny_mann,
    "mann_ntm": tiny_mann_ntm,
    "mann_strings": tiny_mann_strings,
    "metanet": tiny_meta_network,
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


META_STEPS = 30
META_LEARNING_RATE = 3e-2
"""Adam's rate in `meta_trained`: fast enough for every model to learn one episode."""


def meta_trained(name, steps=META_STEPS):
    """A tiny learner of entry `name` meta-trained with `fit` on one fixed random episode.

    Adam (`META_LEARNING_RATE`), one step per epoch, so the history has the loss of every
    step; seeded, so the same every run.

    Returns:
        A dict of the `learner`, the `episode` and its query `labels`, the data set `data` of
        that one `(episode, labels)` element, the weights `before` training and the `losses`.
    """
    from conftest import random_episode  # here: conftest imports this module

    learner = build_learner(name)
    episode, labels = random_episode(ways=ways_of(learner), shots=2, queries=2, seed=1)
    if contract_entry(name).queries_from_support:
        episode["query_images"] = episode["support_images"].copy()
        labels = episode["support_labels"].copy()
    data = tf.data.Dataset.from_tensors((episode, labels))
    learner.compile(optimizer=keras.optimizers.Adam(META_LEARNING_RATE))
    before = [np.array(weight) for weight in learner.get_weights()]
    history = learner.fit(data, epochs=steps, verbose=0)
    return {
        "learner": learner,
        "episode": episode,
        "labels": labels,
        "data": data,
        "before": before,
        "losses": history.history["loss"],
    }


def sharp_classifier(trained, spread=0.2):
    """The meta-trained learner adapted to its training task, with clearly unequal outputs.

    An untrained tiny model gives nearly uniform probabilities, and parity of near-uniform
    outputs (of an export, say) would prove little. After `meta_trained`, the classifier
    adapted to the task's support set gives the task's queries probabilities that spread over
    more than `spread`; this is checked here.

    Args:
        trained: what `meta_trained` returns.
        spread: the least difference between the largest and the smallest probability.

    Returns:
        `(classifier, queries)`: the adapted classifier and the task's query images.
    """
    episode = trained["episode"]
    classifier = trained["learner"].adapt(episode["support_images"], episode["support_labels"])
    queries = episode["query_images"]
    probabilities = np.asarray(classifier(queries))
    assert np.ptp(probabilities) > spread, f"near-uniform probabilities: {probabilities}"
    return classifier, queries
