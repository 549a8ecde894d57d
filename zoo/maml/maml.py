"""Model-Agnostic Meta-Learning."""

import keras

from zoo.backbones import sinusoid_mlp, stride_conv4_classifier
from zoo.gradient_learner import GradientLearner


@keras.saving.register_keras_serializable(package="metazoo")
class MAML(GradientLearner):
    """Meta-learns an initialization theta that one or a few gradient steps adapt to a task.

    theta'_i = theta - alpha * grad L_{T_i}(f_theta) on the support set; the meta-update
    minimizes sum_i L_{T_i}(f_{theta'_i}) on the queries, differentiating through the inner
    steps (second order) unless `first_order=True`. The network is Finn et al.'s Omniglot
    Conv-4: stride-2 convolutions, no max-pooling, batch normalization with the current
    batch's statistics, then a linear layer over N ways. At test time each query is
    normalized with the support set's statistics, on its own; `transductive=True` normalizes
    the queries with their own batch's, as the paper does. With `network="sinusoid"` it
    regresses: the paper's 40-40 ReLU MLP on sinusoid tasks, MSE loss (section 5.1; see
    `GradientLearner` for the regression episode).

    Reference:
        Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
        Networks", ICML 2017.

    Args:
        ways: the number of classes N of the output layer (unused for regression).
        filters: channels of each Conv-4 block.
        blocks: number of Conv-4 blocks.
        **kwargs: `inner_steps`, `eval_inner_steps`, `inner_learning_rate`, `first_order`,
            `network` (`"conv4"` or `"sinusoid"`), `image_size`, `invert` and `keras.Model`
            arguments.
    """

    def __init__(self, ways=5, filters=64, blocks=4, **kwargs):
        super().__init__(**kwargs)
        self.ways = int(ways)
        self.filters = int(filters)
        self.blocks = int(blocks)
        if self.regression:
            self.network = sinusoid_mlp()
        else:
            self.network = stride_conv4_classifier(
                self.ways, filters, blocks, image_size=self.image_size, channels=self.channels
            )

    @property
    def fixed_ways(self):
        return self.ways

    def get_config(self):
        config = super().get_config()
        config.update(ways=self.ways, filters=self.filters, blocks=self.blocks)
        return config
