"""Meta-training in a mixed precision, with presets that compute in float32.

A recipe may set `dtype_policy` (a Keras dtype policy name such as `"mixed_bfloat16"`): the
learner it trains is built, and resumed from its checkpoint, under that policy, so its layers
compute in bfloat16 while their variables stay float32 (Keras' mixed precision; bfloat16 has
float32's range, so no loss scaling). On CPUs with bfloat16 matrix units (AMX, AVX512-BF16)
large convolutions run faster that way: Koch et al.'s network on 105x105 images trains about
1.8x faster on the 2 cores this project was measured on (the 28x28 Conv-4 recipes run slower,
and keep float32). What leaves training computes in float32: presets are built from their
config under the default policy, and the learner `training.train.train` returns is such a
float32 copy, which is what `metazoo train` evaluates.
"""

import contextlib

import keras

FLOAT32 = "float32"


@contextlib.contextmanager
def dtype_policy(name):
    """Makes `name` Keras' global dtype policy inside the block (None: leaves it as it is).

    Layers take the global policy when they are made; the previous policy is restored on
    leaving, even after an error.
    """
    if name is None:
        yield
        return
    policy = keras.dtype_policies.get(name)  # an unknown name fails here, before anything
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def recipe_policy(recipe):
    """The dtype policy a recipe trains under, None for the default (float32)."""
    name = recipe.get("dtype_policy")
    return None if name in (None, FLOAT32) else name


def float32_copy(learner, ways, shots):
    """A copy of `learner` computing in float32 with the same weights (uncompiled).

    Args:
        learner: a meta-learner built under any dtype policy.
        ways, shots: an episode shape to build the copy's weights with.
    """
    with dtype_policy(FLOAT32):
        copy = type(learner).from_config(learner.get_config())
        copy.build_for_episode(ways, shots)
    copy.set_weights(learner.get_weights())
    return copy
