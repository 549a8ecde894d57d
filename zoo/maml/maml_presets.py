"""MAML and first-order MAML presets (weights under `pretrained/<name>/`)."""

from zoo.preset_lists import omniglot_presets


def _omniglot(prefix, order, ways=(5,)):
    """The 1-shot and 5-shot Omniglot presets of the trained networks of `ways`."""
    return omniglot_presets(
        prefix,
        "MAML",
        lambda ways, shots: (
            f"{order} MAML, stride-2 Conv-4, Omniglot 28x28 Vinyals split, {ways}-way {shots}-shot."
        ),
        ways=ways,
    )


# The 20-way presets are networks of their own: first-order MAML's from
# fomaml_omniglot_20way_20k, second-order MAML's continuing that network
# (maml_omniglot_20way_from_first_order).
MAML_PRESETS = {
    **_omniglot("maml", "Second-order", (5, 20)),
    **_omniglot("fomaml", "First-order", (5, 20)),
}

MAML_SINUSOID_PRESETS = {
    "maml_sinusoid": {
        "class": "MAML",
        "description": "Second-order MAML, Finn et al.'s 40-40 ReLU MLP, sinusoid regression "
        "(K = 10 in meta-training, 10 inner steps at test).",
    },
    "fomaml_sinusoid": {
        "class": "MAML",
        "description": "First-order MAML, 40-40 ReLU MLP, sinusoid regression.",
    },
    "sinusoid_pretrained_baseline": {
        "class": "MAML",
        "description": "Finn et al.'s pretrained baseline: the 40-40 ReLU MLP trained on all "
        "sinusoid tasks jointly, adapted by the same gradient steps as maml_sinusoid.",
    },
}
