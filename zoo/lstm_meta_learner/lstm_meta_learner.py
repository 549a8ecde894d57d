"""The LSTM meta-learner: a learned optimizer whose cell state is the learner's parameters."""

import keras
import tensorflow as tf
from keras import ops

from zoo.backbones import conv4_backbone
from zoo.gradient_learner import GradientLearner, cross_entropy
from zoo.layers.flat_weights import flatten, unflatten
from zoo.layers.gradient_preprocessing import GradientPreprocessing
from zoo.lstm_meta_learner.coordinate_lstm import CoordinateLSTM
from zoo.lstm_meta_learner.meta_lstm_cell import MetaLSTMCell


@keras.saving.register_keras_serializable(package="metazoo")
class LSTMMetaLearner(GradientLearner):
    """Meta-learns an optimizer, a coordinate-wise LSTM, that trains a classifier in T steps.

    The learner is a Conv-4 classifier (3x3 convolutions, batch normalization with the
    batch's statistics, ReLU, 2x2 max-pooling; a linear layer over N ways) run on fast
    weights as in `GradientLearner`. Its T updates on the support set come from the
    meta-learner, for every parameter separately with shared weights: at step t, with the
    support loss L_t and gradient grad_t at theta_{t-1},

        h_t = LSTM([L~_t, grad~_t], h_{t-1})          (~: `GradientPreprocessing`, p = 10)
        f_t = sigmoid(W_F . [h_t, theta_{t-1}, f_{t-1}] + b_F)
        i_t = sigmoid(W_I . [h_t, theta_{t-1}, i_{t-1}] + b_I)
        theta_t = f_t * theta_{t-1} - i_t * grad_t     (`MetaLSTMCell`)

    from theta_0 = c_0, the network's own variables: the meta-learned initialization. The
    query loss at theta_T is the meta-loss (`MetaLearner.train_step`); as in the paper
    (section 3.2) the learner's losses and gradients are inputs without a gradient of their
    own (the meta-gradient flows through theta_{t-1} and the gates, not through grad_t), so
    `first_order` is always True. grad_t is the gradient of the support set's mean
    cross-entropy (the authors' code divides it once more by the batch size, a scale the
    input gate absorbs). Each update takes the whole support set as one batch: the
    paper's 1-shot setting (12 steps of batches of 5, the whole 5-way 1-shot support set) and
    the default of `inner_steps` here. `adapt` runs the `eval_inner_steps` updates and returns
    the network holding theta_T (`GradientLearner.task_head`).

    Reference:
        Ravi & Larochelle, "Optimization as a Model for Few-Shot Learning", ICLR 2017.

    Args:
        ways: the number of classes N of the output layer.
        filters: channels of each Conv-4 block (the paper's 32).
        blocks: number of Conv-4 blocks.
        hidden_units: the hidden size of the first LSTM layer (the paper's 20).
        preprocessing_p: p of the loss and gradient preprocessing (the paper's 10).
        inner_steps: meta-learner updates T on the support set during meta-training.
        **kwargs: `eval_inner_steps`, `image_size`, `invert` and `keras.Model` arguments.
            `first_order` must be True (the paper's); `inner_learning_rate` is not used (the
            input gate i_t is the step size) and only kept in the config of the base.
    """

    def __init__(
        self,
        ways=5,
        filters=32,
        blocks=4,
        hidden_units=20,
        preprocessing_p=10.0,
        inner_steps=12,
        **kwargs,
    ):
        if not kwargs.setdefault("first_order", True):
            raise ValueError(
                "the LSTM meta-learner takes the learner's gradients as constants (Ravi & "
                "Larochelle, section 3.2): first_order must be True"
            )
        super().__init__(inner_steps=inner_steps, **kwargs)
        self.ways = int(ways)
        self.filters = int(filters)
        self.blocks = int(blocks)
        self.hidden_units = int(hidden_units)
        self.preprocessing_p = float(preprocessing_p)
        backbone = conv4_backbone(
            filters,
            blocks,
            downsampling="max_pool",
            normalization="batch_statistics",
            image_size=self.image_size,
            name="features",
            channels=self.channels,
        )
        self.network = keras.Sequential(
            [backbone, keras.layers.Dense(self.ways, name="classifier")], name="network"
        )
        self.gradient_preprocessing = GradientPreprocessing(
            self.preprocessing_p, name="gradient_preprocessing"
        )
        self.coordinate_lstm = CoordinateLSTM(self.hidden_units, name="coordinate_lstm")
        self.coordinate_lstm.build((None, 4))
        self.meta_lstm = MetaLSTMCell(name="meta_lstm")
        self.meta_lstm.build((None, self.hidden_units))

    @property
    def fixed_ways(self):
        return self.ways

    def inner_loop(self, weights, images, labels, steps):
        """T = `steps` meta-learner updates of the learner's parameters from `weights`.

        Returns:
            theta_T, a list of tensors aligned with `network.trainable_variables`.
        """
        shapes = [tuple(weight.shape) for weight in weights]
        parameters = flatten(weights)
        count, dtype = parameters.shape[0], parameters.dtype
        lstm_state = self.coordinate_lstm.initial_state(count, dtype)
        forget, update = self.meta_lstm.initial_gates(count, dtype)
        for _ in range(steps):
            loss, gradient = self.support_loss_and_gradient(parameters, shapes, images, labels)
            loss_features = ops.broadcast_to(self.gradient_preprocessing(loss), (count, 2))
            features = ops.concatenate(
                [loss_features, self.gradient_preprocessing(gradient)], axis=1
            )
            hidden, lstm_state = self.coordinate_lstm(features, lstm_state)
            parameters, forget, update = self.meta_lstm(
                hidden, gradient, (parameters, forget, update)
            )
        return unflatten(parameters, shapes)

    def support_loss_and_gradient(self, parameters, shapes, images, labels):
        """L_t and grad_t `[P]` of the support set at the flat `parameters`, as constants."""
        weights = unflatten(tf.stop_gradient(parameters), shapes)
        with tf.GradientTape() as tape:
            tape.watch(weights)
            loss = cross_entropy(labels, self.functional_call(weights, images, training=True))
        gradients = tape.gradient(loss, weights)
        gradient = flatten(gradients)
        return tf.stop_gradient(loss), tf.stop_gradient(gradient)

    def get_config(self):
        config = super().get_config()
        config.update(
            ways=self.ways,
            filters=self.filters,
            blocks=self.blocks,
            hidden_units=self.hidden_units,
            preprocessing_p=self.preprocessing_p,
        )
        return config
