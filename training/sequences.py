"""The protocol of Santoro et al. (2016): episodes as labelled sequences, accuracy per instance.

An episode draws C classes and I instances of each, shuffles the C * I images into one
sequence and labels the classes 0..C-1 in the random order they were drawn (a new
class-to-label assignment for every episode). A MANN sees each label one step after its
image and is scored at every step; its accuracy is reported per instance: over the 1st
presentations of a class, the 2nd, ..., the I-th (the paper's Table 1 and Figure).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from training.charts import line_chart
from training.episodes import rotate
from training.evaluate import confidence_interval
from zoo.mann.string_labels import STRINGS, check_labels


class SequenceSampler:
    """Samples the paper's episodes: `classes` x `instances` images in a shuffled sequence.

    Episode `i` of seed `s` depends only on `(s, i)`, as in `EpisodeSampler`.

    Args:
        images: `[characters, examples, S, S]` raw pixel values.
        rows: character row of each class.
        turns: quarter turns of each class (rotations as classes of their own).
        classes: classes per episode C (5 or 15 in the paper).
        instances: instances per class I (10 in the paper).
        seed: integer seed.
        perturb: None, or `{"degrees": D, "shift": F}`: every image of an episode rotated by
            an angle drawn uniformly from [-D, D] degrees and shifted by up to F times its
            side along each axis (`perturb_images`), the training augmentation of the
            reference implementations.
        labels: `"one_hot"`: the classes labelled 0..C-1 in the random order they were drawn;
            `"strings"`: labelled by C distinct string ids drawn from the 3125 of
            `zoo.mann.string_labels` (the paper's 15-class experiments).
    """

    def __init__(
        self,
        images,
        rows,
        turns,
        classes=5,
        instances=10,
        seed=0,
        perturb=None,
        labels="one_hot",
    ):
        check_labels(labels)
        if labels == "strings" and classes > STRINGS:
            raise ValueError(f"{classes} classes per episode, there are {STRINGS} strings")
        if classes > len(rows):
            raise ValueError(f"{classes} classes per episode, the split has {len(rows)}")
        if instances > images.shape[1]:
            raise ValueError(f"{instances} instances exceed the {images.shape[1]} per class")
        self.images = tf.constant(np.asarray(images, "float32"))
        self.rows = tf.constant(rows, tf.int32)
        self.turns = tf.constant(turns, tf.int32)
        self.classes, self.instances, self.seed = int(classes), int(instances), int(seed)
        if perturb is not None and (
            set(perturb) != {"degrees", "shift"} or min(perturb.values()) < 0
        ):
            raise ValueError(
                f"perturb must be {{'degrees': D, 'shift': F}}, D, F >= 0; got {perturb}"
            )
        self.perturb = perturb
        self.labels = labels

    def episode(self, index):
        """Episode `index`: `({"images": [T, S, S, 1], "labels": [T]}, labels)`, T = C * I."""
        c, n = self.classes, self.instances
        seed = tf.stack([tf.cast(self.seed, tf.int64), tf.cast(index, tf.int64)])
        keys = tf.random.experimental.stateless_split(seed, 3)
        picked = tf.argsort(tf.random.stateless_uniform([tf.shape(self.rows)[0]], keys[0]))[:c]
        examples = tf.argsort(
            tf.random.stateless_uniform([c, tf.shape(self.images)[1]], keys[1]), axis=1
        )[:, :n]
        images = tf.gather(
            tf.gather(self.images, tf.gather(self.rows, picked)), examples, batch_dims=1
        )
        images = rotate(images, tf.gather(self.turns, picked))
        side = tf.shape(images)[2]
        order = tf.argsort(tf.random.stateless_uniform([c * n], keys[2]))
        images = tf.gather(tf.reshape(images, [c * n, side, side, 1]), order)
        if self.perturb:
            key = tf.random.experimental.stateless_fold_in(keys[2], 1)  # keys[:3] unchanged
            images = perturb_images(images, key, **self.perturb)
        names = tf.range(c, dtype=tf.int32)
        if self.labels == "strings":
            key = tf.random.experimental.stateless_fold_in(keys[2], 2)  # keys[:3] unchanged
            names = tf.argsort(tf.random.stateless_uniform([STRINGS], key))[:c]
        labels = tf.gather(tf.repeat(names, n), order)
        return {"images": images, "labels": labels}, labels

    def dataset(self, episodes=None, batch=16, start=0):
        """Batches of `batch` episodes `start, start+1, ...` (endless when `episodes` is None)."""
        end = start + episodes if episodes else 2**62
        data = tf.data.Dataset.range(start, end).map(
            self.episode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )
        return data.batch(batch, drop_remainder=bool(episodes is None)).prefetch(2)


def perturb_images(images, seed, degrees, shift):
    """Rotates each of `[N, S, S, 1]` images about its centre by a uniform random angle in
    [-degrees, degrees] and shifts it by a uniform random offset in [-shift * S, shift * S]
    pixels along each axis; bilinear, the border pixels extended (the background).

    As the reference implementations augment Santoro et al.'s training sequences
    (snowkylin/ntm: rotations of up to 11.25 degrees and shifts of up to 10 of 105 pixels).

    Reference:
        Santoro et al., "Meta-Learning with Memory-Augmented Neural Networks", ICML 2016.
    """
    count = tf.shape(images)[0]
    side = tf.cast(tf.shape(images)[1], tf.float32)
    angle_key, shift_key = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    radians = degrees * math.pi / 180
    theta = tf.random.stateless_uniform([count], angle_key, -radians, radians)
    offset = tf.random.stateless_uniform([count, 2], shift_key, -shift * side, shift * side)
    return rotate_and_shift(images, theta, offset)


def rotate_and_shift(images, theta, offset):
    """Each of `[N, S, S, 1]` images rotated about its centre by `theta[n]` radians
    (counterclockwise as displayed, rows downwards) and moved by `offset[n]` = (dx, dy) pixels
    (right, down); bilinear, the border pixels extended."""
    side = tf.cast(tf.shape(images)[1], tf.float32)
    centre = (side - 1) / 2
    cos, sin = tf.cos(theta), tf.sin(theta)
    # the output pixel p = (x, y) reads the input at R (p - centre - offset) + centre, R the
    # matrix [[cos, -sin], [sin, cos]]: a counterclockwise turn on screen, y pointing down
    dx, dy = offset[:, 0], offset[:, 1]
    transforms = tf.stack(
        [
            cos,
            -sin,
            centre - cos * (centre + dx) + sin * (centre + dy),
            sin,
            cos,
            centre - sin * (centre + dx) - cos * (centre + dy),
            tf.zeros_like(theta),
            tf.zeros_like(theta),
        ],
        axis=1,
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    )


def omniglot_sequences(
    data_dir, split, classes=5, instances=10, seed=0, image_size=20, perturb=None, labels="one_hot"
):
    """A `SequenceSampler` over a split of Omniglot: the Vinyals split files, rotations as
    classes, images area-resized to `image_size` (20, as the reference code), each image
    perturbed by `perturb` and labelled as `labels` says (`SequenceSampler`).

    The paper's own split, augmentation and optimizer are not known (see PAPERS.md); this is
    the protocol of the zoo's other models, so the numbers are comparable with theirs.
    """
    from training.omniglot import load_omniglot
    from training.protocols import resolve_data_dir, split_file

    path = resolve_data_dir(data_dir)
    data = load_omniglot(path, image_size)
    rows, turns = data.classes(split_file(path, split))
    return SequenceSampler(data.images, rows, turns, classes, instances, seed, perturb, labels)


@keras.saving.register_keras_serializable(package="metazoo")
class SequenceTrainer(keras.Model):
    """Meta-trains a `MANN` on the paper's protocol with `compile` and `fit`.

    `call({"images", "labels"})` is `learner.sequence_logits`: the logits of every step,
    `[B, T, N]`, each label an input one step after its image; the loss (cross-entropy by
    default) is taken at every step against the labels `[B, T]`, averaged. The paper sums it
    over the steps: the mean is that sum divided by the B * T steps of a batch, the same
    gradient direction at a scale Adam's normalization undoes (the mean keeps the loss readable
    across sequence lengths). The learner's weights are trained in place.

    Args:
        learner: a `MANN` whose `ways` equals the episodes' classes.
    """

    def __init__(self, learner, **kwargs):
        if isinstance(learner, dict):
            learner = keras.saving.deserialize_keras_object(learner)
        super().__init__(**kwargs)
        self.learner = learner
        self.built = True  # a MANN makes all its weights when it is constructed

    def call(self, sequence, training=False):
        return self.learner.sequence_logits(sequence["images"], sequence["labels"])

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        if loss is None:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics or ["accuracy"], **kwargs)

    def compile_from_config(self, config):
        """Compiles a trainer loaded from a `.keras` checkpoint, optimizer state included (as
        `MetaLearner.compile_from_config`: Keras skips it for an overridden `compile`)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables)

    def get_config(self):
        return {"learner": keras.saving.serialize_keras_object(self.learner), "name": self.name}


