"""Reptile presets (weights under `pretrained/<name>/`): 5-way, trained by the recipe
`reptile_omniglot_40k`, and 20-way, by `reptile_omniglot_20way_40k` (one network each)."""

from zoo.preset_lists import omniglot_presets

REPTILE_PRESETS = omniglot_presets(
    "reptile",
    "Reptile",
    lambda ways, shots: (
        "Reptile (Adam inner loop, beta1 = 0), stride-2 Conv-4, Omniglot 28x28 "
        f"Vinyals split, evaluated {ways}-way {shots}-shot."
    ),
)

REPTILE_SINUSOID_PRESETS = {
    "reptile_sinusoid": {
        "class": "Reptile",
        "description": "Reptile (Adam inner loop, beta1 = 0), 40-40 ReLU MLP, sinusoid "
        "regression (K = 10 in meta-training, 10 inner steps at test).",
    }
}
