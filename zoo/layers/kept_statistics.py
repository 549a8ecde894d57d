"""A network whose batch-statistics normalization keeps the statistics of one batch."""

import keras

from zoo.layers.batch_normalization import BatchNormalization
from zoo.layers.batch_statistics_normalization import BatchStatisticsNormalization


def keeping_statistics(network):
    """A clone of `network` that normalizes with statistics it keeps, not the batch's own.

    Every `BatchStatisticsNormalization` becomes a `BatchNormalization` with the same name,
    epsilon, gamma and beta, and with momentum 0: run in training mode on a batch, it
    normalizes that batch with the batch's moments, exactly as the original layer does, and
    keeps those moments as its "moving" statistics (moving = 0 * moving + 1 * batch); run in
    inference mode, it normalizes any input with the kept statistics. So the clone run in
    training mode on a task's support set records the support set's statistics, and then
    classifies each image on its own with them, whatever else is in its batch (not
    transductive), as Ravi & Larochelle's learner does at meta-test time. Fine-tuning the
    clone with `fit` keeps the statistics of the last batch it trained on.

    The trainable weights keep their order (convolutions, gamma, beta, dense), so fast
    weights computed for `network` run the clone unchanged; its non-trainable weights are the
    kept means and variances.

    Reference:
        Ravi & Larochelle, "Optimization as a Model for Few-Shot Learning", ICLR 2017.

    Args:
        network: a `keras.Model` (nested models included).

    Returns:
        A new, built `keras.Model` with fresh weights of the same shapes.
    """

    def clone(layer):
        if isinstance(layer, BatchStatisticsNormalization):
            return BatchNormalization(momentum=0.0, epsilon=layer.epsilon, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(network, clone_function=clone, recursive=True)