def train_sequences(
    learner,
    sampler,
    checkpoint_dir,
    steps,
    learning_rate=1e-3,
    steps_per_epoch=None,
    batch=16,
    label=None,
    verbose=1,
    optimizer=None,
    callbacks=(),
    init_from=None,
):
    """Meta-trains a MANN on the paper's sequences with Adam, resuming from a checkpoint.

    As `training.train.train` does for the contract's episodes: a `.keras` checkpoint of the
    `SequenceTrainer` (optimizer state included) after every epoch of `steps_per_epoch`
    steps, and a run called again with the same folder goes on from its last epoch, with
    the episodes it had not used yet.

    Args:
        learner: a `MANN` (used for a fresh run; a resumed run loads its own).
        sampler: a `SequenceSampler` of the training split.
        checkpoint_dir: the checkpoint folder.
        steps: total steps (batches of `batch` episodes).
        learning_rate: Adam's rate.
        steps_per_epoch: steps between checkpoints (default: the resumed run's, else 100).
        batch: episodes per step (16 in the reference code).
        label: a name for the run, checked on resume.
        verbose: Keras' verbosity.
        optimizer: the optimizer of a fresh run (default: Adam at `learning_rate`); a resumed
            run keeps its own, state included.
        callbacks: more Keras callbacks (e.g. `learning_curve.monitoring_callbacks`).
        init_from: where a fresh run's starting weights came from (a dict), recorded in the
            checkpoint's state as `training.train` does.

    Returns:
        `(learner, state)`: the trained MANN and `{"epoch", "seconds", "steps", ...}`.
    """
    from training import checkpoints

    state, steps_per_epoch = checkpoints.resume_settings(
        checkpoint_dir, label, steps_per_epoch, steps
    )
    epochs = max(1, steps // steps_per_epoch)
    if state:
        trainer = checkpoints.load_checkpoint(checkpoint_dir)
        initial_epoch, seconds = state["epoch"], state["seconds"]
    else:
        trainer = SequenceTrainer(learner)
        trainer.compile(optimizer or keras.optimizers.Adam(learning_rate))
        initial_epoch, seconds = 0, 0.0
    if state:
        init_from = state.get("init_from")
    data = sampler.dataset(batch=batch, start=initial_epoch * steps_per_epoch * batch)
    checkpoint = checkpoints.ResumableCheckpoint(
        checkpoint_dir, steps_per_epoch, label, seconds, init_from=init_from
    )
    if initial_epoch < epochs:
        trainer.fit(
            data,
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            callbacks=[checkpoint, *callbacks],
            verbose=verbose,
        )
    final = checkpoints.read_state(checkpoint_dir) or {"epoch": initial_epoch, "seconds": seconds}
    final["steps"] = final["epoch"] * steps_per_epoch
    final.setdefault("init_from", init_from)
    return trainer.learner, final


def instance_numbers(labels):
    """How many times each step's class has been shown, counting this step: `[B, T]`, 1-based.

    E.g. labels `[2, 0, 2, 2, 0]` give `[1, 1, 2, 3, 2]`.
    """
    labels = np.asarray(labels)
    numbers = np.zeros_like(labels)
    for b in range(labels.shape[0]):
        seen = {}
        for t, label in enumerate(labels[b]):
            seen[label] = seen.get(label, 0) + 1
            numbers[b, t] = seen[label]
    return numbers


def instance_accuracy(learner, sampler, episodes=1000, batch=16):
    """Accuracy per instance (1st .. I-th presentation of a class) over test episodes.

    An episode's accuracy at instance k is the fraction of its C classes whose k-th
    presentation is classified right; the mean over episodes and its 95% interval are given
    for every k.

    Args:
        learner: a `MANN`.
        sampler: a `SequenceSampler` of the test split.
        episodes: number of episodes (at least 2).
        batch: episodes run together.

    Returns:
        A dict with `accuracy` and `ci95` (percent, one per instance 1..I), `episodes`,
        `classes` and `instances`.
    """
    if episodes < 2:
        raise ValueError(f"evaluation needs at least 2 episodes, got {episodes}")
    logits = tf.function(learner.sequence_logits, reduce_retracing=True)
    per_episode = []
    for sequence, labels in sampler.dataset(math.ceil(episodes / batch) * batch, batch):
        labels = labels.numpy()
        correct = np.argmax(np.asarray(logits(sequence["images"], labels)), axis=-1) == labels
        numbers = instance_numbers(labels)
        per_episode.extend(
            [correct[b][numbers[b] == k].mean() for k in range(1, sampler.instances + 1)]
            for b in range(len(labels))
        )
    per_episode = np.asarray(per_episode[:episodes])
    intervals = [confidence_interval(per_episode[:, k]) for k in range(sampler.instances)]
    return {
        "accuracy": [mean for mean, _ in intervals],
        "ci95": [ci for _, ci in intervals],
        "episodes": len(per_episode),
        "classes": sampler.classes,
        "instances": sampler.instances,
    }


def instance_table(result, paper=None):
    """The per-instance result as a Markdown table (the paper's row under it, if given)."""
    instances = range(1, result["instances"] + 1)
    lines = [
        "| | " + " | ".join(ordinal(k) for k in instances) + " |",
        "| --- |" + " --- |" * result["instances"],
        "| measured | "
        + " | ".join(
            f"{a:.1f} ± {c:.1f}" for a, c in zip(result["accuracy"], result["ci95"], strict=True)
        )
        + " |",
    ]
    if paper:
        cells = [f"{paper[k]}" if k in paper else "" for k in instances]
        lines.append("| paper | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_instance_curve(result, path, paper=None):
    """Writes accuracy against instance, with 95% intervals, as a PNG (the paper's figure).

    `paper` (`{instance: accuracy}`) adds the paper's points as a second curve.
    """
    instances = range(1, result["instances"] + 1)
    curves = {f"{result['classes']} classes": (instances, result["accuracy"], result["ci95"])}
    if paper:
        shown = sorted(k for k in paper if k <= result["instances"])
        curves["paper"] = (shown, [paper[k] for k in shown])
    line_chart(
        path,
        curves,
        "instance",
        "accuracy (%)",
        y_limits=(0, 100),
        markers=True,
    )
    return path


def ordinal(k):
    """`1st`, `2nd`, `3rd`, `4th`, ... (up to 20, the instances of an Omniglot class)."""
    return f"{k}{'st' if k == 1 else 'nd' if k == 2 else 'rd' if k == 3 else 'th'}"
