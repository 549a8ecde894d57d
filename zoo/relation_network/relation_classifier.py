"""The adapted Relation Network's head: stored class feature maps and the relation module."""

import keras

from zoo.relation_network.relation_module import RelationModule


@keras.saving.register_keras_serializable(package="metazoo")
class RelationClassifier(keras.layers.Layer):
    """Scores query feature maps against stored class feature maps with a relation module.

    The class maps (the sum of each class's support feature maps) are a trainable weight, so
    fine-tuning the adapted classifier with `fit` moves them along with the relation module.
    Each query is scored on its own against every class: the output does not depend on the
    other images of the batch.

    Reference:
        Sung, Yang, Zhang, Xiang, Torr & Hospedales, "Learning to Compare: Relation Network
        for Few-Shot Learning", CVPR 2018.

    Args:
        ways: number of classes N.
        feature_size: side s of the square feature maps.
        filters: channels c of a feature map.
        hidden_units: width of the relation module's first fully connected layer.
    """

    def __init__(self, ways, feature_size, filters=64, hidden_units=8, **kwargs):
        super().__init__(**kwargs)
        self.ways = int(ways)
        self.feature_size = int(feature_size)
        self.filters = int(filters)
        self.hidden_units = int(hidden_units)
        self.class_maps = self.add_weight(
            shape=(self.ways, self.feature_size, self.feature_size, self.filters),
            initializer="zeros",
            name="class_maps",
        )
        self.relation_module = RelationModule(
            self.filters, self.hidden_units, name="relation_module"
        )
        self.relation_module.build(self.class_maps.shape, self.class_maps.shape)

    def call(self, query_maps, training=False):
        return self.relation_module(self.class_maps, query_maps, training=training)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.ways)

    def get_config(self):
        config = super().get_config()
        config.update(
            ways=self.ways,
            feature_size=self.feature_size,
            filters=self.filters,
            hidden_units=self.hidden_units,
        )
        return config
