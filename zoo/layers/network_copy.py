"""A copy of a network that owns its weights and borrows the original's layers to run them."""

import keras


class Untracked:
    """Holds an object out of sight of Keras' and TensorFlow's tracking of layer attributes.

    A layer tracks every layer and variable it is given as an attribute: their weights become
    its own weights, are trained by `fit` and saved with it. What is shared between models and
    used only statelessly (a network's structure, a compiled function) is kept in here instead.
    """

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def state_positions(model, variables=None):
    """Where the state `model.stateless_call` takes lies in `model.weights`.

    Args:
        model: a Keras layer or model.
        variables: the list to find the state in, by default `model.weights`
            (`model.variables` also holds the state of seed generators).

    Returns:
        `(trainable, non_trainable)`: the positions in `variables` of
        `model.trainable_variables` and of `model.non_trainable_variables`.

    Raises:
        ValueError: when the model has state that is not in `variables` (e.g. a seed
            generator's, which is not a weight).
    """
    variables = model.weights if variables is None else variables
    index = {id(weight): position for position, weight in enumerate(variables)}
    try:
        return (
            [index[id(v)] for v in model.trainable_variables],
            [index[id(v)] for v in model.non_trainable_variables],
        )
    except KeyError:
        raise ValueError(f"model {model.name!r} has state that is not a weight") from None


@keras.saving.register_keras_serializable(package="metazoo")
class NetworkCopy(keras.layers.Layer):
    """A copy of a network with weights of its own, made without building its layers again.

    `keras.models.clone_model` builds every layer of a network again, and on a Conv-4 that takes
    far longer than running it. This layer holds only variables, one per weight of `network`
    (in `network.weights` order, starting from the given values), and runs `network`'s layers
    on them with `network.stateless_call`: any number of copies share one `network`, whose own
    variables are never read nor written. `fit` trains the copy's own variables; its
    non-trainable ones take the updates the layers make (batch normalization's moving
    averages). It saves and loads like any layer (its config holds the network's config).

    Args:
        network: the `keras.Model` to copy; it is not tracked by this layer (not among its
            layers nor weights), so it must not be trained or changed while copies use it.
        values: the initial values of the copy's weights, aligned with `network.weights`;
            by default the network's current values.
    """

    def __init__(self, network, values=None, **kwargs):
        if isinstance(network, dict):
            network = keras.saving.deserialize_keras_object(network)
        kwargs.setdefault("name", network.name)
        super().__init__(**kwargs)
        self._network = Untracked(network)
        self._positions = Untracked(state_positions(network))
        weights = network.weights
        if values is None:
            values = [weight.value for weight in weights]
        if len(values) != len(weights):
            raise ValueError(
                f"{len(values)} values for the {len(weights)} weights of {network.name}"
            )
        # Keras lists a layer's trainable weights first: these are in the network's order.
        self._copies = Untracked(
            [
                self.add_weight(
                    shape=weight.shape,
                    dtype=weight.dtype,
                    initializer=_constant(value),
                    trainable=weight.trainable,
                    name=weight.name,
                )
                for weight, value in zip(weights, values, strict=True)
            ]
        )
        self.built = True

    @property
    def network(self):
        """The network whose layers this copy runs (shared, never trained through the copy)."""
        return self._network.value

    def copy(self):
        """Another copy of the same network, with its own variables holding this one's values."""
        return NetworkCopy(self.network, [w.value for w in self._copies.value], name=self.name)

    def structure_key(self):
        """Identifies the structure: copies of one network have the same layers and weights."""
        return ("NetworkCopy", id(self.network), self.name, self.dtype_policy.name)

    def call(self, inputs, training=False):
        weights = self._copies.value
        trainable, non_trainable = self._positions.value
        outputs, updates = self.network.stateless_call(
            [weights[i].value for i in trainable],
            [weights[i].value for i in non_trainable],
            inputs,
            training=bool(training),
        )
        if training:
            for position, value in zip(non_trainable, updates, strict=True):
                weights[position].assign(value)
        return outputs

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.network.output_shape[1:])

    def get_config(self):
        config = super().get_config()
        config.update(network=keras.saving.serialize_keras_object(self.network))
        return config


def _constant(value):
    def initializer(shape, dtype=None):
        return keras.ops.cast(value, dtype) if dtype is not None else value

    return initializer
