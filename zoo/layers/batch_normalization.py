"""Keras batch normalization whose training step runs TensorFlow's fused kernel."""

import keras

from zoo.layers.fused import fusable, fused_batch_normalize, population_variance


@keras.saving.register_keras_serializable(package="metazoo")
class BatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization`, with one fused op instead of seven while training.

    Keras 3 normalizes a training batch with separate moment, subtract, scale and shift
    ops; on the CPU those small ops are most of a Conv-4 training step. This layer computes
    the same thing with TensorFlow's fused kernel: the same outputs, the same gradients,
    and the same moving averages (moving = momentum * moving + (1 - momentum) * batch, with
    the batch's population variance, as Keras keeps them). It keeps Keras' class name and
    weights, so a `.weights.h5` file saved with either layer loads into the other (Keras
    names a weight file's entries after the layer class). Inference, export and
    every case the kernel does not take (masks, float64, renorm, no scale or center, axis
    other than the last, other backends) run Keras' own code.

    Reference:
        Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by
        Reducing Internal Covariate Shift", ICML 2015.
    """

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable and mask is None and self._takes_fused(inputs)):
            return super().call(inputs, training=training, mask=mask)
        outputs, mean, variance = fused_batch_normalize(inputs, self.gamma, self.beta, self.epsilon)
        variance = population_variance(inputs, variance)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1.0 - self.momentum)
        )
        return outputs

    def _takes_fused(self, inputs):
        return (
            fusable(inputs)
            and self.axis in (-1, len(inputs.shape) - 1)
            and self.scale
            and self.center
            and not self.renorm
            and not self.synchronized
        )
