"""Finn et al.'s regression network: an MLP from a scalar input to a scalar output."""

import keras


def sinusoid_mlp(hidden=(40, 40)):
    """Builds the network that MAML and Reptile adapt to a sinusoid regression task.

    Dense layers of `hidden` units with ReLU, then a linear unit; weights drawn from a
    truncated normal of standard deviation 0.01 and zero biases, as in Finn et al.'s code
    (`construct_fc_weights`), with no normalization (`--norm=None`).

    Reference:
        Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
        Networks", ICML 2017 (section 5.1).

    Args:
        hidden: units of each hidden layer.

    Returns:
        A `keras.Sequential` named `network` mapping `[n, 1]` to predictions `[n, 1]`.
    """
    initializer = keras.initializers.TruncatedNormal(stddev=0.01)
    layers = [keras.Input((1,))]
    for index, units in enumerate(hidden):
        layers.append(
            keras.layers.Dense(
                units, activation="relu", kernel_initializer=initializer, name=f"hidden_{index}"
            )
        )
    layers.append(keras.layers.Dense(1, kernel_initializer=initializer, name="output"))
    return keras.Sequential(layers, name="network")
