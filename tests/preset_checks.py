"""The shipped presets, grouped for the test files that check them, and the accuracy check.

The accuracy checks evaluate every preset on 200 episodes, some of them minutes each; they are
split between `test_presets.py` (the metric family) and `test_presets_adaptive.py` (the models
that adapt by gradient steps, a learned optimizer, fast weights or a memory), so that the two
test processes share them.
"""

import zoo
from training import protocols, sequence_recipes
from training.evaluate import evaluate
from zoo import presets

SEQUENCES = [
    name
    for name in zoo.list_presets()
    if sequence_recipes.is_sequence_preset(zoo.preset_metadata(name))
]
"""Presets scored per instance on Santoro et al.'s sequences (MANN)."""
CLASSIFICATION = [
    name
    for name in zoo.list_presets()
    if name not in presets.SINUSOID_PRESETS and name not in SEQUENCES
]
"""Presets with an accuracy (the sinusoid presets' MSE is checked in test_sinusoid.py)."""


def _family(base):
    """The classification presets whose registered class subclasses `base`."""
    return [
        n for n in CLASSIFICATION if issubclass(getattr(zoo, presets.PRESETS[n]["class"]), base)
    ]


METRIC = _family(zoo.MetricLearner)
"""Classification presets of the metric family (`zoo.MetricLearner`): an embedding compared
with the support set."""
GRADIENT = _family(zoo.GradientLearner)
"""Classification presets of the gradient family (`zoo.GradientLearner`): MAML, first-order
MAML, Reptile, the LSTM meta-learner."""
ADAPTIVE = [n for n in CLASSIFICATION if n not in METRIC]
"""Classification presets of the other families (MAML, Reptile, the LSTM meta-learner, Meta
Networks, MANN)."""


def assert_accuracy_matches_metadata(name, omniglot_path):
    """On 200 other test episodes than the metadata's (seed + 1), within 1.5 points of it.

    At most 100 queries an episode: the expected accuracy does not depend on the queries per
    class, and 20-way episodes of 15 queries per class took CI a minute and a half each.
    """
    metadata = zoo.preset_metadata(name)
    learner = zoo.load_preset(name)
    sampler = protocols.omniglot_sampler(
        omniglot_path,
        "test",
        metadata["ways"],
        metadata["shots"],
        min(15, 100 // metadata["ways"]),  # 15 (75 queries) 5-way, 5 (100 queries) 20-way
        seed=metadata.get("eval_seed", 0) + 1,
    )
    result = evaluate(learner, sampler, episodes=200, verbose=0)
    assert abs(result["accuracy"] - metadata["accuracy"]) <= 1.5, (name, result["accuracy"])
