"""Shipped presets: find, verify and load them, offline."""

import hashlib
import importlib.resources
import json
import os

import keras

from zoo.lstm_meta_learner.lstm_meta_learner_presets import LSTM_META_LEARNER_PRESETS
from zoo.maml.maml_presets import MAML_PRESETS, MAML_SINUSOID_PRESETS
from zoo.mann.mann_presets import MANN_PRESETS
from zoo.matching_network.matching_network_presets import MATCHING_NETWORK_PRESETS
from zoo.meta_networks.meta_networks_presets import META_NETWORKS_PRESETS
from zoo.prototypical_network.prototypical_network_presets import PROTOTYPICAL_NETWORK_PRESETS
from zoo.relation_network.relation_network_presets import RELATION_NETWORK_PRESETS
from zoo.reptile.reptile_presets import REPTILE_PRESETS, REPTILE_SINUSOID_PRESETS
from zoo.siamese_network.siamese_network_presets import SIAMESE_NETWORK_PRESETS

SINUSOID_PRESETS = {**MAML_SINUSOID_PRESETS, **REPTILE_SINUSOID_PRESETS}
"""Regression presets (metadata `dataset: sinusoid`, MSE instead of accuracy), trained by the
recipes of the same names."""
PRESETS = {
    **PROTOTYPICAL_NETWORK_PRESETS,
    **MAML_PRESETS,
    **MATCHING_NETWORK_PRESETS,
    **RELATION_NETWORK_PRESETS,
    **SIAMESE_NETWORK_PRESETS,
    **LSTM_META_LEARNER_PRESETS,
    **MANN_PRESETS,
    **META_NETWORKS_PRESETS,
    **REPTILE_PRESETS,
    **SINUSOID_PRESETS,
}
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"


class PresetError(ValueError):
    """A preset that is unknown, incomplete or corrupted."""


def list_presets():
    """Names of the shipped presets, sorted."""
    return sorted(PRESETS)


def preset_directory(name):
    """The folder of a preset: a shipped preset's name, or the path of a preset folder."""
    if name in PRESETS:
        return str(importlib.resources.files("pretrained") / name)
    if os.path.isdir(str(name)):
        return str(name)
    raise PresetError(f"unknown preset {name!r}; known presets: {', '.join(list_presets())}")


def preset_metadata(name):
    """The preset's `metadata.json` as a dict."""
    return _read_json(preset_directory(name), METADATA_FILE)


def sha256_of(path):
    """Hex sha256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_preset(name):
    """Loads a preset's meta-learner with its meta-trained weights.

    Args:
        name: a name from `list_presets()`, or the path of a folder written by `metazoo train`.

    Returns:
        The `MetaLearner`, built and ready to `adapt`, evaluate or `fit` further: it comes
        compiled with the defaults of `MetaLearner.compile` (Adam at 1e-3, cross-entropy on
        logits, accuracy); compile again to change them.

    Raises:
        PresetError: for an unknown name, a missing file or a weights file whose sha256 differs
            from the one recorded in the metadata.
    """
    directory = preset_directory(name)
    metadata = _read_json(directory, METADATA_FILE)
    config = _read_json(directory, CONFIG_FILE)
    weights = os.path.join(directory, WEIGHTS_FILE)
    if not os.path.isfile(weights):
        raise PresetError(f"preset {name!r} has no {WEIGHTS_FILE} in {directory}")
    expected = metadata.get("weights_sha256")
    actual = sha256_of(weights)
    if expected != actual:
        raise PresetError(
            f"preset {name!r}: sha256 of {weights} is {actual}, but metadata.json records "
            f"{expected}; the file is corrupted or was replaced"
        )
    # A config written from a compiled learner carries its compile arguments; compiling only
    # after the weights are in keeps Keras from looking for optimizer state in the weights.
    config.pop("compile_config", None)
    learner = keras.saving.deserialize_keras_object(config)
    learner.build_for_episode(int(metadata["ways"]), int(metadata["shots"]))
    learner.load_weights(weights)
    learner.compile()
    learner.preset_name = metadata.get("preset", os.path.basename(os.path.normpath(directory)))
    return learner


def _read_json(directory, filename):
    path = os.path.join(directory, filename)
    if not os.path.isfile(path):
        raise PresetError(f"preset folder {directory} has no {filename}")
    with open(path) as file:
        return json.load(file)
