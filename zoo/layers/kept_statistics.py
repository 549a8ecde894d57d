"""A network whose batch-statistics normalization keeps the statistics of one batch."""

import keras
from keras import ops

from zoo.layers.batch_statistics_normalization import BatchStatisticsNormalization


@keras.saving.register_keras_serializable(package="metazoo")
class KeptStatisticsNormalization(keras.layers.BatchNormalization):
    """Batch normalization that keeps the statistics of the last batch it trained on.

    Momentum 0: in training mode it normalizes the batch with the batch's moments, exactly as
    `BatchStatisticsNormalization` does, and keeps them as its moving statistics (moving =
    0 * moving + 1 * batch); in inference mode it normalizes any input with the kept ones. Its
    training pass computes the moments by the explicit formula, never TensorFlow's fused
    kernel (whose gradient ignores the moments it outputs) nor `ops.moments` (whose second
    derivative is not exact): the kept statistics are differentiable functions of the batch,
    to any order, so a meta-gradient can flow through statistics taken on a support set.

    Reference:
        Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by
        Reducing Internal Covariate Shift", ICML 2015.
    """

    def __init__(self, **kwargs):
        kwargs["momentum"] = 0.0
        super().__init__(**kwargs)

    def call(self, inputs, training=None, mask=None):
        if not training or mask is not None:
            return super().call(inputs, training=False, mask=mask)
        axes = tuple(range(len(inputs.shape) - 1))
        mean = ops.mean(inputs, axis=axes)
        variance = ops.mean(ops.square(inputs - mean), axis=axes)
        self.moving_mean.assign(ops.cast(mean, self.moving_mean.dtype))
        self.moving_variance.assign(ops.cast(variance, self.moving_variance.dtype))
        return (inputs - mean) * ops.rsqrt(variance + self.epsilon) * self.gamma + self.beta

    def get_config(self):
        config = super().get_config()
        del config["momentum"]
        return config


def keeping_statistics(network):
    """A clone of `network` that normalizes with statistics it keeps, not the batch's own.

    Every `BatchStatisticsNormalization` becomes a `KeptStatisticsNormalization` with the
    same name, epsilon, gamma and beta: run in training mode on a task's support set, the
    clone normalizes it as `network` does and keeps the support set's statistics; run in
    inference mode, it classifies each image on its own with them, whatever else is in its
    batch (not transductive), as Ravi & Larochelle's learner does at meta-test time.
    Fine-tuning the clone with `fit` keeps the statistics of the last batch it trained on.

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
            return KeptStatisticsNormalization(epsilon=layer.epsilon, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(network, clone_function=clone, recursive=True)
