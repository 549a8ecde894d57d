"""The classifier `MetaLearner.adapt` returns, and the compiled forward pass its kind shares."""

import json

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.layers.network_copy import Untracked, state_positions
from zoo.preprocessing import ImagePreprocessing

PREDICT_BATCH_SIZE = 32  # as keras.Model.predict
PLAIN = "plain"  # `AdaptedClassifier._forward` of a model that runs as a plain functional model


def build_classifier(preprocessing_config, head_layers, name):
    """Raw images -> preprocessing -> `head_layers` -> softmax, as an `AdaptedClassifier`."""
    channels = preprocessing_config.get("channels", 1)
    images = keras.Input((None, None, channels), name="images")
    features = ImagePreprocessing.from_config(preprocessing_config)(images)
    for layer in head_layers:
        features = layer(features)
    probabilities = keras.layers.Softmax(name="probabilities", dtype="float32")(features)
    return AdaptedClassifier(images, probabilities, name=name)


INITIALIZERS = ("kernel_initializer", "recurrent_initializer", "bias_initializer")


def zero_initializers(layer):
    """Makes `layer` and its sublayers, not yet built, start their weights at zero.

    For a head layer whose weights are all assigned once it is built (the learner's values in
    `adapt`, a file's when it is loaded): random initial values would be drawn only to be
    overwritten, and for large recurrent weights (an orthogonal initializer takes a QR
    decomposition) drawing them took most of the time of building the head.

    Returns:
        `layer`.
    """
    for sublayer in layer._flatten_layers(include_self=True):
        for attribute in INITIALIZERS:
            if getattr(sublayer, attribute, None) is not None:
                setattr(sublayer, attribute, keras.initializers.Zeros())
    return layer


def structure_key(head_layers):
    """A key equal for head layers that build classifiers of the same structure.

    A layer may define `structure_key()` (`NetworkCopy` does); otherwise its class and config
    without names are the key (copies made by `clone_model` get new names, not new math).
    """
    key = []
    for layer in head_layers:
        if hasattr(layer, "structure_key"):
            key.append(layer.structure_key())
        else:
            config = _without_names(keras.saving.serialize_keras_object(layer))
            key.append(json.dumps(config, sort_keys=True, default=repr))
    return tuple(key)


def _without_names(config):
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, (list, tuple)):
        return [_without_names(v) for v in config]
    return config


def copy_layer(layer):
    """A new layer of the same structure as `layer` (a `NetworkCopy` keeps its network)."""
    if hasattr(layer, "copy"):
        return layer.copy()
    return layer.__class__.from_config(layer.get_config())


