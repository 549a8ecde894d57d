"""Meta Networks (Munkhdalai & Yu 2017): its mechanisms against numpy on tiny cases.

The contract (call, adapt, fit, files, export, bad input, tf.distribute) is checked by
`test_contract.py` (registry entry `metanet`); here: layer augmentation (slow and fast
branches, each through the activation, then summed) for shared and per-example fast weights,
the attention read of fast weights, fast weights changing the base learner's output and
absent with an empty memory, the meta information (per-example gradients, constants), the
chunks d reads, the weight generators, the log/sign preprocessing of the authors' code, and
one task's logits assembled by hand from the learner's parts.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_episode
from contract_learners import tiny_meta_network

import zoo
from training import recipes
from zoo.layers import GradientPreprocessing
from zoo.meta_networks import (
    AugmentedConv2D,
    AugmentedDense,
    ExampleWeightGenerator,
    TaskWeightGenerator,
)
from zoo.meta_networks.augmented_layers import per_example_conv
from zoo.meta_networks.fast_weight_memory import (
    fan_in_scales,
    flatten_weights,
    read_fast_weights,
    unflatten_weights,
)
from zoo.meta_networks.meta_information import chunk_gradients, per_example_gradients

EPSILON = 1e-6  # under the cosine's square root, as the authors' cosine_similarity2d


def seeded_meta_network(seed=0, **kwargs):
    """The contract suite's tiny Meta Network, its weights drawn with `seed`."""
    keras.utils.set_random_seed(seed)
    return tiny_meta_network(**kwargs)


# -- numpy references, written with loops -----------------------------------------------------
def relu(x):
    return np.maximum(x, 0.0)


def numpy_conv(image, kernel):
    """'same' 3x3 convolution of one image `[H, W, C]` with `[3, 3, C, F]`, by loops."""
    height, width, _ = image.shape
    padded = np.pad(image, [(1, 1), (1, 1), (0, 0)])
    out = np.zeros((height, width, kernel.shape[-1]))
    for i in range(height):
        for j in range(width):
            patch = padded[i : i + 3, j : j + 3, :]
            out[i, j] = np.einsum("abc,abcf->f", patch, kernel)
    return out


def numpy_attention(queries, keys, values):
    """a_qi = softmax_i cos(q, k_i), read_q = sum_i a_qi v_i, by loops."""
    weights = np.zeros((len(queries), len(keys)))
    for q, query in enumerate(queries):
        for i, key in enumerate(keys):
            norms = np.dot(query, query) * np.dot(key, key)
            weights[q, i] = np.dot(query, key) / np.sqrt(norms + EPSILON)
        weights[q] = np.exp(weights[q]) / np.exp(weights[q]).sum()
    reads = np.zeros((len(queries), values.shape[1]))
    for q in range(len(queries)):
        for i in range(len(keys)):
            reads[q] += weights[q, i] * values[i]
    return weights, reads


def log_and_sign(x, k=7):
    """The authors' `logAndSign` (pretreat_data/utilsf.py) on a column of gradients."""
    x = np.asarray(x, "float32").reshape(-1, 1)
    log = np.log(np.abs(x) + np.finfo(np.float32).eps)
    clamped_log = np.maximum(log / k, -1.0)
    sign = np.clip(x * np.exp(k), -1.0, 1.0)
    return np.concatenate([clamped_log, sign], axis=1)


# -- layer augmentation --------------------------------------------------------------------------
def test_augmented_dense_sums_the_activated_slow_and_fast_branches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3)).astype("float32")
    slow = rng.normal(size=(3, 4)).astype("float32")
    fast = rng.normal(size=(3, 4)).astype("float32")
    per_example = rng.normal(size=(2, 3, 4)).astype("float32")
    layer = AugmentedDense(4, activation="relu")
    layer.build((None, 3))
    layer.kernel.assign(slow)
    # By hand, first entry: relu(x0 . W[:, 0]) + relu(x0 . W*[:, 0]).
    hand = max(float(x[0] @ slow[:, 0]), 0.0) + max(float(x[0] @ fast[:, 0]), 0.0)
    assert np.asarray(layer(x, fast))[0, 0] == pytest.approx(hand, rel=1e-5)
    np.testing.assert_allclose(layer(x), relu(x @ slow), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(x, fast), relu(x @ slow) + relu(x @ fast), rtol=1e-5)
    expected = np.stack([relu(x[b] @ slow) + relu(x[b] @ per_example[b]) for b in range(2)])
    np.testing.assert_allclose(layer(x, per_example), expected, rtol=1e-5, atol=1e-6)
    # Summed after the activation, not activated after the sum: they differ here.
    assert not np.allclose(expected, relu(x @ slow + np.einsum("bi,bij->bj", x, per_example)))
    # Without an activation (b's output layer, u's key): the plain sum of the two products.
    linear = AugmentedDense(4)
    linear.build((None, 3))
    linear.kernel.assign(slow)
    np.testing.assert_allclose(linear(x, fast), x @ slow + x @ fast, rtol=1e-5, atol=1e-5)


