"""The contract every meta-learner follows, whatever its family."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import validation
from zoo.adaptation_cache import AdaptationCache
from zoo.adapted_classifier import SharedForward, build_classifier, copy_layer, structure_key
from zoo.layers.network_copy import NetworkCopy
from zoo.preprocessing import ImagePreprocessing

EPISODE_KEYS = ("support_images", "support_labels", "query_images")


class MetaLearner(keras.Model):
    """Base of all meta-learners: a `keras.Model` from an episode to query logits.

    `call(episode)` takes a dict with `support_images` `[N*K, H, W, C]`, `support_labels` `[N*K]`
    (ints 0..N-1) and `query_images` `[Q, H, W, C]`, optionally with a leading task axis, and
    returns query logits `[Q, N]` (or `[T, Q, N]`). Keras' `train_step` differentiates through
    it, so `compile` and `fit` meta-train: an element of the data set is `(episode,
    query_labels)`. `adapt(support_images, support_labels)` returns a plain `keras.Model` from
    raw images to class probabilities, with the task baked in.

    Subclasses implement `task_logits` (one task, preprocessed images) and `task_head` (the
    layers of the adapted classifier after preprocessing).

    Adaptation is built to take milliseconds: what does not depend on the task is built or
    traced once per learner and reused (`AdaptationCache`): preprocessing and each family's
    adaptation run compiled, the networks in an adapted classifier are `NetworkCopy`s (their
    own variables on a shared structure, instead of a clone of every layer), and classifiers
    of one structure share one compiled forward pass (`AdaptedClassifier`).

    Args:
        image_size: side of the square images the network sees.
        invert: whether preprocessing inverts intensities (Omniglot: black strokes on white;
            natural images are not inverted).
        channels: C, the channels of the images the model takes (1: grayscale, the shipped
            Omniglot presets; 3: RGB). Every image of an episode or support set must have C.
    """

    def __init__(self, image_size=28, invert=True, channels=1, **kwargs):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        self.invert = bool(invert)
        self.channels = int(channels)
        if self.channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        self.preprocessing = ImagePreprocessing(
            image_size, invert, self.channels, name="preprocessing"
        )
        self.adaptation_cache = AdaptationCache()

    # -- the episode contract ------------------------------------------------------------------
    @property
    def episode_keys(self):
        """The keys of an episode: support inputs, support targets, query inputs."""
        return EPISODE_KEYS

    @property
    def task_rank(self):
        """The rank of one task's support inputs (4 for images `[n, H, W, C]`)."""
        return 4

    def call(self, episode, training=False):
        support_images, support_labels, query_images = (episode[key] for key in self.episode_keys)
        if len(support_images.shape) == self.task_rank:
            return self._task_call(support_images, support_labels, query_images, training)
        tasks = support_images.shape[0]
        if tasks is None:
            raise ValueError(
                "a meta-batch needs a static number of tasks: batch the episode data set with "
                "drop_remainder=True"
            )
        return ops.stack(
            [
                self._task_call(support_images[t], support_labels[t], query_images[t], training)
                for t in range(tasks)
            ]
        )

    def _task_call(self, support_images, support_labels, query_images, training):
        self.check_channels(support_images, query_images)
        support_labels = ops.cast(support_labels, "int32")
        return self.task_logits(
            self.preprocessing(support_images),
            support_labels,
            self.preprocessing(query_images),
            training=training,
        )

    def check_channels(self, support_images, query_images):
        """Fails (`EpisodeError`) when an episode's images do not have the model's channels."""
        validation.check_channels("support_images", support_images.shape[-1], self.channels)
        validation.check_channels("query_images", query_images.shape[-1], self.channels)

    def task_logits(self, support, support_labels, queries, training=False):
        """Query logits `[Q, N]` for one task of preprocessed images."""
        raise NotImplementedError

    # -- adaptation ----------------------------------------------------------------------------
    def adapt(self, support_images, support_labels):
        """Adapts the meta-learner to one few-shot task.

        Args:
            support_images: raw images `[N*K, H, W, C]`, values 0..255.
            support_labels: ints `[N*K]` in 0..N-1, every class present.

        Returns:
            A `keras.Model` from raw images `[n, H, W, C]` to probabilities `[n, N]`, holding
            everything the task needs; it can be fine-tuned with `fit` and exported.
        """
        images, labels = validation.check_support_set(
            support_images, support_labels, self.fixed_ways, self.channels
        )
        preprocess = self.compiled_function("preprocessing", self.preprocessing)
        head = self.task_head(preprocess(images), ops.convert_to_tensor(labels))
        return self.classifier(head)

    def compiled_function(self, key, function):
        """`function` under `tf.function`, made once per learner and `key` and then reused.

        It is traced on first use and again only for new input shapes or dtypes (after the
        second shape, with the varying sizes left unknown). Values `function` reads from the
        learner's variables are read at each call; Python values it reads are fixed at
        tracing, so they belong in `key` (e.g. the number of inner steps).
        """
        return self.adaptation_cache.function(key, function)

    def network_copy(self, network, values=None, transform=None):
        """A `NetworkCopy` of one of the learner's networks, for an adapted classifier.

        Args:
            network: a network of the learner (e.g. its backbone).
            values: the copy's weights, aligned with `network.weights` (or with the weights
                of `transform(network)`); by default the network's current values.
            transform: copies `transform(network)` instead (e.g. `keeping_statistics`),
                made once per learner.
        """
        if values is None:
            values = [weight.value for weight in network.weights]
        structure = self.adaptation_cache.network(network, transform)
        return NetworkCopy(structure, values, name=network.name)

    @property
    def fixed_ways(self):
        """The number of classes the model is built for, or None if any number works."""
        return None

    def task_head(self, support, support_labels):
        """The layers that map preprocessed images to logits for one adapted task."""
        raise NotImplementedError

    def classifier(self, head_layers, name=None):
        """Wraps adapted layers into a model from raw images to probabilities.

        The model is an `AdaptedClassifier` that runs the forward pass compiled once for all
        classifiers of its structure (the same kinds of head layers with the same configs).
        """
        name = name or f"adapted_{self.name}"
        config = self.preprocessing.get_config()
        key = structure_key(head_layers)
        classifier = build_classifier(config, head_layers, name)

        def template():
            return SharedForward(
                build_classifier(config, [copy_layer(x) for x in head_layers], name)
            )

        try:
            forward = self.adaptation_cache.forward(key, template)
        except ValueError:  # state outside the classifier's variables: no shared pass
            forward = None
        return classifier.share_forward(forward)

    def transductive_predictor(self):
        """A function from episodes to query logits normalized with each episode's statistics.

        Several papers' code normalizes with the batch statistics of the test episode at test
        time (Relation Network, MAML): a query's logits then depend on the other queries.
        This is that setting, for comparing with their numbers; `call` with `training=False`
        is not transductive for learners that keep running statistics. The default runs a
        copy of the learner in training mode, so the learner's own moving averages are left
        as they are.
        """
        copy = type(self).from_config(self.get_config()).build_for_episode(self.fixed_ways or 2)
        copy.set_weights(self.get_weights())
        return lambda episode: copy(episode, training=True)

    # -- Keras plumbing --------------------------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Like `keras.Model.compile`, with cross-entropy on logits and accuracy as defaults."""
        if loss is None:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics is None:
            metrics = ["accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def train_step(self, data):
        """Keras' train step, with the loss of a meta-batch taken task by task.

        Keras computes the compiled loss on `call`'s output, the logits of all T tasks stacked
        into one `[T, Q, N]` tensor, so every task's backward pass waits for all T forward
        passes and the activations and inner-gradient graphs of all tasks are alive at once.
        Here each task's loss is taken on its own logits and the losses are averaged: for a
        mean-reduced loss (the default cross-entropy) with Q queries in every task this is the
        mean over all T * Q queries, the same loss and the same meta-gradient, but each task's
        backward pass can run, and free its memory, as soon as its forward pass ends. For a
        second-order step of 32 5-way 1-shot tasks this cuts peak tensor memory from about 490
        to 46 MiB and makes it about 7% faster, on par with a hand-written graph (see
        `benchmarks/`). Anything else (one episode, sample weights, other losses, several
        replicas) goes through Keras' train step unchanged.
        """
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if not self._loss_per_task(x, y, sample_weight):
            return _mean_across_workers(super().train_step(data))
        support_images, support_labels, query_images = (x[key] for key in EPISODE_KEYS)
        tasks = support_images.shape[0]
        with tf.GradientTape() as tape:
            logits = [
                self._task_call(support_images[t], support_labels[t], query_images[t], True)
                for t in range(tasks)
            ]
            losses = [self.compute_loss(x, y[t], logits[t], training=True) for t in range(tasks)]
            loss = tf.add_n(losses) / tasks
            scaled_loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights, strict=True))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=tasks)
        return self.compute_metrics(x, y, ops.stack(logits), sample_weight=None)

    def _loss_per_task(self, x, y, sample_weight):
        """Whether `train_step` may average per-task losses (see there)."""
        if y is None or not isinstance(x, dict) or any(key not in x for key in EPISODE_KEYS):
            return False
        shape = x["support_images"].shape
        return (
            len(shape) == 5
            and shape[0] is not None
            and sample_weight is None
            and getattr(getattr(self, "loss", None), "reduction", None) == "sum_over_batch_size"
            and tf.distribute.get_strategy().num_replicas_in_sync == 1
        )

    def compile_from_config(self, config):
        """Compiles a learner loaded from a `.keras` file, optimizer state included.

        Keras does not do it itself for a model whose `compile` is overridden (it only warns),
        so without this a loaded checkpoint would come back with no optimizer.
        """
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fit(self, x=None, *args, **kwargs):
        """Like `keras.Model.fit`, refusing episodes a distribution strategy would cut apart."""
        strategy = getattr(self, "distribute_strategy", None)
        replicas = strategy.num_replicas_in_sync if strategy is not None else 1
        validation.check_replica_split(x, replicas)
        # Keras keeps one traced train function and relaxes its input shapes when the data
        # changes; single episodes after meta-batches (or the reverse) would relax them to an
        # unknown rank, which `call` cannot split into tasks: trace afresh instead.
        rank = validation.episode_rank(x)
        if rank is not None and rank != getattr(self, "_episode_rank", rank):
            self.train_function = None
        self._episode_rank = rank
        return super().fit(x, *args, **kwargs)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras' build of metrics and optimizer before `fit`, from one replica's first batch.

        Under a strategy Keras builds them from the first batch reduced across replicas with
        `strategy.reduce("MEAN", batch)`, which takes one tensor: a `MultiWorkerMirroredStrategy`
        refuses an episode's dict. One replica's part has the shapes a replica trains on, and
        taking it needs no collective operation.
        """
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is None or iterator is None:
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:
            data_batch = tf.nest.map_structure(
                lambda value: (
                    strategy.experimental_local_results(value)[0]
                    if isinstance(value, tf.distribute.DistributedValues)
                    else value
                ),
                next(batches),
            )
            break
        return super()._maybe_symbolic_build(data_batch=data_batch)

    def build_for_episode(self, ways, shots=1, queries=1, image_size=None):
        """Creates the weights by running one all-zero episode of the given shape."""
        side = image_size or self.image_size
        episode = {
            "support_images": np.zeros((ways * shots, side, side, self.channels), "float32"),
            "support_labels": np.repeat(np.arange(ways), shots).astype("int32"),
            "query_images": np.zeros((ways * queries, side, side, self.channels), "float32"),
        }
        self(episode, training=False)
        return self

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "image_size": self.image_size,
            "invert": self.invert,
            "channels": self.channels,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_preset(cls, name):
        """Loads a shipped preset by name, checking it is an instance of this class."""
        from zoo.presets import load_preset

        learner = load_preset(name)
        if not isinstance(learner, cls):
            raise ValueError(f"preset {name!r} is a {type(learner).__name__}, not a {cls.__name__}")
        return learner


def _mean_across_workers(logs):
    """A train step's logs, shaped for Keras to average them across several workers.

    Under a `MultiWorkerMirroredStrategy` on several workers Keras 3 averages each replica's
    logs with `strategy.reduce("MEAN", value, axis=0)`, which needs an axis: a metric is a
    scalar. As `[1]` vectors their mean along that axis is the mean over the replicas, each
    of which covers its own equal share of the meta-batch: the meta-batch's value.
    """
    strategy = tf.distribute.get_strategy()
    in_cluster = getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or not in_cluster:
        return logs
    return {name: ops.reshape(value, [1]) for name, value in logs.items()}
