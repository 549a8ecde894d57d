"""A copy of a network that owns its weights and borrows the original's layers to run them."""

import weakref

import keras
import tensorflow as tf

from zoo.layers.flat_weights import flatten, unflatten


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
    far longer than running it. This layer holds only variables and runs `network`'s layers on
    them with `network.stateless_call`: any number of copies share one `network`, whose own
    variables are never read nor written. The copy's weights are two flat variables, the
    network's trainable weights end to end (`trainable_values`, in
    `network.trainable_weights` order) and its non-trainable ones (`non_trainable_values`, if
    it has any), cut back into their shapes inside the call: creating a variable costs far
    more than slicing one, and an adapted classifier makes a copy per task. `fit` trains the
    trainable values; the non-trainable ones take the updates the layers make (batch
    normalization's moving averages). It saves and loads like any layer (its config holds the
    network's config).

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
        # Keras lists a layer's trainable weights first: trainable_values, then the others.
        self._flat = Untracked(
            [
                self._flat_weight(weights, values, positions, name)
                for positions, name in zip(self._positions.value, FLAT_NAMES, strict=True)
            ]
        )
        self.built = True

    def _flat_weight(self, weights, values, positions, name):
        """One variable holding `values[positions]` flattened end to end (None if empty)."""
        if not positions:
            return None
        dtypes = {weights[i].dtype for i in positions}
        if len(dtypes) > 1:
            raise ValueError(f"{self.name}: {name} of several dtypes {sorted(dtypes)}")
        (dtype,) = dtypes
        group = [tf.convert_to_tensor(values[i]) for i in positions]  # variables: read once
        flat = _end_to_end(self.network)(group, dtype)
        return self.add_weight(
            shape=flat.shape,
            dtype=dtype,
            initializer=_constant(flat),
            trainable=name == FLAT_NAMES[0],
            name=name,
        )

    @property
    def network(self):
        """The network whose layers this copy runs (shared, never trained through the copy)."""
        return self._network.value

    def weight_values(self):
        """The copy's current values, aligned with `network.weights` and shaped like them."""
        values = [None] * len(self.network.weights)
        for positions, flat in zip(self._positions.value, self._flat.value, strict=True):
            if flat is not None:
                for position, value in zip(
                    positions, self._unflatten(flat, positions), strict=True
                ):
                    values[position] = value
        return values

    def copy(self):
        """Another copy of the same network, with its own variables holding this one's values."""
        return NetworkCopy(self.network, self.weight_values(), name=self.name)

    def structure_key(self):
        """Identifies the structure: copies of one network have the same layers and weights."""
        return ("NetworkCopy", id(self.network), self.name, self.dtype_policy.name)

    def _unflatten(self, flat, positions):
        """`flat`'s value cut into the shapes of the network's weights at `positions`."""
        return unflatten(flat.value, [tuple(self.network.weights[i].shape) for i in positions])

    def call(self, inputs, training=False):
        trainable, non_trainable = (
            self._unflatten(flat, positions) if flat is not None else []
            for flat, positions in zip(self._flat.value, self._positions.value, strict=True)
        )
        outputs, updates = self.network.stateless_call(
            trainable, non_trainable, inputs, training=bool(training)
        )
        if training and updates:
            state = self._flat.value[1]
            state.assign(flatten(updates))
        return outputs

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.network.output_shape[1:])

    def get_config(self):
        config = super().get_config()
        config.update(network=keras.saving.serialize_keras_object(self.network))
        return config


FLAT_NAMES = ("trainable_values", "non_trainable_values")


_END_TO_END = weakref.WeakKeyDictionary()


def _end_to_end(network):
    """The compiled `(values, dtype) -> flat` of `network`'s copies, made once per network.

    It casts `values` to `dtype`, flattens and concatenates them in one call: eagerly, the
    casts and reshapes of a Conv-4's weights took longer than the rest of a copy. One
    function per network, so each traces once per group of weights (a single function
    shared by all networks would retrace, and warn, for every new structure).
    """
    if network not in _END_TO_END:

        def end_to_end(values, dtype):
            return flatten([keras.ops.cast(value, dtype) for value in values])

        _END_TO_END[network] = tf.function(end_to_end)
    return _END_TO_END[network]


def _constant(value):
    def initializer(shape, dtype=None):
        return keras.ops.cast(value, dtype) if dtype is not None else value

    return initializer
