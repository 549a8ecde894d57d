"""The log-magnitude and sign preprocessing of the meta-learner's inputs (Andrychowicz et al.)."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="metazoo")
class GradientPreprocessing(keras.layers.Layer):
    """x -> (log(|x|) / p, sign(x)) if |x| >= e^-p, else (-1, e^p x), for every element.

    Gradients and losses span many orders of magnitude; this maps each to two numbers of
    order one: the log of its magnitude and its sign, with the magnitude clamped below at
    e^-p, where the sign part becomes e^p x (continuous there). `[...]` -> `[..., 2]`. A
    gradient of 0 gives exactly (-1, 0), and no log of 0 is ever taken (also not in the
    branch `where` discards, so no NaN appears in the forward pass or its derivative).

    Shared by the meta-learners that read gradients: the LSTM meta-learner (p = 10) and Meta
    Networks (p = 7, the `logAndSign(k=7)` of Munkhdalai & Yu's code, which also adds float
    epsilon inside the log: a difference below 1e-4 relative at the threshold).

    Reference:
        Andrychowicz et al., "Learning to Learn by Gradient Descent by Gradient Descent",
        NeurIPS 2016, appendix A; used with p = 10 by Ravi & Larochelle, "Optimization as a
        Model for Few-Shot Learning", ICLR 2017, section 3.4, and with p = 7 by Munkhdalai &
        Yu, "Meta Networks", ICML 2017.

    Args:
        p: the scale p > 0; magnitudes below e^-p are treated linearly.
    """

    def __init__(self, p=10.0, **kwargs):
        super().__init__(**kwargs)
        self.p = float(p)
        if self.p <= 0:
            raise ValueError(f"p must be positive, got {p}")

    def call(self, inputs):
        inputs = ops.convert_to_tensor(inputs, self.compute_dtype)
        threshold = math.exp(-self.p)
        magnitude = ops.abs(inputs)
        large = magnitude >= threshold
        safe = ops.maximum(magnitude, threshold)  # log never sees 0
        log_part = ops.where(large, ops.log(safe) / self.p, -ops.ones_like(inputs))
        sign_part = ops.where(large, ops.sign(inputs), math.exp(self.p) * inputs)
        return ops.stack([log_part, sign_part], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape, 2)

    def get_config(self):
        config = super().get_config()
        config.update(p=self.p)
        return config
