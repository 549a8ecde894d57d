"""Reptile: move the initialization toward the weights that training on each task reaches."""

import keras
import tensorflow as tf
from keras import ops

from zoo.backbones import sinusoid_mlp, stride_conv4_classifier
from zoo.gradient_learner import GradientLearner

BETA_2 = 0.999
"""Decay of the inner Adam's second moment (TensorFlow's default, as in Nichol et al.'s code)."""

EPSILON = 1e-8
"""The inner Adam's epsilon, added to sqrt(v) (`tf.train.AdamOptimizer`'s default there)."""

EVALUATION_SEED = (0, 0)
"""Seed of the minibatch order when adapting: the same support set gives the same classifier."""


def minibatch_indices(size, batch_size, steps, seed):
    """Positions in a set of `size` examples of the examples of `steps` minibatches.

    The order of Nichol et al.'s `_mini_batches`: the set is shuffled, cut into consecutive
    batches of `batch_size`, shuffled again when it runs out, and a batch may straddle two
    passes (so it holds an example twice only when `batch_size > size`).

    Args:
        size: the number of examples (an int or a scalar tensor).
        batch_size: examples per minibatch.
        steps: the number of minibatches.
        seed: a stateless seed, shape `[2]`: the same seed gives the same order.

    Returns:
        int32 `[steps, batch_size]`.
    """
    size = tf.cast(size, "int32")
    needed = steps * batch_size
    passes = (needed + size - 1) // size
    order = tf.argsort(tf.random.stateless_uniform(tf.stack([passes, size]), seed), axis=1)
    return tf.reshape(tf.reshape(order, [-1])[:needed], [steps, batch_size])


