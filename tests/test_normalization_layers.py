"""The fused normalization layers compute what the explicit formulas and Keras' layer do."""

import keras
import numpy as np
import tensorflow as tf

import zoo


def twin_layers(channels=4, momentum=0.9, seed=0):
    """A `BatchNormalization` and a `keras.layers.BatchNormalization` with equal weights."""
    fused = zoo.BatchNormalization(momentum=momentum)
    reference = keras.layers.BatchNormalization(momentum=momentum)
    rng = np.random.default_rng(seed)
    gamma, beta = rng.uniform(0.5, 2.0, channels), rng.normal(size=channels)
    moving = [rng.normal(size=channels), rng.uniform(0.5, 2.0, channels)]
    for layer in (fused, reference):
        layer.build((None, 5, 5, channels))
        layer.set_weights([gamma, beta, *moving])
    return fused, reference


def batch(seed, shape=(6, 5, 5, 4)):
    return np.random.default_rng(seed).normal(2.0, 3.0, shape).astype("float32")


def test_fused_batch_normalization_trains_like_keras_batch_normalization():
    fused, reference = twin_layers()
    for step in range(3):
        inputs = tf.constant(batch(step))
        results = {}
        for name, layer in (("fused", fused), ("keras", reference)):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                outputs = layer(inputs, training=True)
                loss = tf.reduce_sum(tf.sin(outputs) * tf.range(4, dtype="float32"))
            gradients = tape.gradient(loss, [inputs, layer.gamma.value, layer.beta.value])
            results[name] = [outputs.numpy()] + [g.numpy() for g in gradients]
        assert np.abs(results["keras"][0]).max() > 1.0
        for got, want in zip(results["fused"], results["keras"], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        # The moving averages keep Keras' population variance, not the kernel's corrected one.
        for got, want in zip(fused.weights[2:], reference.weights[2:], strict=True):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    inputs = batch(9)
    np.testing.assert_allclose(fused(inputs), reference(inputs), rtol=1e-5, atol=1e-5)


def test_fused_batch_normalization_differs_from_the_uncorrected_kernel_variance():
    # Guards the (n - 1) / n correction: without it the moving variance drifts upward.
    fused, _ = twin_layers(momentum=0.0)
    inputs = batch(0, shape=(2, 2, 1, 4))  # 4 values per channel, so n / (n - 1) = 4 / 3
    fused(inputs, training=True)
    np.testing.assert_allclose(fused.moving_variance.numpy(), inputs.var(axis=(0, 1, 2)), 1e-5)


def test_fused_batch_normalization_reads_and_writes_keras_weight_files(tmp_path):
    def stack(normalization):
        return keras.Sequential(
            [keras.Input((5, 5, 4)), keras.layers.Conv2D(4, 3), normalization(), normalization()]
        )

    for source, target in (
        (keras.layers.BatchNormalization, zoo.BatchNormalization),
        (zoo.BatchNormalization, keras.layers.BatchNormalization),
    ):
        saved, loaded = stack(source), stack(target)
        saved.set_weights([w + 0.5 for w in saved.get_weights()])
        path = tmp_path / f"{source.__module__}.weights.h5"
        saved.save_weights(path)
        loaded.load_weights(path)
        np.testing.assert_array_equal(loaded(batch(1)), saved(batch(1)))


def test_fused_batch_normalization_runs_keras_code_where_the_kernel_cannot():
    # float64 (the gradient checks' dtype) and 2D inputs take Keras' own path.
    for inputs in (batch(2).astype("float64"), batch(3, shape=(6, 4))):
        fused = zoo.BatchNormalization(dtype=str(inputs.dtype))
        reference = keras.layers.BatchNormalization(dtype=str(inputs.dtype))
        np.testing.assert_allclose(
            fused(inputs, training=True), reference(inputs, training=True), rtol=1e-6
        )
        for got, want in zip(fused.weights, reference.weights, strict=True):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_batch_statistics_normalization_fused_and_explicit_paths_agree():
    layer = zoo.BatchStatisticsNormalization()
    inputs = batch(0)
    layer.build(inputs.shape)
    layer.gamma.assign(np.linspace(0.5, 2.0, 4))
    layer.beta.assign(np.linspace(-1.0, 1.0, 4))
    fused = layer(inputs, training=True).numpy()
    explicit = layer(inputs, training=False).numpy()
    np.testing.assert_allclose(fused, explicit, rtol=1e-5, atol=1e-5)
    assert np.abs(explicit).max() > 1.0


def op_types(layer, inputs, training):
    graph = tf.function(lambda x: layer(x, training=training)).get_concrete_function(inputs)
    return {op.type for op in graph.graph.get_operations()}


def test_fused_batch_normalization_trains_with_the_fused_kernel_and_infers_with_keras():
    layer, _ = twin_layers()
    inputs = tf.constant(batch(0))
    assert "FusedBatchNormV3" in op_types(layer, inputs, training=True)
    assert "FusedBatchNormV3" not in op_types(layer, inputs, training=False)
    double = zoo.BatchNormalization(dtype="float64")
    assert "FusedBatchNormV3" not in op_types(double, tf.cast(inputs, "float64"), training=True)
