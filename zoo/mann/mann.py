"""Memory-Augmented Neural Network (MANN) with Least Recently Used Access."""

import keras
from keras import ops

from zoo.mann.mann_cell import MANNCell
from zoo.mann.mann_classifier import MANNClassifier
from zoo.meta_learner import MetaLearner


def presentation_order(labels, ways):
    """The order in which a support set is presented: shot by shot, classes in label order.

    First the first example of each class (labels 0..N-1), then the second of each class, and
    so on; within a class the given order is kept. The order of a sort by
    `rank_within_class * N + label` (all keys distinct): it does not depend on how the given
    support set interleaves its classes, only on each class's examples in their given order.

    Args:
        labels: ints `[..., S]` (a leading task axis is allowed).
        ways: the number of classes N.

    Returns:
        Indices `[..., S]` into the last axis of `labels`.
    """
    one_hot = ops.one_hot(labels, ways, dtype="int32")
    rank = ops.sum(ops.cumsum(one_hot, axis=-2) * one_hot, axis=-1) - 1
    return ops.argsort(rank * ways + ops.cast(labels, "int32"), axis=-1)


@keras.saving.register_keras_serializable(package="metazoo")
class MANN(MetaLearner):
    """A Memory-Augmented Neural Network: an LSTM controller with an external memory (LRUA).

    The paper's model (`MANNCell`): at step t the controller reads [x_t, y_{t-1}, r_{t-1}]
    (the image, the previous step's one-hot label, the previous reads), writes a key (or an add
    vector, `write_vector`) per head to the memory with Least Recently Used Access, reads the
    memory by cosine similarity and outputs softmax(W_o [h_t, r_t]). Images are flattened (no
    convolution; the reference downscales Omniglot to 20x20, the default `image_size`).

    The contract's episode as a sequence: the support set is presented in `presentation_order`
    (shot by shot, classes in label order), each label one step late, so the sequence is
    (x_1, 0), (x_2, y_1), ..., (x_S, y_{S-1}), (0, y_S): a last step with a blank image (all
    zeros after preprocessing) presents the last label. The memory and the controller state
    start afresh (`MANNCell.initial_state`) for every episode, and for every task of a
    meta-batch. Each query is then one more step from the state after that sequence, with
    the null label (all zeros), classified on its own: its logits depend on the support set
    and on that query only. `adapt` runs the support sequence once and bakes the state into
    a `MANNClassifier`.

    The loss is the cross-entropy of the queries (the contract's); a meta-batch runs its
    tasks as the batch of one loop over the steps (`call`). The paper's protocol, a loss at
    every step of a sequence whose labels come one step late, is `sequence_logits`, trained
    by `training.sequences.SequenceTrainer`.
    The class-to-label assignment is drawn afresh for each episode by the data: the episode
    sampler (`training.episodes.EpisodeSampler`) draws an episode's classes in random order
    and labels them 0..N-1 in that order.

    What follows the paper and its reference code (tristandeleu/ntm-one-shot): the
    equations of `MANNCell` and `LeastRecentlyUsedAccess`, 4 heads, 128 x 40 memory, 200 LSTM
    units, gamma 0.95, the initial state. Where they differ, what each head writes is an
    option (`write_vector`): by default its own key k_t, the paper's
    M_t(i) = M_{t-1}(i) + w^w_t(i) k_t; with `"add"` a separate add vector
    a_t = tanh(W_a h_t + b_a), as the reference code (and snowkylin/ntm's default) writes. Choices
    where the paper leaves it open: head h's least used row is the h-th least used (the
    reference code's reading of the paper's n least used rows); the support order and the last
    label step above; the query steps with the null label.

    Labels are one-hot over the N classes by default, as in the paper's 5-class experiments;
    with `labels="strings"` they are its 15-class experiments' strings of 5 characters from 5
    symbols (`zoo.mann.string_labels`): five-hot inputs, a softmax per character out. On the
    sequences the labels are then string ids drawn per episode (`sequence_logits` scores all
    3125 strings); in the contract's episodes class j is the string of id j, and a query's
    logits are the log-probabilities of the strings 0..N-1.

    Reference:
        Santoro, Bartunov, Botvinick, Wierstra & Lillicrap, "Meta-Learning with
        Memory-Augmented Neural Networks", ICML 2016.

    Args:
        ways: the number of classes N (fixed: the labels are one-hot inputs).
        controller_units: LSTM units.
        memory_rows: rows of the memory.
        memory_width: width of a memory row.
        read_heads: number of read (and write) heads.
        gamma: the usage decay of LRUA.
        addressing: `"lrua"` (the paper's MANN) or `"ntm"`, a Neural Turing Machine's content
            and location addressing with an erase-and-add write head (`NTMAddressing`), the
            comparison the paper makes.
        write_vector: what each LRUA head writes: `"key"` (the default), its read key k_t as
            in the paper's equation, or `"add"`, a separate add vector a_t per head from the
            controller output, as in the reference code (weights of its own). Only with
            `addressing="lrua"`: NTM addressing always writes an add vector.
        labels: `"one_hot"` (the default) or `"strings"`, five-character string labels.
        image_size: side of the square image the model sees (20 in the reference).
        **kwargs: `invert` and `keras.Model` arguments.
    """

    def __init__(
        self,
        ways=5,
        controller_units=200,
        memory_rows=128,
        memory_width=40,
        read_heads=4,
        gamma=0.95,
        addressing="lrua",
        write_vector="key",
        labels="one_hot",
        image_size=20,
        **kwargs,
    ):
        super().__init__(image_size=image_size, **kwargs)
        self.ways = int(ways)
        self.cell = MANNCell(
            ways,
            controller_units,
            memory_rows,
            memory_width,
            read_heads,
            gamma,
            addressing,
            write_vector,
            labels,
            name="mann_cell",
        )
        self.cell.build((None, self.features))

    @property
    def features(self):
        """Length D of a flattened preprocessed image."""
        return self.image_size * self.image_size * self.channels

    @property
    def fixed_ways(self):
        return self.ways

    def flatten(self, images):
        """Preprocessed images `[..., n, S, S, C]` as vectors `[..., n, D]`."""
        return ops.reshape(images, (*ops.shape(images)[:-3], self.features))

    def support_state(self, support, support_labels):
        """The `MemoryState` after the support sequence of each of T tasks (batch T).

        Args:
            support: flattened preprocessed support images `[T, S, D]`.
            support_labels: ints `[T, S]`.
        """
        order = presentation_order(support_labels, self.ways)
        inputs = ops.take_along_axis(support, order[:, :, None], axis=1)
        labels = self.cell.encode_labels(
            ops.take_along_axis(support_labels, order, axis=1), inputs.dtype
        )
        inputs = ops.concatenate([inputs, ops.zeros_like(inputs[:, :1])], axis=1)
        labels = ops.concatenate([ops.zeros_like(labels[:, :1]), labels], axis=1)
        return self.cell.sequence(inputs, labels)[1]

    def task_logits(self, support, support_labels, queries, training=False):
        state = self.support_state(self.flatten(support)[None], support_labels[None])
        return self.cell.classify(self.flatten(queries)[None], state)[0]

    def call(self, episode, training=False):
        """The contract's `call`; a meta-batch runs all its tasks' sequences in one loop.

        The tasks are the batch axis of one `MANNCell.sequence` (each with its own state, as
        each alone), instead of one loop per task: for 16 tasks of 5-way 1-shot this makes a
        training step several times faster.
        """
        support_images = episode["support_images"]
        if len(support_images.shape) != 5 or support_images.shape[0] is None:
            return super().call(episode, training=training)
        query_images = episode["query_images"]
        self.check_channels(support_images, query_images)
        labels = ops.cast(episode["support_labels"], "int32")
        state = self.support_state(self._task_features(support_images), labels)
        return self.cell.classify(self._task_features(query_images), state)

    def _task_features(self, images):
        """Raw images `[T, n, H, W, C]` preprocessed and flattened to `[T, n, D]`."""
        shape = ops.shape(images)
        flat = ops.reshape(images, (-1, *images.shape[2:]))
        return ops.reshape(self.flatten(self.preprocessing(flat)), (shape[0], shape[1], -1))

    def _loss_per_task(self, x, y, sample_weight):
        """False: `fit` takes Keras' train step on the whole meta-batch (the batched `call`),
        the same mean loss over all tasks' queries as `MetaLearner.train_step`'s per-task
        losses, in one loop over the steps for all tasks."""
        return False

    def task_head(self, support, support_labels):
        run = self.compiled_function(
            "support_state",
            lambda images, labels: tuple(
                self.support_state(self.flatten(images)[None], labels[None])
            ),
        )
        head = MANNClassifier(self.ways, self.features, **self._cell_config(), name="memory")
        head.cell.set_weights(self.cell.get_weights())
        head.set_state(run(support, support_labels))
        return [head]

    def sequence_logits(self, images, labels):
        """The paper's protocol: logits at every step of sequences with labels one step late.

        Args:
            images: raw images `[B, T, H, W, C]`.
            labels: their labels `[B, T]`, ints 0..N-1 (string ids 0..3124 with
                `labels="strings"`); label t is an input at step t + 1.

        Returns:
            Logits `[B, T, N]` (`[B, T, 3125]`, the strings' log-probabilities, with strings):
            step t's prediction of labels[:, t].
        """
        inputs = self._task_features(ops.convert_to_tensor(images))
        encoded = self.cell.encode_labels(ops.cast(labels, "int32"), inputs.dtype)
        previous = ops.concatenate([ops.zeros_like(encoded[:, :1]), encoded[:, :-1]], axis=1)
        logits = self.cell.sequence(inputs, previous)[0]
        return self.cell.class_logits(logits, self.cell.label_count)

    def _cell_config(self):
        cell = self.cell
        return {
            "controller_units": cell.controller_units,
            "memory_rows": cell.memory_rows,
            "memory_width": cell.memory_width,
            "read_heads": cell.read_heads,
            "gamma": cell.gamma,
            "addressing": cell.addressing,
            "write_vector": cell.write_vector,
            "labels": cell.labels,
        }

    def get_config(self):
        config = super().get_config()
        config.update(ways=self.ways, **self._cell_config())
        return config
