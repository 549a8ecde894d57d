"""Reptile presets (weights under `pretrained/<name>/`): planned, trained by the recipe
`reptile_omniglot`, registered in `zoo/presets.py` once their weights ship."""

REPTILE_PRESETS = {
    f"reptile_omniglot_5way_{shots}shot": {
        "class": "Reptile",
        "description": f"Reptile (Adam inner loop, beta1 = 0), stride-2 Conv-4, Omniglot 28x28 "
        f"Vinyals split, evaluated 5-way {shots}-shot.",
    }
    for shots in (1, 5)
}
