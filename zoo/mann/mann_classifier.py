"""The adapted MANN: a memory and a controller state baked in after the support sequence."""

import keras
from keras import ops

from zoo.adapted_classifier import zero_initializers
from zoo.mann.mann_cell import MANNCell, MemoryState


@keras.saving.register_keras_serializable(package="metazoo")
class MANNClassifier(keras.layers.Layer):
    """Maps preprocessed images to logits from the state a MANN reached on a support set.

    Holds its own `MANNCell` (a copy of the learner's weights) and, as weights, the state
    after the support sequence: the memory M, the usage w^u, the read weights w^r, the read
    vectors r, and the controller's h and c. Each image is one step from that state with the
    null label (`MANNCell.classify`): images are classified each on their own, and there is no
    loop over the support set in the graph.

    `fit` trains the cell, the memory, r, h and c; the usage and the read and write weights
    (which only choose and weight the rows a step addresses) stay as the support sequence
    left them.

    Reference:
        Santoro, Bartunov, Botvinick, Wierstra & Lillicrap, "Meta-Learning with
        Memory-Augmented Neural Networks", ICML 2016.

    Args:
        ways: the number of classes N.
        features: the length D of a flattened preprocessed image.
        controller_units, memory_rows, memory_width, read_heads, gamma, addressing,
            write_vector, labels: as `MANNCell`.
    """

    def __init__(
        self,
        ways,
        features,
        controller_units=200,
        memory_rows=128,
        memory_width=40,
        read_heads=4,
        gamma=0.95,
        addressing="lrua",
        write_vector="key",
        labels="one_hot",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.ways = int(ways)
        self.features = int(features)
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
        # Every weight of the cell is assigned: the learner's in `adapt`, a file's on loading.
        zero_initializers(self.cell).build((None, self.features))
        rows, width, heads = memory_rows, memory_width, read_heads

        def state(shape, name, trainable=True):
            return self.add_weight(shape=shape, initializer="zeros", trainable=trainable, name=name)

        self.memory = state((rows, width), "memory")
        self.usage = state((rows,), "usage", trainable=False)
        self.read_weights = state((heads, rows), "read_weights", trainable=False)
        self.write_weights = state((rows,), "write_weights", trainable=False)
        self.reads = state((heads * width,), "reads")
        self.hidden = state((controller_units,), "hidden")
        self.cell_state = state((controller_units,), "cell")

    def state_weights(self):
        """The state's weights, as a `MemoryState` (without the batch axis)."""
        return MemoryState(
            self.memory,
            self.usage,
            self.read_weights,
            self.write_weights,
            self.reads,
            self.hidden,
            self.cell_state,
        )

    def set_state(self, state):
        """Assigns a `MemoryState` of batch 1 to the state's weights."""
        for weight, value in zip(self.state_weights(), MemoryState(*state), strict=True):
            weight.assign(ops.reshape(value, weight.shape))

    def call(self, images):
        features = ops.reshape(images, (1, -1, self.features))
        state = MemoryState(*(ops.expand_dims(weight, 0) for weight in self.state_weights()))
        return self.cell.classify(features, state)[0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.ways)

    def get_config(self):
        config = super().get_config()
        cell = self.cell
        config.update(
            ways=self.ways,
            features=self.features,
            controller_units=cell.controller_units,
            memory_rows=cell.memory_rows,
            memory_width=cell.memory_width,
            read_heads=cell.read_heads,
            gamma=cell.gamma,
            addressing=cell.addressing,
            write_vector=cell.write_vector,
            labels=cell.labels,
        )
        return config
