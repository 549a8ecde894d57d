"""Koch et al.'s convolutional twin for 105x105 images."""

import keras


def koch_encoder(image_size=105, name="koch_encoder", channels=1):
    """Four valid convolutions with max-pooling, then a 4096-unit sigmoid layer.

    conv 64@10x10 ReLU, pool; conv 128@7x7 ReLU, pool; conv 128@4x4 ReLU, pool; conv
    256@4x4 ReLU; flatten (6x6x256 = 9216 at 105x105); fully connected 4096, sigmoid. No
    batch normalization. Weights start as in the paper: convolutions N(0, 1e-2) with biases
    N(0.5, 1e-2), the fully connected layer N(0, 0.2).

    Reference:
        Koch, Zemel & Salakhutdinov, "Siamese Neural Networks for One-shot Image
        Recognition", ICML Deep Learning Workshop 2015.

    Args:
        image_size: side of the square, preprocessed input (105 in the paper).
        name: the model's name.
        channels: channels of the input.
    """
    conv = {
        "activation": "relu",
        "kernel_initializer": keras.initializers.RandomNormal(0.0, 1e-2),
        "bias_initializer": keras.initializers.RandomNormal(0.5, 1e-2),
    }
    return keras.Sequential(
        [
            keras.Input((image_size, image_size, channels)),
            keras.layers.Conv2D(64, 10, name="conv0", **conv),
            keras.layers.MaxPooling2D(2, name="pool0"),
            keras.layers.Conv2D(128, 7, name="conv1", **conv),
            keras.layers.MaxPooling2D(2, name="pool1"),
            keras.layers.Conv2D(128, 4, name="conv2", **conv),
            keras.layers.MaxPooling2D(2, name="pool2"),
            keras.layers.Conv2D(256, 4, name="conv3", **conv),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(
                4096,
                activation="sigmoid",
                kernel_initializer=keras.initializers.RandomNormal(0.0, 0.2),
                bias_initializer=keras.initializers.RandomNormal(0.5, 1e-2),
                name="features",
            ),
        ],
        name=name,
    )
