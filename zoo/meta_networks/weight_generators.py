"""The meta learner's weight-generating functions d and m: gradients in, fast weights out."""

import keras
from keras import ops

from zoo.layers.gradient_preprocessing import GradientPreprocessing


@keras.saving.register_keras_serializable(package="metazoo")
class TaskWeightGenerator(keras.layers.Layer):
    """d: task-level fast weights from the gradients of T chunks of the support set.

    Coordinate-wise: each of the P parameters is a batch element of one LSTM, whose input at
    step t is the chunk t gradient of that parameter, log/sign preprocessed
    (`GradientPreprocessing`, k = 7); a linear layer maps the LSTM's last output to the fast
    weight: `[T, P]` -> `[P]`. (The paper writes d as an LSTM over the gradients of T
    examples; the authors' code: LSTM(2 -> 20), Linear(20 -> 1), over IT = 5 chunks.)

    Reference:
        Munkhdalai & Yu, "Meta Networks", ICML 2017, section 3.1, eq. 3 and Algorithm 1.

    Args:
        units: LSTM units (20).
        preprocessing_k: the k of the log/sign preprocessing (7).
    """

    def __init__(self, units=20, preprocessing_k=7.0, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.preprocessing_k = float(preprocessing_k)
        self.preprocess = GradientPreprocessing(self.preprocessing_k, name="log_and_sign")
        self.lstm = keras.layers.LSTM(self.units, name="lstm")
        self.output_layer = keras.layers.Dense(1, kernel_initializer="lecun_normal", name="output")
        self.lstm.build((None, None, 2))
        self.output_layer.build((None, self.units))
        self.built = True

    def call(self, gradients):
        sequences = self.preprocess(ops.transpose(gradients))  # [P, T, 2]
        return self.output_layer(self.lstm(sequences))[:, 0]

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, preprocessing_k=self.preprocessing_k)
        return config


@keras.saving.register_keras_serializable(package="metazoo")
class ExampleWeightGenerator(keras.layers.Layer):
    """m: example-level fast weights W*_i from the gradient of support example i alone.

    Coordinate-wise: every parameter of every example goes through the same MLP
    2 -> 20 -> 20 -> 1 (ReLU, ReLU, linear) on its log/sign preprocessed gradient (the
    authors' code): `[n, P]` -> `[n, P]`.

    Reference:
        Munkhdalai & Yu, "Meta Networks", ICML 2017, section 3.1, eq. 4 and Algorithm 1.

    Args:
        units: width of the two hidden layers (20).
        preprocessing_k: the k of the log/sign preprocessing (7).
    """

    def __init__(self, units=20, preprocessing_k=7.0, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.preprocessing_k = float(preprocessing_k)
        self.preprocess = GradientPreprocessing(self.preprocessing_k, name="log_and_sign")
        self.hidden = [
            keras.layers.Dense(
                self.units, activation="relu", kernel_initializer="lecun_normal", name=name
            )
            for name in ("hidden_1", "hidden_2")
        ]
        self.output_layer = keras.layers.Dense(1, kernel_initializer="lecun_normal", name="output")
        self.hidden[0].build((None, 2))
        self.hidden[1].build((None, self.units))
        self.output_layer.build((None, self.units))
        self.built = True

    def call(self, gradients):
        outputs = self.preprocess(gradients)  # [n, P, 2]
        for layer in self.hidden:
            outputs = layer(outputs)
        return self.output_layer(outputs)[..., 0]

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, preprocessing_k=self.preprocessing_k)
        return config