def test_augmented_conv_sums_the_activated_branches_with_shared_and_per_example_kernels():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 4, 2)).astype("float32")
    slow = rng.normal(size=(3, 3, 2, 3)).astype("float32")
    fast = rng.normal(size=(3, 3, 2, 3)).astype("float32")
    per_example = rng.normal(size=(3, 3, 3, 2, 3)).astype("float32")
    layer = AugmentedConv2D(3)
    layer.build(x.shape)
    layer.kernel.assign(slow)
    slow_out = np.stack([relu(numpy_conv(image, slow)) for image in x])
    np.testing.assert_allclose(layer(x), slow_out, rtol=1e-4, atol=1e-5)
    shared = slow_out + np.stack([relu(numpy_conv(image, fast)) for image in x])
    np.testing.assert_allclose(layer(x, fast), shared, rtol=1e-4, atol=1e-5)
    own = slow_out + np.stack([relu(numpy_conv(x[b], per_example[b])) for b in range(3)])
    np.testing.assert_allclose(layer(x, per_example), own, rtol=1e-4, atol=1e-5)
    # The batched per-example convolution is each example's convolution with its own kernel.
    convolved = np.stack([numpy_conv(x[b], per_example[b]) for b in range(3)])
    np.testing.assert_allclose(per_example_conv(x, per_example), convolved, rtol=1e-4, atol=1e-5)


# -- the memory ----------------------------------------------------------------------------------
def test_attention_read_of_fast_weights_against_numpy_3_keys_2_queries():
    rng = np.random.default_rng(2)
    keys = rng.normal(size=(3, 4)).astype("float32")
    queries = rng.normal(size=(2, 4)).astype("float32")
    shapes = [(2, 3), (3,)]
    memory = rng.normal(size=(3, 9)).astype("float32")  # W*_i of 2x3 and 3 numbers each
    weights, reads = numpy_attention(queries, keys, memory)
    got_weights, got_reads = zoo.layers.cosine_attention(queries, keys, memory)
    np.testing.assert_allclose(got_weights, weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_reads, reads, rtol=1e-5, atol=1e-6)
    first, second = read_fast_weights(queries, keys, memory, shapes)
    assert first.shape == (2, 2, 3) and second.shape == (2, 3)
    np.testing.assert_allclose(first, reads[:, :6].reshape(2, 2, 3), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second, reads[:, 6:], rtol=1e-5, atol=1e-6)
    # A query equal to key 2 attends most to it: cosine 1 against less for the others.
    weights_of_key = np.asarray(zoo.layers.cosine_attention(keys[2:], keys, memory)[0])[0]
    assert np.argmax(weights_of_key) == 2


