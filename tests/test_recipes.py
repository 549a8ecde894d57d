"""The learning-rate schedules of the training recipes."""

import numpy as np
import pytest

from training import recipes


def schedule(optimizer_settings, steps=1000):
    return recipes.build_optimizer({"optimizer": optimizer_settings, "steps": steps})


def rate_at(optimizer, step):
    optimizer.iterations.assign(step)
    return float(optimizer.learning_rate)


def test_a_constant_rate_stays():
    optimizer = schedule({"learning_rate": 1e-3, "halve_every": None})
    assert float(optimizer.learning_rate) == pytest.approx(1e-3)


def test_halving_halves_every_so_many_steps():
    optimizer = schedule({"learning_rate": 1e-3, "halve_every": 100})
    got = [rate_at(optimizer, step) for step in (0, 99, 100, 250)]
    np.testing.assert_allclose(got, [1e-3, 1e-3, 5e-4, 2.5e-4], rtol=1e-6)


def test_cosine_anneals_to_zero_over_the_recipe_steps():
    optimizer = schedule({"learning_rate": 5e-4, "cosine": True}, steps=1000)
    got = [rate_at(optimizer, step) for step in (0, 500, 1000, 1500)]
    np.testing.assert_allclose(got, [5e-4, 2.5e-4, 0, 0], rtol=1e-5, atol=1e-9)


def test_a_recipe_may_clip_the_gradients_global_norm():
    assert schedule({"learning_rate": 1e-3}).global_clipnorm is None
    assert schedule({"learning_rate": 1e-3, "global_clipnorm": 0.25}).global_clipnorm == 0.25


@pytest.mark.parametrize("name", sorted(recipes.RECIPES))
def test_every_shipped_recipe_builds(name):
    recipe = recipes.get_recipe(name)
    recipes.build_learner(recipe)
    recipes.build_optimizer(recipe)
    if "init_from" in recipe:  # it starts from a preset that a recipe makes
        made = {preset for other in recipes.RECIPES.values() for preset in other["presets"]}
        assert recipe["init_from"] in made
    for preset, (ways, shots) in recipe["presets"].items():
        assert (ways, shots) in recipe["paper"], preset