@keras.saving.register_keras_serializable(package="metazoo")
class Reptile(GradientLearner):
    """Meta-learns an initialization theta by moving it toward each task's trained weights.

    For each task T_i of a meta-batch, phi_i = theta after k steps of Adam (beta1 = 0) on
    minibatches of the task's support set; then theta <- theta + epsilon * mean_i(phi_i -
    theta). Nothing is differentiated through the inner loop: `train_step` hands the
    optimizer the pseudo-gradient theta - mean_i(phi_i), so SGD with learning rate epsilon is
    Reptile's update, and `Reptile.outer_optimizer(total_steps)` anneals epsilon linearly from
    1 to 0 as the paper does:

        learner.compile(optimizer=zoo.Reptile.outer_optimizer(100_000))
        learner.fit(meta_batches_of_episodes, ...)

    Under `tf.distribute` each replica's pseudo-gradient is divided by the number of replicas,
    as Keras does with losses, since the optimizer sums gradients over replicas. The loss and
    accuracy that `fit` reports are those of the queries under phi_i (the support set alone
    trains phi_i, and no gradient flows from the queries).

    The inner Adam keeps its state (second moments v and step count t) across meta-steps, as
    in Nichol et al.'s code, as non-trainable weights of the learner: every task of a
    meta-batch starts from the stored state, and the state carried on is the mean over the
    tasks (and replicas) of their final states, t advancing by k. Adaptation at test time
    starts from the stored state and leaves it unchanged, as the reference restores it after
    each evaluation task. Minibatches follow the reference's order (`minibatch_indices`),
    drawn with a seed made of the optimizer step and the task's index in the meta-batch;
    adaptation uses a fixed seed, so adapting twice to one support set gives one classifier.

    The network is Finn et al.'s stride-2 Conv-4 with batch-statistics normalization and a
    linear layer over N ways (`stride_conv4_classifier`, as MAML's), with no convolution
    biases: normalization cancels them, so their gradient is zero up to rounding, which Adam
    would scale up into steps of the learning rate's size (the reference code keeps them, to
    no effect on any output). With `network="sinusoid"` it regresses with the 40-40 ReLU MLP
    and the mean squared error as inner loss (see `GradientLearner`).

    Reference:
        Nichol, Achiam & Schulman, "On First-Order Meta-Learning Algorithms", arXiv
        1803.02999, 2018.

    Args:
        ways: the number of classes N of the output layer.
        filters: channels of each Conv-4 block.
        blocks: number of Conv-4 blocks.
        inner_steps: Adam steps k per task while meta-training.
        eval_inner_steps: Adam steps when adapting (the paper's 50).
        inner_learning_rate: the inner Adam's learning rate.
        inner_batch_size: support examples per inner step while meta-training (None: the
            whole support set).
        eval_inner_batch_size: support examples per step when adapting (None: the whole
            support set).
        **kwargs: `network` (`"conv4"` or `"sinusoid"`), `image_size`, `invert` and
            `keras.Model` arguments (and GradientLearner's
            `first_order`, which changes nothing here: no gradient goes through the inner
            loop anyway).
    """

    def __init__(
        self,
        ways=5,
        filters=64,
        blocks=4,
        inner_steps=5,
        eval_inner_steps=50,
        inner_learning_rate=1e-3,
        inner_batch_size=10,
        eval_inner_batch_size=5,
        **kwargs,
    ):
        super().__init__(
            inner_steps=inner_steps,
            eval_inner_steps=eval_inner_steps,
            inner_learning_rate=inner_learning_rate,
            **kwargs,
        )
        self.ways = int(ways)
        self.filters = int(filters)
        self.blocks = int(blocks)
        self.inner_batch_size = None if inner_batch_size is None else int(inner_batch_size)
        self.eval_inner_batch_size = (
            None if eval_inner_batch_size is None else int(eval_inner_batch_size)
        )
        if self.regression:
            self.network = sinusoid_mlp()
        else:
            self.network = stride_conv4_classifier(
                self.ways,
                filters,
                blocks,
                image_size=self.image_size,
                conv_bias=False,
                channels=self.channels,
            )
        # The inner Adam's state, kept across meta-steps; "mean": replicas average theirs.
        self.inner_velocity = [
            self.add_weight(
                shape=variable.shape,
                initializer="zeros",
                trainable=False,
                aggregation="mean",
                name=f"inner_velocity_{index}",
            )
            for index, variable in enumerate(self.network.trainable_variables)
        ]
        self.inner_iterations = self.add_weight(
            shape=(),
            initializer="zeros",
            trainable=False,
            aggregation="mean",
            name="inner_iterations",
        )

    @property
    def fixed_ways(self):
        return self.ways

    @staticmethod
    def outer_optimizer(total_steps, epsilon=1.0):
        """SGD whose rate, the outer step size epsilon, falls linearly to 0 over `total_steps`.

        Meta-step i (from 0) moves theta by epsilon * (1 - i / total_steps) of the way to the
        tasks' mean phi, as in Nichol et al.'s code; after `total_steps` the rate stays 0.
        """
        return keras.optimizers.SGD(
            keras.optimizers.schedules.PolynomialDecay(float(epsilon), int(total_steps), 0.0)
        )

    # -- the inner loop ----------------------------------------------------------------------
    def adam_steps(self, weights, velocity, iterations, images, labels, steps, batch_size, seed):
        """Takes `steps` steps of Adam with beta1 = 0 on minibatches of `images`.

        With g the gradient of the minibatch's loss (`inner_loss`) at the fast weights w, and t the
        step count after `iterations` earlier steps:

            v <- beta2 * v + (1 - beta2) * g^2
            w <- w - lr * sqrt(1 - beta2^t) * g / (sqrt(v) + epsilon)

        (Adam's first moment is g itself when beta1 = 0, and its bias correction is 1.)

        Args:
            weights: fast weights, tensors aligned with `network.trainable_variables`.
            velocity: Adam's second moments, aligned with `weights`.
            iterations: the number of Adam steps taken before (a scalar).
            images: preprocessed support images `[n, H, W, C]` (or regression inputs `[n, 1]`).
            labels: their int labels `[n]` (or regression targets `[n, 1]`).
            steps: the number of steps (a Python int).
            batch_size: examples per step, or None for all of them.
            seed: the stateless seed of the minibatch order, shape `[2]`.

        Returns:
            `(weights, velocity)` after the steps.
        """
        dtype = weights[0].dtype
        # tf.constant, not ops.cast: a Python float would pass through float32 first.
        rate = tf.constant(self.inner_learning_rate, dtype)
        beta_2 = tf.constant(BETA_2, dtype)
        iterations = ops.cast(iterations, dtype)
        if batch_size is not None:
            batches = minibatch_indices(tf.shape(images)[0], batch_size, steps, seed)

        def step(index, weights, velocity):
            if batch_size is None:
                batch_images, batch_labels = images, labels
            else:
                batch_images = tf.gather(images, batches[index])
                batch_labels = tf.gather(labels, batches[index])
            with tf.GradientTape() as tape:
                tape.watch(weights)
                logits = self.functional_call(weights, batch_images, training=True)
                loss = self.inner_loss(batch_labels, logits)
            gradients = tape.gradient(loss, weights)
            t = iterations + ops.cast(index + 1, dtype)
            corrected = rate * ops.sqrt(1.0 - ops.power(beta_2, t))
            velocity = [
                beta_2 * v + (1.0 - beta_2) * ops.square(g)
                for v, g in zip(velocity, gradients, strict=True)
            ]
            weights = [
                w - corrected * g / (ops.sqrt(v) + EPSILON)
                for w, g, v in zip(weights, gradients, velocity, strict=True)
            ]
            return index + 1, weights, velocity

        _, weights, velocity = tf.while_loop(
            lambda index, *_: index < steps, step, (tf.constant(0), list(weights), list(velocity))
        )
        return weights, velocity

    def inner_loop(self, weights, images, labels, steps):
        """Adapts: `steps` Adam steps (beta1 = 0) on minibatches of `eval_inner_batch_size`.

        Starts from the stored inner Adam state and leaves it unchanged. GradientLearner's
        `task_logits` and `task_head` run it (`call` and `adapt`); `call` with
        `training=True` takes `inner_steps` steps, on minibatches of the same size (meta-
        training itself runs in `train_step`, with `inner_batch_size`).

        Returns:
            The fast weights, a list of tensors aligned with `network.trainable_variables`.
        """
        weights, _ = self.adam_steps(
            weights,
            self.stored_velocity(),
            self.inner_iterations.value,
            images,
            labels,
            steps,
            self.eval_inner_batch_size,
            tf.constant(EVALUATION_SEED, "int64"),
        )
        return weights

    def stored_velocity(self):
        """The inner Adam's stored second moments, as tensors."""
        return [tf.identity(variable.value) for variable in self.inner_velocity]

    # -- meta-training -----------------------------------------------------------------------
    def train_step(self, data):
        """One Reptile meta-step on a meta-batch of tasks (or on one episode).

        theta <- theta - optimizer_rate * (theta - mean_i phi_i); the query loss and metrics
        under each task's phi_i are reported.
        """
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        keys = self.episode_keys
        support_images, support_labels, query_images = (x[key] for key in keys)
        if len(support_images.shape) == self.task_rank:  # one episode: a meta-batch of one task
            support_images, support_labels, query_images, y = (
                value[None] for value in (support_images, support_labels, query_images, y)
            )
            x = dict(zip(keys, (support_images, support_labels, query_images), strict=True))
        tasks = support_images.shape[0]
        if tasks is None:
            raise ValueError(
                "a meta-batch needs a static number of tasks: batch the episode data set with "
                "drop_remainder=True"
            )
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync
        first_task = ops.cast(context.replica_id_in_sync_group, "int64") * tasks
        step = ops.cast(self.optimizer.iterations, "int64")

        theta = self.initial_weights()
        velocity, iterations = self.stored_velocity(), tf.identity(self.inner_iterations.value)
        fast, velocities, logits = [], [], []
        for task in range(tasks):
            support = self.prepare(support_images[task])
            labels = self.prepare_targets(support_labels[task])
            seed = ops.stack([step, first_task + task])
            phi, task_velocity = self.adam_steps(
                theta,
                velocity,
                iterations,
                support,
                labels,
                self.inner_steps,
                self.inner_batch_size,
                seed,
            )
            fast.append(phi)
            velocities.append(task_velocity)
            queries = self.prepare(query_images[task])
            logits.append(self.functional_call(phi, queries, training=True))

        pseudo_gradients = [
            (w - tf.add_n(list(phis)) / tasks) / replicas
            for w, phis in zip(theta, zip(*fast, strict=True), strict=True)
        ]
        self.optimizer.apply_gradients(
            zip(pseudo_gradients, self.network.trainable_variables, strict=True)
        )
        for variable, values in zip(
            self.inner_velocity, zip(*velocities, strict=True), strict=True
        ):
            variable.assign(tf.add_n(list(values)) / tasks)
        self.inner_iterations.assign(iterations + self.inner_steps)

        logits = ops.stack(logits)
        loss = self.compute_loss(x, y, logits, sample_weight, training=True)
        for metric in self.metrics:
            if metric.name == "loss":  # compute_loss divides by the replicas: undo it
                metric.update_state(loss * replicas, sample_weight=tasks)
        return self.compute_metrics(x, y, logits, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(
            ways=self.ways,
            filters=self.filters,
            blocks=self.blocks,
            inner_batch_size=self.inner_batch_size,
            eval_inner_batch_size=self.eval_inner_batch_size,
        )
        return config