def test_flatten_and_unflatten_are_inverse():
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=(2, 3, 3, 1, 4)), rng.normal(size=(2, 5, 2))]
    rows = np.asarray(flatten_weights(weights))
    assert rows.shape == (2, 36 + 10)
    np.testing.assert_array_equal(rows[1, :36], weights[0][1].ravel())
    back = unflatten_weights(rows, [(3, 3, 1, 4), (5, 2)])
    for got, expected in zip(back, weights, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_fast_weights_change_the_base_learner_and_are_absent_with_an_empty_memory():
    learner = seeded_meta_network()
    network = learner.base_learner
    episode, _ = random_episode(ways=3, shots=2, queries=2)
    queries = learner.preprocessing(episode["query_images"])
    support = learner.preprocessing(episode["support_images"])
    labels = tf.constant(episode["support_labels"])
    shapes = [tuple(kernel.shape) for kernel in network.kernels]
    slow = np.asarray(network(queries))
    # An empty memory (no support example) reads zero fast weights: b's slow output exactly.
    query_keys = learner.representation(queries)
    empty = read_fast_weights(
        query_keys, query_keys[:0], tf.zeros((0, sum(map(math.prod, shapes)))), shapes
    )
    for weight in empty:
        np.testing.assert_array_equal(weight, np.zeros_like(weight))
    np.testing.assert_array_equal(network(queries, empty), slow)
    # The support set's memory changes them.
    task_fast_weights, keys, memory = learner.support_state(support, labels)
    assert keys.shape == (6, 8) and memory.shape == (6, sum(map(math.prod, shapes)))
    fast = np.asarray(learner.classify(queries, task_fast_weights, keys, memory))
    assert np.abs(fast - slow).max() > 1e-3
    # They are the ones the memory reads for each query.
    query_keys = learner.representation(queries, task_fast_weights)
    read = read_fast_weights(query_keys, keys, memory, shapes)
    np.testing.assert_allclose(fast, network(queries, read), rtol=1e-5, atol=1e-6)


# -- meta information ----------------------------------------------------------------------------
def test_meta_information_is_each_examples_gradient_alone_and_a_constant():
    learner = seeded_meta_network(1)
    network = learner.base_learner
    episode, _ = random_episode(ways=3, shots=2, queries=1, seed=4)
    images = learner.preprocessing(episode["support_images"])
    labels = episode["support_labels"]
    kernels = network.kernels
    got = per_example_gradients(network, kernels, images, labels)
    assert [tuple(g.shape) for g in got] == [(6, *k.shape) for k in kernels]
    for i in range(6):
        with tf.GradientTape() as tape:
            logits = network(images[i : i + 1])
            loss = keras.losses.sparse_categorical_crossentropy(
                labels[i : i + 1], logits, from_logits=True
            )[0]
        alone = tape.gradient(loss, kernels)
        for layer, (per_example, expected) in enumerate(zip(got, alone, strict=True)):
            assert np.abs(np.asarray(expected)).max() > 0, f"layer {layer}: zero gradient"
            np.testing.assert_allclose(per_example[i], expected, rtol=1e-4, atol=1e-6)
    # A constant: no gradient flows back through it to the weights.
    with tf.GradientTape() as tape:
        total = sum(
            tf.reduce_sum(g) for g in per_example_gradients(network, kernels, images, labels)
        )
    assert all(gradient is None for gradient in tape.gradient(total, kernels))


def test_chunk_gradients_are_the_mean_gradients_of_consecutive_chunks():
    gradients = np.arange(12, dtype="float32").reshape(6, 2)
    got = np.asarray(chunk_gradients(tf.constant(gradients), 5))
    # 6 examples in 5 chunks: example i in chunk floor(5 i / 6) = 0, 0, 1, 2, 3, 4.
    expected = np.stack([gradients[:2].mean(0), *gradients[2:]])
    np.testing.assert_allclose(got, expected)
    # 20 examples in 5 chunks of 4 (the authors' N / IT); fewer examples than chunks: one each.
    twenty = np.random.default_rng(5).normal(size=(20, 3)).astype("float32")
    np.testing.assert_allclose(
        chunk_gradients(tf.constant(twenty), 5), twenty.reshape(5, 4, 3).mean(1), rtol=1e-6
    )
    np.testing.assert_allclose(chunk_gradients(tf.constant(twenty[:3]), 5), twenty[:3])


def test_log_and_sign_preprocessing_with_k_7_is_the_authors_log_and_sign():
    values = np.array([0.0, 1e-9, -1e-5, 5e-4, -9e-4, 2e-3, -0.3, 1.0, 40.0], "float32")
    got = np.asarray(GradientPreprocessing(7.0)(values))
    np.testing.assert_allclose(got, log_and_sign(values), rtol=1e-4, atol=1e-6)


# -- the weight generators -----------------------------------------------------------------------
def test_example_weight_generator_is_one_mlp_on_each_coordinates_preprocessed_gradient():
    keras.utils.set_random_seed(6)
    generator = ExampleWeightGenerator(units=5)
    gradients = np.random.default_rng(6).normal(scale=1e-2, size=(3, 7)).astype("float32")
    got = np.asarray(generator(gradients))
    (w1, b1), (w2, b2) = (layer.get_weights() for layer in generator.hidden)
    w3, b3 = generator.output_layer.get_weights()
    expected = np.zeros((3, 7))
    for i in range(3):
        for p in range(7):
            h = log_and_sign(gradients[i, p])[0]
            h = relu(relu(h @ w1 + b1) @ w2 + b2)
            expected[i, p] = (h @ w3 + b3)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_task_weight_generator_runs_the_lstm_over_the_chunks_of_each_coordinate():
    keras.utils.set_random_seed(7)
    generator = TaskWeightGenerator(units=5)
    lstm = generator.lstm.cell
    kernel, recurrent, bias = (np.asarray(w) for w in lstm.weights)
    out_kernel, out_bias = generator.output_layer.get_weights()
    gradients = np.random.default_rng(7).normal(scale=1e-2, size=(4, 6)).astype("float32")
    got = np.asarray(generator(gradients))
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    expected = np.zeros(6)
    for p in range(6):  # coordinate p alone, its 4 chunk gradients in order
        h, c = np.zeros(5), np.zeros(5)
        for t in range(4):
            z = log_and_sign(gradients[t, p])[0] @ kernel + h @ recurrent + bias
            i, f, g, o = np.split(z, 4)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        expected[p] = (h @ out_kernel + out_bias)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


# -- the model -----------------------------------------------------------------------------------
def test_task_logits_assembled_by_hand_from_the_parts():
    """Algorithm 1 step by step with the learner's parts, against its `call`."""
    learner = seeded_meta_network(2)
    episode, _ = random_episode(ways=3, shots=2, queries=2, seed=8)
    support = learner.preprocessing(episode["support_images"])
    queries = learner.preprocessing(episode["query_images"])
    labels = tf.constant(episode["support_labels"])
    u, b, blocks = learner.representation, learner.base_learner, learner.blocks
    # Task-level fast weights: chunk gradients of the representation loss through d.
    loss_gradients = per_example_gradients(
        learner.representation_logits, u.kernels, support, labels
    )
    chunks = [np.asarray(chunk_gradients(g, 5)) for g in loss_gradients]
    assert chunks[0].shape[0] == 5
    conv = np.concatenate([c.reshape(5, -1) for c in chunks[:blocks]], axis=1)
    dense = np.concatenate([c.reshape(5, -1) for c in chunks[blocks:]], axis=1)
    flat = np.concatenate([learner.task_conv_weights(conv), learner.task_dense_weights(dense)])
    flat = flat * np.asarray(fan_in_scales(u.kernels))
    task_fast = unflatten_weights(flat[None], [tuple(k.shape) for k in u.kernels])
    task_fast = [w[0] for w in task_fast]
    # The memory: keys u(x'_i) with the task-level fast weights, values m(nabla_i).
    keys = np.asarray(u(support, task_fast))
    gradients = per_example_gradients(b, b.kernels, support, labels)
    values = np.concatenate(
        [
            learner.example_conv_weights(
                np.concatenate([np.reshape(g, (6, -1)) for g in gradients[:blocks]], 1)
            ),
            learner.example_dense_weights(
                np.concatenate([np.reshape(g, (6, -1)) for g in gradients[blocks:]], 1)
            ),
        ],
        axis=1,
    ) * np.asarray(fan_in_scales(b.kernels))
    # Each query alone: attention over the keys, its fast weights, b.
    shapes = [tuple(k.shape) for k in b.kernels]
    expected = []
    for q in range(len(queries)):
        query = queries[q : q + 1]
        _, read = numpy_attention(np.asarray(u(query, task_fast)), keys, values)
        fast = unflatten_weights(read.astype("float32"), shapes)
        expected.append(np.asarray(b(query, fast))[0])
    got = np.asarray(learner.task_logits(support, labels, queries))
    np.testing.assert_allclose(got, np.stack(expected), rtol=1e-4, atol=1e-5)


def test_fast_weights_are_scaled_by_each_layers_lecun_standard_deviation():
    """With `scale_fast_weights`, layer l's fast weights are the generator's times
    1 / sqrt(fan_in_l); without it, the generator's as they are (the authors' code)."""
    scaled = seeded_meta_network(4)
    plain = seeded_meta_network(4, scale_fast_weights=False)
    assert scaled.scale_fast_weights and not plain.scale_fast_weights
    episode, _ = random_episode(ways=3, shots=2, queries=2, seed=10)
    support = scaled.preprocessing(episode["support_images"])
    labels = tf.constant(episode["support_labels"])
    b_kernels = scaled.base_learner.kernels
    shapes = [tuple(k.shape) for k in b_kernels]
    pairs = [  # (kernels, scaled fast weights, unscaled fast weights) of b, then of u
        (
            b_kernels,
            unflatten_weights(scaled.example_fast_weights(support, labels), shapes),
            unflatten_weights(plain.example_fast_weights(support, labels), shapes),
        ),
        (
            scaled.representation.kernels,
            scaled.task_fast_weights(support, labels),
            plain.task_fast_weights(support, labels),
        ),
    ]
    for kernels, got, unscaled in pairs:
        for kernel, fast, reference in zip(kernels, got, unscaled, strict=True):
            fan_in = math.prod(kernel.shape[:-1])  # kh * kw * C, or D
            expected = np.asarray(reference) / math.sqrt(fan_in)
            np.testing.assert_allclose(fast, expected, rtol=1e-6)
    restored = zoo.MetaNetwork.from_config(plain.get_config())
    assert restored.scale_fast_weights is False


def test_the_query_loss_trains_b_u_d_and_m_but_not_the_representation_head():
    learner = seeded_meta_network(3)
    episode, labels = random_episode(ways=3, shots=2, queries=2, seed=9)
    with tf.GradientTape(persistent=True) as tape:
        logits = learner(episode, training=True)
        loss = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        loss = tf.reduce_mean(loss)
    parts = {
        "b": learner.base_learner,
        "u": learner.representation,
        "d_conv": learner.task_conv_weights,
        "d_dense": learner.task_dense_weights,
        "m_conv": learner.example_conv_weights,
        "m_dense": learner.example_dense_weights,
    }
    for name, part in parts.items():
        gradients = tape.gradient(loss, part.trainable_weights)
        assert all(g is not None for g in gradients), name
        assert max(float(np.abs(np.asarray(g)).max()) for g in gradients) > 0, name
    assert learner.representation_head.trainable_weights == []
    assert not any(w is learner.representation_head.kernel for w in learner.trainable_weights)


def test_the_papers_omniglot_network_has_the_authors_parameter_counts():
    keras.utils.set_random_seed(0)
    learner = zoo.MetaNetwork(ways=5)
    b_counts = [math.prod(k.shape) for k in learner.base_learner.kernels]
    assert b_counts == [576, *[36864] * 4, 64 * 64, 64 * 5]  # 152448 fast weights per example
    assert learner.base_learner.flat_size == 64  # 28 -> 14 -> 7 -> 4 -> 2 -> 1
    assert [math.prod(k.shape) for k in learner.representation.kernels][-1] == 64 * 64
    restored = zoo.MetaNetwork.from_config(learner.get_config())
    assert restored.get_config() == learner.get_config()


def test_recipes_follow_the_authors_code():
    recipe = recipes.get_recipe("metanet_omniglot")
    assert recipe["algorithm"] == "MetaNetwork"
    assert recipe["train"] == {"ways": 5, "shots": 1, "queries": 10, "tasks_per_batch": None}
    assert recipe["optimizer"]["learning_rate"] == 1e-3
    assert recipe["optimizer"]["global_clipnorm"] == 10
    optimizer = recipes.build_optimizer(recipe)
    assert optimizer.global_clipnorm == 10
    twenty = recipes.get_recipe("metanet_omniglot_20way")
    assert twenty["model"]["ways"] == 20 and twenty["train"]["ways"] == 20
    presets = {p for r in (recipe, twenty) for p in r["presets"]}
    assert presets == {
        f"metanet_omniglot_{ways}way_{shots}shot" for ways in (5, 20) for shots in (1, 5)
    }
