"""MAML and first-order MAML presets (weights under `pretrained/<name>/`)."""

from zoo.preset_lists import omniglot_presets


def _omniglot(prefix, order):
    """The 5-way 1-shot and 5-shot Omniglot presets of one trained network."""
    return omniglot_presets(
        prefix,
        "MAML",
        lambda ways, shots: (
            f"{order} MAML, stride-2 Conv-4, Omniglot 28x28 Vinyals split, {ways}-way {shots}-shot."
        ),
        ways=(5,),
    )


MAML_PRESETS = {**_omniglot("maml", "Second-order"), **_omniglot("fomaml", "First-order")}

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