class SharedForward:
    """The forward pass of a kind of adapted classifier, compiled once and run on any weights.

    It holds a private template classifier of that structure and runs
    `template.stateless_call` under `tf.function`, with the variables of the classifier being
    called as arguments: every classifier of the structure (one per adapted task) runs the
    same traced graph, where a classifier of its own would trace a graph of its own on its
    first `predict` or call. Nothing is captured, so a classifier that uses it still saves
    and exports on its own. The variables are `model.variables`: the weights and the state
    of any seed generator (Keras' `LSTMCell` has one, used only with dropout).

    Args:
        template: an `AdaptedClassifier` of the structure, not used for anything else.
    """

    def __init__(self, template):
        template.share_forward(None)
        self.template = template
        self.trainable, self.non_trainable = state_positions(template, template.variables)
        self.specs = [(tuple(w.shape), w.dtype) for w in template.variables]
        self.input_dtype = template.inputs[0].dtype
        self.input_shape = (None, None, None, template.inputs[0].shape[-1])
        self._functions = {}

    def fits(self, model):
        """Whether `model`'s variables have the template's shapes and dtypes, in order."""
        return [(tuple(w.shape), w.dtype) for w in model.variables] == self.specs

    def function(self, training, weights):
        """The compiled `(trainable, non_trainable, images) -> (outputs, updates)`.

        It takes the variables themselves (not their values, which would cost one eager read
        each per call) and reads them in the graph; it is traced once, for these variables'
        shapes and images of any size.
        """
        if training not in self._functions:

            def forward(trainable, non_trainable, images):
                return self.template.stateless_call(
                    [tf.convert_to_tensor(v) for v in trainable],
                    [tf.convert_to_tensor(v) for v in non_trainable],
                    images,
                    training=training,
                )

            function = tf.function(forward, reduce_retracing=True)
            function.get_concrete_function(
                *self._variables(weights), tf.TensorSpec(self.input_shape, self.input_dtype)
            )
            self._functions[training] = function
        return self._functions[training]

    def _variables(self, weights):
        variables = [weight.value for weight in weights]
        return (
            [variables[i] for i in self.trainable],
            [variables[i] for i in self.non_trainable],
        )

    def __call__(self, weights, images, training):
        """Runs the compiled pass on `weights` (a model's `variables`); assigns state updates."""
        training = bool(training)
        outputs, updates = self.function(training, weights)(
            *self._variables(weights), ops.cast(ops.convert_to_tensor(images), self.input_dtype)
        )
        if training:
            for position, value in zip(self.non_trainable, updates, strict=True):
                weights[position].assign(value)
        return outputs


@keras.saving.register_keras_serializable(package="metazoo")
class AdaptedClassifier(keras.Model):
    """A functional `keras.Model` from raw images `[n, H, W, C]` to class probabilities.

    It is an ordinary functional model (its layers hold the task, `fit` fine-tunes it, it
    saves to `.keras` and exports), with two shortcuts: calls run a `SharedForward` of its
    structure, and `predict` on an in-memory array runs those calls batch by batch instead of
    building Keras' data pipeline. `MetaLearner.adapt` gives it the pass that all classifiers
    of its structure share (one graph for all the tasks a learner adapts to, traced once); a
    classifier loaded from a file makes its own on its first eager call, so it computes
    exactly what the saved one did.
    """

    def __init__(self, inputs, outputs, name=None, **kwargs):
        super().__init__(inputs, outputs, name=name, **kwargs)
        self._forward = Untracked(None)

    def share_forward(self, forward):
        """Runs calls through `forward` (a `SharedForward`) if it fits this model's variables.

        With None (or a pass that does not fit), the model runs as a plain functional model.
        """
        fits = forward is not None and forward.fits(self)
        self._forward.value = forward if fits else PLAIN
        return self

    def shared_forward(self):
        """The `SharedForward` calls run through, made on first need; None if there is none."""
        if self._forward.value is None and tf.executing_eagerly():
            try:
                self.share_forward(SharedForward(self.from_config(self.get_config())))
            except ValueError:  # state outside the model's variables
                self.share_forward(None)
        forward = self._forward.value
        return None if forward in (None, PLAIN) else forward

    def call(self, inputs, training=None, mask=None, **kwargs):
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
            inputs = inputs[0]
        array = isinstance(inputs, np.ndarray) or ops.is_tensor(inputs)
        forward = self.shared_forward() if array and mask is None and not kwargs else None
        if forward is None:
            return super().call(inputs, training=training, mask=mask, **kwargs)
        return forward(self.variables, inputs, training)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Like `keras.Model.predict`; an array goes through `__call__` batch by batch."""
        array = isinstance(x, np.ndarray) or tf.is_tensor(x)
        if steps is not None or callbacks or not array or self.shared_forward() is None:
            return super().predict(
                x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks
            )
        size = batch_size or PREDICT_BATCH_SIZE
        count = int(x.shape[0])
        if count == 0:
            return super().predict(x, batch_size=batch_size, verbose=verbose)
        return np.concatenate(
            [
                ops.convert_to_numpy(self(x[start : start + size], training=False))
                for start in range(0, count, size)
            ]
        )
