"""MANN with LRUA (Santoro et al. 2016): its equations against numpy, step by step.

The contract (call, adapt, fit, files, export, bad input, tf.distribute) is checked by
`test_contract.py` (registry entry `mann`); here: the cosine read, LRUA's usage, least-used
and write weights over a hand-worked 3-step example, the zeroing of the least used row, the
add vectors of `write_vector="add"`, the whole cell step, the support sequence, and what
passes (or not) between episodes and queries.
"""

import keras
import numpy as np
import pytest
from conftest import assert_adapted_matches_learner, random_episode
from contract_learners import tiny_mann

import zoo
from training.episodes import EpisodeSampler
from zoo.mann import LeastRecentlyUsedAccess, MANNCell, MemoryState
from zoo.mann.lrua import least_used_weights, zero_least_used
from zoo.mann.mann import presentation_order
from zoo.mann.memory import cosine_read

GAMMA = 0.95


def seeded_mann(seed=0, **kwargs):
    """The contract suite's tiny MANN, its weights drawn with `seed`."""
    keras.utils.set_random_seed(seed)
    return tiny_mann(**kwargs)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# -- numpy references, written with loops -----------------------------------------------------
def numpy_cosines(keys, memory):
    """cos(k_h, M_i) = k_h . M_i / sqrt(|k_h|^2 |M_i|^2 + 1e-6), `[H, R]`."""
    cosines = np.zeros((len(keys), len(memory)))
    for h, key in enumerate(keys):
        for i, row in enumerate(memory):
            norms = np.dot(key, key) * np.dot(row, row)
            cosines[h, i] = np.dot(key, row) / np.sqrt(norms + 1e-6)
    return cosines


def numpy_cosine_read(keys, memory):
    """w^r(h, i) = softmax_i cos(k_h, M_i), r_h = sum_i w^r(h, i) M_i, for one sequence."""
    cosines = numpy_cosines(keys, memory)
    weights = np.exp(cosines) / np.exp(cosines).sum(axis=1, keepdims=True)
    return weights, weights @ memory


def numpy_lrua_step(memory, usage, previous_read, keys, gates, adds=None):
    """One LRUA write then read; returns a dict of everything the step computes.

    The heads write `adds` if given (`write_vector="add"`), else their keys; they read with
    their keys.
    """
    heads, rows = len(keys), len(usage)
    written_vectors = keys if adds is None else adds
    ranked = sorted(range(rows), key=lambda i: (usage[i], i))  # ties: the lower row first
    least_used = np.zeros((heads, rows))
    writes = np.zeros((heads, rows))
    for h in range(heads):
        least_used[h, ranked[h]] = 1.0
        sigma = sigmoid(gates[h])
        writes[h] = sigma * previous_read[h] + (1.0 - sigma) * least_used[h]
    written = memory.copy()
    written[ranked[0]] = 0.0
    for h in range(heads):
        for i in range(rows):
            written[i] += writes[h, i] * written_vectors[h]
    reads_w, reads = numpy_cosine_read(keys, written)
    new_usage = GAMMA * usage + reads_w.sum(axis=0) + writes.sum(axis=0)
    return {
        "least_used": least_used,
        "write_weights": writes,
        "memory": written,
        "read_weights": reads_w,
        "reads": reads,
        "usage": new_usage,
    }


def lrua_layer(heads, gates, units=3):
    """A `LeastRecentlyUsedAccess` whose gates alpha are the constants `gates`."""
    layer = LeastRecentlyUsedAccess(heads, GAMMA)
    layer.build((None, units))
    layer.gate.set_weights([np.zeros((units, heads), "float32"), np.asarray(gates, "float32")])
    return layer


def run_lrua(layer, state, keys):
    """The layer's write, read and usage update on one sequence (batch 1), as numpy."""
    memory, usage, previous_read = (np.asarray(x, "float32")[None] for x in state)
    hidden = np.zeros((1, 3), "float32")
    keys = np.asarray(keys, "float32")[None]
    written, writes = layer(hidden, keys, memory, usage, previous_read)
    read_weights, reads = cosine_read(keys, written)
    usage = layer.usage(usage, read_weights, writes)
    return {
        "write_weights": np.asarray(writes)[0],
        "memory": np.asarray(written)[0],
        "read_weights": np.asarray(read_weights)[0],
        "reads": np.asarray(reads)[0],
        "usage": np.asarray(usage)[0],
    }


# -- the cosine read --------------------------------------------------------------------------
def test_cosine_read_matches_numpy_with_several_heads_and_a_zero_row():
    rng = np.random.default_rng(0)
    keys = rng.normal(size=(3, 5)).astype("float32")
    memory = rng.normal(size=(7, 5)).astype("float32")
    memory[4] = 0.0
    weights, reads = cosine_read(keys[None], memory[None])
    expected_weights, expected_reads = numpy_cosine_read(keys, memory)
    np.testing.assert_allclose(weights[0], expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(reads[0], expected_reads, rtol=1e-5, atol=1e-6)
    # A zero row has cosine 0 with every key: its weight is exp(0) / sum_i exp(cos_i).
    total = np.exp(numpy_cosines(keys, memory)).sum(axis=1)
    np.testing.assert_allclose(weights[0][:, 4], 1.0 / total, rtol=1e-5)


# -- LRUA: a hand-worked 3-step example -------------------------------------------------------
def test_lrua_first_step_by_hand():
    """2 heads, 4 rows of width 2, the initial state of the reference code, alpha = 0."""
    memory = np.full((4, 2), 1e-6)
    usage = np.array([1.0, 0.0, 0.0, 0.0])  # one-hot on row 0
    previous_read = np.array([[1.0, 0, 0, 0], [1.0, 0, 0, 0]])
    keys = np.array([[1.0, 0.0], [0.0, 1.0]])
    got = run_lrua(lrua_layer(2, [0.0, 0.0]), (memory, usage, previous_read), keys)
    # Least used: rows 1 and 2 (row 0 has usage 1; ties go to the lower row). sigma(0) = 1/2.
    np.testing.assert_allclose(
        got["write_weights"], [[0.5, 0.5, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0]], atol=1e-7
    )
    # Row 1, the least used, is zeroed before the write: it holds half of key 0 only.
    np.testing.assert_allclose(got["memory"][1], [0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(got["memory"][0], [0.5 + 1e-6, 0.5 + 1e-6], rtol=1e-6)
    np.testing.assert_allclose(got["memory"][2], [1e-6, 0.5 + 1e-6], rtol=1e-6)
    np.testing.assert_allclose(got["memory"][3], [1e-6, 1e-6], rtol=1e-6)
    # Usage: 0.95 * [1, 0, 0, 0] + the reads of both heads + the writes [1, 1/2, 1/2, 0].
    reads = got["read_weights"]
    np.testing.assert_allclose(reads.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        got["usage"], [0.95 + 1.0, 0.5, 0.5, 0.0] + reads.sum(axis=0), rtol=1e-6
    )


def test_lrua_three_steps_match_numpy():
    """Three steps with other gates and keys each step, every quantity against numpy."""
    memory = np.full((4, 2), 1e-6)
    usage = np.array([1.0, 0.0, 0.0, 0.0])
    previous_read = np.array([[1.0, 0, 0, 0], [1.0, 0, 0, 0]])
    steps = [
        ([0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]]),
        ([2.0, -1.0], [[0.6, -0.8], [0.3, 0.4]]),
        ([-3.0, 0.5], [[-0.5, 0.2], [0.9, 0.1]]),
    ]
    got_steps = []
    for gates, keys in steps:
        expected = numpy_lrua_step(memory, usage, previous_read, np.array(keys), np.array(gates))
        got = run_lrua(lrua_layer(2, gates), (memory, usage, previous_read), keys)
        for name in ("write_weights", "memory", "read_weights", "reads", "usage"):
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-6)
        got_steps.append(dict(got, least_used=np.argmax(expected["least_used"], axis=1)))
        memory, usage, previous_read = got["memory"], got["usage"], got["read_weights"]
    first, second, third = got_steps

    # Worked by hand. Step 1: head 0's key [1, 0] has cosines 0.7071, 1, ~0, 0.001 with rows
    # [.5, .5], [.5, 0], [0, .5], [0, 0] (+1e-6 each, but row 1 zeroed): softmax 0.3006,
    # 0.4029, 0.1482, 0.1484; usage 0.95 * 1 + reads + writes [1, .5, .5, 0].
    np.testing.assert_allclose(
        first["read_weights"][0], [0.30058, 0.40286, 0.14821, 0.14835], atol=2e-5
    )
    np.testing.assert_allclose(first["usage"], [2.55115, 1.05107, 1.05107, 0.29671], atol=2e-5)
    # Step 2: rows 1 and 2 tie on usage (the heads are symmetric); the tie goes to row 1, so
    # head 0 takes row 3 and head 1 row 1. Head 0: sigma(2) = 0.8808 of the last read, 0.1192
    # on row 3.
    np.testing.assert_array_equal(second["least_used"], [3, 1])
    sigma = 1.0 / (1.0 + np.exp(-2.0))
    np.testing.assert_allclose(
        second["write_weights"][0],
        sigma * first["read_weights"][0] + (1.0 - sigma) * np.eye(4)[3],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        second["write_weights"][0], [0.26475, 0.35484, 0.13054, 0.24987], atol=2e-5
    )
    # Step 3: usage [3.28, 2.65, 1.65, 1.11]: rows 3 then 2. Row 3 held [0.162, -0.184] and is
    # zeroed: it holds only this step's writes, 0.97313 k_0 + 0.0667 k_1.
    np.testing.assert_allclose(second["usage"], [3.28296, 2.65406, 1.65329, 1.11218], atol=2e-5)
    np.testing.assert_array_equal(third["least_used"], [3, 2])
    np.testing.assert_allclose(second["memory"][3], [0.16189, -0.18394], atol=2e-5)
    keys = np.array(steps[2][1])
    np.testing.assert_allclose(
        third["memory"][3], third["write_weights"][:, 3] @ keys, rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(third["memory"][3], [-0.42653, 0.2013], atol=2e-5)


def test_least_used_weights_sum_to_the_papers_indicator_of_the_n_smallest_usages():
    rng = np.random.default_rng(1)
    usage = rng.uniform(size=(5, 9)).astype("float32")
    weights = np.asarray(least_used_weights(usage, 3))
    assert weights.shape == (5, 3, 9)
    nth_smallest = np.sort(usage, axis=1)[:, 2:3]
    np.testing.assert_array_equal(weights.sum(axis=1), (usage <= nth_smallest).astype("float32"))
    # Head h takes the h-th least used row.
    np.testing.assert_array_equal(np.argmax(weights, axis=2), np.argsort(usage, axis=1)[:, :3])


def test_only_the_least_used_row_is_zeroed_before_the_write():
    rng = np.random.default_rng(2)
    memory = rng.normal(size=(1, 5, 3)).astype("float32")
    usage = np.array([[0.7, 0.9, 0.2, 0.3, 0.5]], "float32")  # least used: row 2, then row 3
    zeroed = np.asarray(zero_least_used(memory, least_used_weights(usage, 2)))
    expected = memory.copy()
    expected[0, 2] = 0.0
    np.testing.assert_array_equal(zeroed, expected)

    # Through the layer, all on the least-used rows (alpha very negative): row 2 then holds
    # the first key alone, row 3 its old content plus the second key.
    keys = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], "float32")
    previous_read = np.full((2, 5), 0.2, "float32")
    layer = lrua_layer(2, [-40.0, -40.0])
    got = run_lrua(layer, (memory[0], usage[0], previous_read), keys)
    np.testing.assert_allclose(got["memory"][2], keys[0], atol=1e-6)
    np.testing.assert_allclose(got["memory"][3], memory[0, 3] + keys[1], atol=1e-6)
    for row in (0, 1, 4):
        np.testing.assert_allclose(got["memory"][row], memory[0, row], atol=1e-6)


def test_lrua_with_add_vectors_writes_them_instead_of_the_keys():
    """write_vector="add", by hand: 2 heads, 4 rows of width 2, 3 controller units, alpha = 0.

    M_t = M_{t-1} (least used row zeroed) + sum_h w^w_t(h) outer a_t(h), with
    a_t = tanh(W_a h_t + b_a); the same gates give the key-writing layer the same w^w_t.
    """
    rng = np.random.default_rng(10)
    memory = rng.normal(size=(4, 2)).astype("float32")
    usage = np.array([0.7, 0.1, 0.9, 0.3], "float32")  # least used: row 1, then row 3
    previous_read = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]], "float32")
    keys = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    hidden = np.array([0.5, -1.0, 2.0], "float32")
    add_kernel = rng.normal(size=(3, 4)).astype("float32")
    add_bias = rng.normal(size=4).astype("float32")
    layer = LeastRecentlyUsedAccess(2, GAMMA, write_vector="add", memory_width=2)
    layer.build((None, 3))
    layer.gate.set_weights([np.zeros((3, 2), "float32"), np.zeros(2, "float32")])
    layer.add_vector.set_weights([add_kernel, add_bias])
    inputs = [x[None] for x in (hidden, keys, memory, usage, previous_read)]
    written, writes = (np.asarray(x)[0] for x in layer(*inputs))

    adds = np.tanh(hidden @ add_kernel + add_bias).reshape(2, 2)  # row h: a_t(h)
    expected_writes = 0.5 * previous_read + 0.5 * np.eye(4)[[1, 3]]  # sigma(0) = 1/2
    zeroed = memory.copy()
    zeroed[1] = 0.0
    expected = zeroed + sum(np.outer(w, a) for w, a in zip(expected_writes, adds, strict=True))
    np.testing.assert_allclose(writes, expected_writes, rtol=1e-6)
    np.testing.assert_allclose(written, expected, rtol=1e-5, atol=1e-6)

    keys_written, key_writes = (np.asarray(x)[0] for x in lrua_layer(2, [0.0, 0.0])(*inputs))
    np.testing.assert_allclose(key_writes, writes, rtol=1e-6)
    key_memory = zeroed + expected_writes.T @ keys
    np.testing.assert_allclose(keys_written, key_memory, rtol=1e-5, atol=1e-6)
    assert np.abs(keys_written - written).max() > 0.1


# -- the whole step ---------------------------------------------------------------------------
def numpy_cell_step(cell, x, previous_label, state):
    """One `MANNCell` step in numpy: controller, keys (and add vectors), LRUA, read, output."""
    weights = [np.asarray(w, "float64") for w in cell.get_weights()]
    kernel, recurrent, bias, key_w, key_b, gate_w, gate_b = weights[:7]
    out_w, out_b = weights[-2:]
    memory, usage, previous_read, _, reads, hidden, c = (np.asarray(s, "float64")[0] for s in state)
    z = np.concatenate([x, previous_label, reads]) @ kernel + hidden @ recurrent + bias
    i, f, g, o = np.split(z, 4)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    hidden = sigmoid(o) * np.tanh(c)
    shape = (cell.read_heads, cell.memory_width)
    keys = np.tanh(hidden @ key_w + key_b).reshape(shape)
    gates = hidden @ gate_w + gate_b
    adds = None
    if cell.write_vector == "add":  # a_t = tanh(W_a h_t + b_a), the LRUA's weights after alpha's
        add_w, add_b = weights[7:9]
        adds = np.tanh(hidden @ add_w + add_b).reshape(shape)
    step = numpy_lrua_step(memory, usage, previous_read, keys, gates, adds)
    reads = step["reads"].reshape(-1)
    logits = np.concatenate([hidden, reads]) @ out_w + out_b
    writes = step["write_weights"].sum(axis=0)
    new_state = (step["memory"], step["usage"], step["read_weights"], writes, reads, hidden, c)
    return logits, [s[None] for s in new_state]


@pytest.mark.parametrize("write_vector", ["key", "add"])
def test_cell_steps_match_numpy_from_the_initial_state(write_vector):
    keras.utils.set_random_seed(3)
    sizes = {"controller_units": 5, "memory_rows": 6, "memory_width": 4, "read_heads": 2}
    cell = MANNCell(3, **sizes, write_vector=write_vector)
    cell.build((None, 7))
    assert len(cell.get_weights()) == {"key": 9, "add": 11}[write_vector]
    state = cell.initial_state(1)
    np.testing.assert_array_equal(state.memory, np.full((1, 6, 4), 1e-6, "float32"))
    np.testing.assert_array_equal(state.usage, [[1, 0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(state.read_weights, [[[1, 0, 0, 0, 0, 0]] * 2])
    rng = np.random.default_rng(3)
    expected_state = [np.asarray(s, "float64") for s in state]
    for label in (None, 2, 0):
        x = rng.uniform(size=7)
        previous = np.zeros(3) if label is None else np.eye(3)[label]
        logits, state = cell(x[None].astype("float32"), previous[None].astype("float32"), state)
        expected_logits, expected_state = numpy_cell_step(cell, x, previous, expected_state)
        np.testing.assert_allclose(logits[0], expected_logits, rtol=1e-4, atol=1e-5)
        for got, expected in zip(state, expected_state, strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


# -- what each head writes (the option write_vector) -------------------------------------------
def random_sequences(seed=11):
    """Raw images `[2, 6, 8, 8, 1]` and their labels `[2, 6]`, for `sequence_logits`."""
    images = np.random.default_rng(seed).uniform(0, 255, (2, 6, 8, 8, 1)).astype("float32")
    return images, np.array([[0, 1, 2, 0, 1, 2], [2, 2, 1, 0, 1, 0]], "int32")


def test_the_default_has_no_add_weights_and_the_add_vectors_change_the_logits():
    default, adding = seeded_mann(), seeded_mann(write_vector="add")
    assert default.get_config()["write_vector"] == "key"
    paths = [w.path for w in default.weights]
    assert len(paths) == 9 and not [path for path in paths if "add" in path]
    extra = {w.path: tuple(w.shape) for w in adding.weights if w.path not in paths}
    assert extra == {"mann_cell/lrua/add/kernel": (16, 12), "mann_cell/lrua/add/bias": (12,)}

    # The key-writing model with every other weight of the add-writing one: other logits.
    default.set_weights([w for w in adding.weights if w.path in paths])
    images, labels = random_sequences()
    keys_logits = np.asarray(default.sequence_logits(images, labels))
    adds_logits = np.asarray(adding.sequence_logits(images, labels))
    assert np.abs(keys_logits - adds_logits).max() > 1e-4


def test_add_vectors_round_trip_through_the_config_and_a_keras_file(tmp_path):
    learner = seeded_mann(write_vector="add")
    images, labels = random_sequences()
    expected = np.asarray(learner.sequence_logits(images, labels))

    config = learner.get_config()
    assert config["write_vector"] == "add"
    restored = zoo.MANN.from_config(config).build_for_episode(3, 2)
    assert restored.get_config() == config
    restored.set_weights(learner.get_weights())
    np.testing.assert_array_equal(restored.sequence_logits(images, labels), expected)

    path = str(tmp_path / "mann.keras")
    learner.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.get_config() == config
    np.testing.assert_array_equal(loaded.sequence_logits(images, labels), expected)
    # Its adapted classifier's cell writes the add vectors too.
    episode, _ = random_episode(ways=3, shots=2, seed=12)
    assert_adapted_matches_learner(loaded, episode, 3)

    # A config saved before the option (no write_vector) writes the keys.
    old = {key: value for key, value in config.items() if key != "write_vector"}
    assert zoo.MANN.from_config(old).cell.write_vector == "key"


def test_a_bad_write_vector_is_refused():
    with pytest.raises(ValueError, match="write_vector must be one of"):
        zoo.MANN(write_vector="value")
    with pytest.raises(ValueError, match="write_vector must be one of"):
        LeastRecentlyUsedAccess(2, write_vector="erase", memory_width=4)
    with pytest.raises(ValueError, match="memory_width"):
        LeastRecentlyUsedAccess(2, write_vector="add")
    with pytest.raises(ValueError, match="option of LRUA"):
        MANNCell(3, addressing="ntm", write_vector="add")


# -- NTM-style addressing (the option addressing="ntm") ----------------------------------------
def softplus(x):
    return np.log1p(np.exp(x))


def numpy_ntm_address(raw, key, memory, previous):
    """One NTM head's weights (Graves et al. 2014, eqs. 5-9), with loops."""
    rows = len(memory)
    strength, gate, sharpness = softplus(raw[0]), sigmoid(raw[1]), 1.0 + softplus(raw[2])
    shifts = np.exp(raw[3:6]) / np.exp(raw[3:6]).sum()  # s(-1), s(0), s(1)
    content = np.exp(strength * numpy_cosines(key[None], memory)[0])
    content /= content.sum()
    interpolated = gate * content + (1.0 - gate) * previous
    shifted = np.zeros(rows)
    for i in range(rows):
        for j in range(rows):
            offset = (i - j) % rows  # s(i - j), circular
            if offset in (rows - 1, 0, 1):
                shifted[i] += interpolated[j] * shifts[{rows - 1: 0, 0: 1, 1: 2}[offset]]
    sharpened = shifted**sharpness
    return sharpened / sharpened.sum()


def test_ntm_shift_is_a_circular_convolution():
    from zoo.mann.ntm import shift

    weights = np.array([[[0.1, 0.2, 0.3, 0.4]]], "float32")
    to_the_right = np.array([[[0.0, 0.0, 1.0]]], "float32")  # all on the shift +1
    np.testing.assert_allclose(shift(weights, to_the_right)[0, 0], [0.4, 0.1, 0.2, 0.3])
    mixed = np.array([[[0.5, 0.25, 0.25]]], "float32")  # s(-1), s(0), s(1)
    expected = [0.5 * 0.2 + 0.25 * 0.1 + 0.25 * 0.4, 0.5 * 0.3 + 0.25 * 0.2 + 0.25 * 0.1]
    np.testing.assert_allclose(shift(weights, mixed)[0, 0, :2], expected, rtol=1e-6)


def test_ntm_cell_step_matches_numpy():
    keras.utils.set_random_seed(4)
    rows, width, heads, units = 5, 3, 2, 4
    cell = MANNCell(3, units, rows, width, heads, addressing="ntm")
    cell.build((None, 6))
    rng = np.random.default_rng(4)
    state = cell.initial_state(1)
    for step in range(3):
        x = rng.uniform(size=(1, 6)).astype("float32")
        previous = np.eye(3, dtype="float32")[[step]]
        memory, _, previous_read, previous_write = (np.asarray(p, "float64")[0] for p in state[:4])
        logits, state = cell(x, previous, state)

        weights = [np.asarray(w, "float64") for w in cell.get_weights()]
        key_w, key_b, read_w, read_b, write_w, write_b, out_w, out_b = weights[3:]
        hidden = np.asarray(state.hidden, "float64")[0]  # the controller: as in the LRUA test
        # The write head: address, erase, add.
        raw = hidden @ write_w + write_b
        write_key = np.tanh(raw[6 : 6 + width])
        erase, add = sigmoid(raw[6 + width : 6 + 2 * width]), np.tanh(raw[6 + 2 * width :])
        writes = numpy_ntm_address(raw[:6], write_key, memory, previous_write)
        written = memory * (1.0 - np.outer(writes, erase)) + np.outer(writes, add)
        # The read heads, with the cell's keys, in the written memory.
        keys = np.tanh(hidden @ key_w + key_b).reshape(heads, width)
        raw = (hidden @ read_w + read_b).reshape(heads, 6)
        reads_w = np.stack(
            [numpy_ntm_address(raw[h], keys[h], written, previous_read[h]) for h in range(heads)]
        )
        reads = (reads_w @ written).reshape(-1)
        np.testing.assert_allclose(state.write_weights[0], writes, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(state.memory[0], written, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(state.read_weights[0], reads_w, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(state.reads[0], reads, rtol=1e-4, atol=1e-6)
        expected = np.concatenate([hidden, reads]) @ out_w + out_b
        np.testing.assert_allclose(logits[0], expected, rtol=1e-4, atol=1e-5)


# -- episodes as sequences --------------------------------------------------------------------
def test_presentation_order_is_shot_by_shot_with_classes_in_label_order():
    labels = np.array([2, 0, 0, 1, 2, 1], "int32")
    order = np.asarray(presentation_order(labels, 3))
    np.testing.assert_array_equal(order, [1, 3, 0, 2, 5, 4])
    np.testing.assert_array_equal(labels[order], [0, 1, 2, 0, 1, 2])


def test_support_sequence_presents_each_label_one_step_late_then_a_last_label_step():
    learner = seeded_mann()
    episode, _ = random_episode(ways=3, shots=2, seed=4)
    support = learner.preprocessing(episode["support_images"])
    labels = episode["support_labels"]  # class-major: 0 0 1 1 2 2
    state = learner.support_state(learner.flatten(support)[None], labels[None])

    features = np.asarray(learner.flatten(support))
    order = [0, 2, 4, 1, 3, 5]  # shot by shot
    cell = learner.cell
    expected = cell.initial_state(1)
    previous = np.zeros((1, 3), "float32")
    for index in order:
        _, expected = cell(features[index : index + 1], previous, expected)
        previous = np.eye(3, dtype="float32")[labels[index : index + 1]]
    _, expected = cell(np.zeros((1, features.shape[1]), "float32"), previous, expected)
    for got, want in zip(state, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_sequence_logits_see_each_label_one_step_late():
    learner = seeded_mann()
    rng = np.random.default_rng(5)
    images = rng.uniform(0, 255, (2, 6, 8, 8, 1)).astype("float32")
    labels = np.array([[0, 1, 2, 0, 1, 2], [2, 2, 1, 0, 1, 0]], "int32")
    logits = np.asarray(learner.sequence_logits(images, labels))
    assert logits.shape == (2, 6, 3)
    changed = labels.copy()
    changed[:, 3] = (changed[:, 3] + 1) % 3
    other = np.asarray(learner.sequence_logits(images, changed))
    np.testing.assert_allclose(other[:, :4], logits[:, :4], rtol=1e-6)  # not yet seen at step 3
    assert np.abs(other[:, 4:] - logits[:, 4:]).max() > 1e-6  # an input from step 4 on


def test_the_class_to_label_assignment_is_drawn_per_episode_and_fixed_per_seed():
    classes = 12
    images = np.broadcast_to(
        np.arange(classes, dtype="float32")[:, None, None, None], (12, 4, 2, 2)
    )
    rows = np.arange(classes, dtype="int32")

    def class_of_each_label(seed, index):
        sampler = EpisodeSampler(images, rows, np.zeros_like(rows), 5, 1, 1, seed)
        episode, _ = sampler.episode(index)
        return tuple(int(v) for v in np.asarray(episode["support_images"])[:, 0, 0, 0])

    assignments = {class_of_each_label(0, index) for index in range(6)}
    assert len(assignments) == 6
    assert class_of_each_label(0, 3) == class_of_each_label(0, 3)
    assert class_of_each_label(1, 3) != class_of_each_label(0, 3)


# -- state between episodes and queries -------------------------------------------------------
def test_memory_is_not_carried_across_episodes():
    learner = seeded_mann()
    tasks = [random_episode(ways=3, shots=2, queries=2, seed=seed)[0] for seed in (6, 7)]
    alone = [np.asarray(learner(task)) for task in tasks]
    for order in ((0, 1), (1, 0)):
        batch = {key: np.stack([tasks[i][key] for i in order]) for key in tasks[0]}
        logits = np.asarray(learner(batch))
        for position, index in enumerate(order):
            np.testing.assert_allclose(logits[position], alone[index], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(learner(tasks[0]), alone[0])  # nothing kept between calls


def test_each_query_is_classified_on_its_own_and_the_order_of_classes_does_not_matter():
    learner = seeded_mann()
    episode, _ = random_episode(ways=3, shots=2, queries=3, seed=8)
    classifier = learner.adapt(episode["support_images"], episode["support_labels"])
    queries = episode["query_images"]
    together = np.asarray(classifier(queries))
    for index in range(len(queries)):
        alone = np.asarray(classifier(queries[index : index + 1]))
        np.testing.assert_allclose(alone[0], together[index], rtol=1e-5, atol=1e-6)

    # The classes interleaved otherwise, each class's examples in the same order.
    shuffle = np.array([4, 0, 2, 5, 1, 3])  # labels 2 0 1 2 0 1
    shuffled = learner.adapt(episode["support_images"][shuffle], episode["support_labels"][shuffle])
    np.testing.assert_allclose(shuffled(queries), together, rtol=1e-5, atol=1e-6)


def test_the_adapted_classifier_holds_the_state_after_the_support_sequence():
    learner = seeded_mann()
    episode, _ = random_episode(ways=3, shots=2, seed=9)
    classifier = learner.adapt(episode["support_images"], episode["support_labels"])
    (head,) = [layer for layer in classifier.layers if isinstance(layer, zoo.MANNClassifier)]
    support = learner.flatten(learner.preprocessing(episode["support_images"]))
    state = learner.support_state(support[None], episode["support_labels"][None])
    for weight, value in zip(head.state_weights(), state, strict=True):
        np.testing.assert_allclose(weight, np.asarray(value)[0], rtol=1e-5, atol=1e-6)
    for copied, original in zip(head.cell.weights, learner.cell.weights, strict=True):
        np.testing.assert_array_equal(copied, original)
    assert {w.path.split("/")[-1] for w in head.non_trainable_weights} == {
        "usage",
        "read_weights",
        "write_weights",
    }


def test_new_tasks_share_one_compiled_forward_pass_traced_once():
    """The controller's `LSTMCell` has a seed generator: its state is one of the variables the
    shared pass takes, so MANN's classifiers share it instead of each tracing its own."""
    learner = seeded_mann()
    classifiers = []
    for seed in range(3):
        episode, _ = random_episode(ways=3, shots=2, seed=seed)
        classifier = learner.adapt(episode["support_images"], episode["support_labels"])
        probabilities = classifier.predict(episode["query_images"], verbose=0)
        keras_probabilities = keras.Model.predict(classifier, episode["query_images"], verbose=0)
        np.testing.assert_allclose(probabilities, keras_probabilities, rtol=1e-5, atol=1e-7)
        classifiers.append(classifier)
    forwards = {id(classifier.shared_forward()) for classifier in classifiers}
    assert len(forwards) == 1 and id(None) not in forwards
    forward = classifiers[0].shared_forward()
    assert forward.function(False, None).experimental_get_tracing_count() == 1
    functions = learner.adaptation_cache._functions
    assert all(function.experimental_get_tracing_count() == 1 for function in functions.values())


def test_layer_configs_round_trip_and_too_many_heads_are_refused():
    cell = MANNCell(4, controller_units=6, memory_rows=5, memory_width=3, read_heads=2, gamma=0.9)
    assert MANNCell.from_config(cell.get_config()).get_config() == cell.get_config()
    for lrua in (LeastRecentlyUsedAccess(3, 0.8), LeastRecentlyUsedAccess(3, 0.8, "add", 5)):
        config = lrua.get_config()
        assert LeastRecentlyUsedAccess.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="read heads"):
        MANNCell(3, memory_rows=2, read_heads=4)
    assert isinstance(MemoryState(*range(7)).memory, int)


def test_the_recipes_have_no_paper_number_and_their_metadata_say_so():
    from training import recipes, train

    for name in ("mann_omniglot", "mann_omniglot_5shot"):
        recipe = recipes.get_recipe(name)
        learner = recipes.build_learner(recipe)
        assert isinstance(learner, zoo.MANN) and learner.image_size == 20
        for preset in recipe["presets"]:
            state = {"steps": 10, "seconds": 1.0}
            metadata = train.preset_metadata(name, preset, state, {"accuracy": 90.0, "ci95": 1.0})
            assert metadata["paper_accuracy"] is None and metadata["meets_paper"] is None
            assert not metadata["transductive"]


# -- the paper's protocol: sequences, accuracy per instance -----------------------------------
def class_id_sampler(classes=3, instances=4, seed=0, characters=10, random_pixels=False):
    """A `SequenceSampler` whose images are filled with their character's index (or random
    pixels, with the index in pixel (0, 0))."""
    from training.sequences import SequenceSampler

    images = np.broadcast_to(
        np.arange(characters, dtype="float32")[:, None, None, None], (characters, 6, 8, 8)
    )
    if random_pixels:
        images = np.random.default_rng(seed).uniform(0, 255, images.shape).astype("float32")
        images[:, :, 0, 0] = np.arange(characters)[:, None]
    rows = np.arange(characters, dtype="int32")
    return SequenceSampler(images, rows, np.zeros_like(rows), classes, instances, seed)


def test_sequence_episodes_shuffle_the_order_and_the_labels_per_episode_fixed_per_seed():
    sampler = class_id_sampler()
    seen_orders, seen_assignments = set(), set()
    for index in range(5):
        sequence, labels = sampler.episode(index)
        images, labels = np.asarray(sequence["images"]), np.asarray(labels)
        assert images.shape == (12, 8, 8, 1)
        np.testing.assert_array_equal(np.bincount(labels), [4, 4, 4])
        characters = images[:, 0, 0, 0].astype(int)
        assignment = {int(label): int(c) for label, c in zip(labels, characters, strict=True)}
        assert len(assignment) == 3  # one character per label
        seen_orders.add(tuple(labels))
        seen_assignments.add(tuple(sorted(assignment.items())))
    assert len(seen_orders) == 5 and len(seen_assignments) > 1
    again, _ = class_id_sampler().episode(3)
    np.testing.assert_array_equal(again["images"], class_id_sampler().episode(3)[0]["images"])
    other, _ = class_id_sampler(seed=1).episode(3)
    assert not np.array_equal(other["images"], again["images"])


def test_instance_numbers_count_the_presentations_of_each_class():
    from training.sequences import instance_numbers

    got = instance_numbers(np.array([[2, 0, 2, 2, 0], [1, 1, 0, 1, 0]]))
    np.testing.assert_array_equal(got, [[1, 1, 2, 3, 2], [1, 2, 1, 3, 2]])


def test_instance_accuracy_averages_each_presentation_over_classes_then_episodes():
    from training.evaluate import confidence_interval
    from training.sequences import instance_accuracy, instance_numbers, instance_table

    learner = seeded_mann()
    sampler = class_id_sampler(seed=2)
    result = instance_accuracy(learner, sampler, episodes=3, batch=2)
    assert result["episodes"] == 3 and len(result["accuracy"]) == 4

    sequences = [sampler.episode(index) for index in range(3)]
    images = np.stack([np.asarray(s["images"]) for s, _ in sequences])
    labels = np.stack([np.asarray(y) for _, y in sequences])
    correct = np.argmax(np.asarray(learner.sequence_logits(images, labels)), -1) == labels
    numbers = instance_numbers(labels)
    for k in range(1, 5):
        per_episode = [correct[b][numbers[b] == k].mean() for b in range(3)]
        mean, ci = confidence_interval(per_episode)
        assert result["accuracy"][k - 1] == pytest.approx(mean)
        assert result["ci95"][k - 1] == pytest.approx(ci)
    table = instance_table(result, paper={1: 36.4, 2: 82.8})
    assert table.splitlines()[0] == "| | 1st | 2nd | 3rd | 4th |"
    assert table.splitlines()[-1] == "| paper | 36.4 | 82.8 |  |  |"


def test_sequence_trainer_fits_the_learner_at_every_step(tmp_path):
    from PIL import Image

    from training.sequences import SequenceTrainer, write_instance_curve

    learner = seeded_mann()
    before = [np.array(w) for w in learner.get_weights()]
    trainer = SequenceTrainer(learner)
    trainer.compile(keras.optimizers.Adam(3e-2))
    sampler = class_id_sampler(seed=3, random_pixels=True)
    sequences = sampler.dataset(episodes=4, batch=4).take(1).cache()
    history = trainer.fit(sequences, epochs=60, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0], history
    assert any(not np.array_equal(a, b) for a, b in zip(before, learner.get_weights(), strict=True))

    result = {"accuracy": [40.0, 80.0, 90.0], "ci95": [2.0, 1.0, 1.0], "classes": 5}
    path = write_instance_curve(dict(result, instances=3), tmp_path / "curve.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (640, 400)


def test_rotate_and_shift_against_numpy():
    """A quarter turn is numpy's rot90 (counterclockwise on screen); a whole-pixel shift moves
    every pixel by (dx, dy) = (right, down); a half-pixel shift interpolates bilinearly."""
    from training.sequences import rotate_and_shift

    image = np.zeros((7, 7), "float32")
    image[2:4, 2] = [1.0, 2.0]  # strokes away from the border, which is extended
    image[4, 3:5] = [3.0, 4.0]
    batch = np.stack([image] * 4)[..., None]
    theta = np.array([np.pi / 2, 0.0, np.pi / 2, 0.0], "float32")
    offset = np.array([[0, 0], [1, -2], [1, 0], [0.5, 0]], "float32")
    out = np.asarray(rotate_and_shift(batch, theta, offset))[..., 0]
    np.testing.assert_allclose(out[0], np.rot90(image), atol=1e-5)
    np.testing.assert_allclose(out[1], np.roll(image, (-2, 1), axis=(0, 1)), atol=1e-5)
    np.testing.assert_allclose(out[2], np.roll(np.rot90(image), 1, axis=1), atol=1e-5)
    half = (image + np.roll(image, 1, axis=1)) / 2  # bilinear: the mean of the two neighbours
    np.testing.assert_allclose(out[3], half, atol=1e-5)


def test_perturbed_sequences_stay_within_their_ranges_and_follow_the_seed():
    """`perturb` changes the images and nothing else of an episode; 0 degrees and no shift
    leave them exact; each angle stays within its range (checked on a single dot's centre)."""
    from training.sequences import perturb_images

    plain = class_id_sampler(seed=4, random_pixels=True)
    sampler = class_id_sampler(seed=4, random_pixels=True)
    sampler.perturb = {"degrees": 11.25, "shift": 0.1}
    (x, y), (px, py) = plain.episode(2), sampler.episode(2)
    np.testing.assert_array_equal(y, py)
    assert not np.allclose(x["images"], px["images"])
    again, _ = sampler.episode(2)
    np.testing.assert_array_equal(again["images"], px["images"])
    sampler.perturb = {"degrees": 0.0, "shift": 0.0}
    np.testing.assert_allclose(sampler.episode(2)[0]["images"], x["images"], atol=1e-4)
    with pytest.raises(ValueError, match="perturb"):
        type(plain)(np.zeros((3, 6, 8, 8)), np.arange(3), np.zeros(3, int), 2, 4, perturb={"d": 1})

    dot = np.zeros((200, 41, 41, 1), "float32")
    dot[:, 20, 30] = 1.0  # 10 pixels right of the centre
    moved = np.asarray(perturb_images(dot, np.array([1, 2]), degrees=30.0, shift=0.0))[..., 0]
    rows, cols = np.indices((41, 41))
    mass = moved.sum(axis=(1, 2))
    dy = (moved * rows).sum(axis=(1, 2)) / mass - 20
    dx = (moved * cols).sum(axis=(1, 2)) / mass - 20
    angles = np.degrees(np.arctan2(-dy, dx))  # counterclockwise on screen
    assert np.abs(angles).max() <= 30.5 and np.abs(angles).max() > 25  # uniform in +-30
    assert np.all(np.abs(np.hypot(dx, dy) - 10) < 0.5)  # a turn about the centre


@pytest.mark.omniglot
def test_only_training_sequences_are_perturbed(omniglot_path):
    from training import sequence_recipes
    from training.recipes import RECIPES

    recipe = RECIPES["mann_omniglot_5class_perturbed"]
    assert recipe["train"]["perturb"] == {"degrees": 11.25, "shift": 0.1}
    assert sequence_recipes.sequence_sampler(recipe, omniglot_path, "test").perturb is None
    train = sequence_recipes.sequence_sampler(recipe, omniglot_path, "trainval")
    assert train.perturb == recipe["train"]["perturb"]
    fields = sequence_recipes.preset_fields(recipe, "mann_omniglot_5class")
    assert "11.25 degrees" in fields["augmentation"] and "none at test" in fields["augmentation"]
    plain = sequence_recipes.preset_fields(RECIPES["mann_omniglot_5class"], "mann_omniglot_5class")
    assert plain["augmentation"] == "none"


@pytest.mark.omniglot
def test_a_string_label_recipe_samples_and_records_string_labels(omniglot_path):
    from training import sequence_recipes
    from training.recipes import RECIPES

    recipe = RECIPES["mann_omniglot_15class_strings"]
    learner = sequence_recipes.recipes.build_learner(recipe)
    assert learner.cell.labels == "strings"
    sampler = sequence_recipes.sequence_sampler(recipe, omniglot_path, "test")
    labels = np.asarray(sampler.episode(0)[1])
    assert sampler.labels == "strings" and len(set(labels)) == 15 and labels.max() < 3125
    fields = sequence_recipes.preset_fields(recipe, "mann_omniglot_15class_strings")
    assert fields["labels"].startswith("strings of 5 characters")
    one_hot = RECIPES["mann_omniglot_15class"]
    assert sequence_recipes.sequence_sampler(one_hot, omniglot_path, "test").labels == "one_hot"


@pytest.mark.omniglot
def test_omniglot_sequences_of_the_test_split(omniglot_path):
    from training.sequences import omniglot_sequences

    sampler = omniglot_sequences(omniglot_path, "test", classes=15, instances=10, seed=0)
    assert len(np.asarray(sampler.rows)) == 1692  # 423 characters x 4 rotations
    sequence, labels = sampler.episode(0)
    assert sequence["images"].shape == (150, 20, 20, 1)
    np.testing.assert_array_equal(np.bincount(np.asarray(labels)), [10] * 15)


def test_sequence_training_resumes_where_it_stopped(tmp_path):
    from training.sequences import train_sequences

    sampler = class_id_sampler(seed=5, random_pixels=True)
    settings = {"steps_per_epoch": 2, "batch": 2, "learning_rate": 1e-2, "verbose": 0}
    whole, state = train_sequences(seeded_mann(), sampler, tmp_path / "a", 6, **settings)
    assert state["steps"] == 6

    train_sequences(seeded_mann(), sampler, tmp_path / "b", 2, **settings)
    resumed, state = train_sequences(seeded_mann(seed=9), sampler, tmp_path / "b", 6, **settings)
    assert state["steps"] == 6
    for a, b in zip(whole.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


# -- string labels (the paper's 15-class experiments) -----------------------------------------
def numpy_string_log_probabilities(logits):
    """log p(s) for all 3125 strings, by a loop over their characters."""
    characters = logits.reshape(5, 5)
    log_softmax = characters - np.log(np.exp(characters).sum(axis=1, keepdims=True))
    scores = np.zeros(5**5)
    for s in range(5**5):
        digits = [(s // 5 ** (4 - c)) % 5 for c in range(5)]
        scores[s] = sum(log_softmax[c, d] for c, d in enumerate(digits))
    return scores


def test_string_labels_are_five_base_5_characters_one_hot_each():
    from zoo.mann.string_labels import five_hot, string_characters

    ids = np.array([0, 7, 3124, 1 * 625 + 2 * 125 + 3 * 25 + 4 * 5])
    np.testing.assert_array_equal(
        string_characters(ids), [[0, 0, 0, 0, 0], [0, 0, 0, 1, 2], [4] * 5, [1, 2, 3, 4, 0]]
    )
    encoded = np.asarray(five_hot(ids))
    assert encoded.shape == (4, 25)
    np.testing.assert_array_equal(encoded.sum(axis=1), [5, 5, 5, 5])
    np.testing.assert_array_equal(np.flatnonzero(encoded[1]), [0, 5, 10, 16, 22])


def test_string_log_probabilities_against_numpy_and_the_sum_of_character_cross_entropies():
    from zoo.mann.string_labels import string_log_probabilities

    logits = np.random.default_rng(0).normal(0, 2, (2, 25)).astype("float32")
    scores = np.asarray(string_log_probabilities(logits))
    assert scores.shape == (2, 3125)
    for row in range(2):
        np.testing.assert_allclose(
            scores[row], numpy_string_log_probabilities(logits[row]), rtol=1e-5, atol=1e-5
        )
    # normalized: the cross-entropy of a string is the sum of its characters' own
    np.testing.assert_allclose(np.log(np.exp(scores).sum(axis=1)), [0, 0], atol=1e-5)
    label = np.array([7, 3000])
    loss = keras.losses.sparse_categorical_crossentropy(label, scores, from_logits=True)
    characters = logits.reshape(2, 5, 5)
    digits = np.array([[(s // 5 ** (4 - c)) % 5 for c in range(5)] for s in label])
    by_character = [
        keras.losses.sparse_categorical_crossentropy(digits[b], characters[b], from_logits=True)
        for b in range(2)
    ]
    np.testing.assert_allclose(loss, np.sum(by_character, axis=1), rtol=1e-5)
    best = characters.argmax(axis=2) @ (5 ** np.arange(4, -1, -1))
    np.testing.assert_array_equal(scores.argmax(axis=1), best)
    first = np.asarray(string_log_probabilities(logits, 3))
    np.testing.assert_allclose(first, scores[:, :3], rtol=1e-6)
    with pytest.raises(ValueError, match="1 to 3125 strings"):
        string_log_probabilities(logits, 3126)


def test_a_string_label_mann_reads_five_hot_labels_and_scores_classes_as_strings():
    from zoo.mann.string_labels import string_log_probabilities

    learner = seeded_mann(labels="strings")
    cell = learner.cell
    assert cell.label_size == 25 and cell.output_layer.units == 25
    assert learner.get_config()["labels"] == "strings"
    rng = np.random.default_rng(5)
    images = rng.uniform(0, 255, (2, 6, 8, 8, 1)).astype("float32")
    labels = np.array([[7, 3000, 7, 12, 3000, 12], [0, 1, 0, 1, 2, 2]], "int32")
    logits = np.asarray(learner.sequence_logits(images, labels))
    assert logits.shape == (2, 6, 3125)
    np.testing.assert_allclose(np.log(np.exp(logits).sum(-1)), 0, atol=1e-4)
    changed = labels.copy()
    changed[:, 3] = 2024
    other = np.asarray(learner.sequence_logits(images, changed))
    np.testing.assert_allclose(other[:, :4], logits[:, :4], rtol=1e-6)
    assert np.abs(other[:, 4:] - logits[:, 4:]).max() > 1e-6

    # The contract: class j is the string of id j; a query's logits are their log-probabilities.
    episode, _ = random_episode(ways=3, shots=2, queries=2, seed=9)
    got = np.asarray(learner(episode))
    features = learner.flatten(learner.preprocessing(episode["query_images"]))
    state = learner.support_state(
        learner.flatten(learner.preprocessing(episode["support_images"]))[None],
        episode["support_labels"][None],
    )
    flat_state = MemoryState(*(np.repeat(np.asarray(part), 6, axis=0) for part in state))
    raw = cell(features, np.zeros((6, 25), "float32"), flat_state)[0]
    np.testing.assert_allclose(got, string_log_probabilities(raw, 3), rtol=1e-5, atol=1e-5)
    assert_adapted_matches_learner(learner, episode, 3)


def test_string_labels_are_refused_beyond_3125_classes_and_unknown_labels_refused():
    with pytest.raises(ValueError, match="at most 3125 classes"):
        MANNCell(3126, 4, 4, 2, 1, labels="strings")
    with pytest.raises(ValueError, match="labels must be one of"):
        MANNCell(3, 4, 4, 2, 1, labels="five_hot")
    from training.sequences import SequenceSampler

    images = np.zeros((4, 6, 8, 8), "float32")
    rows = np.arange(4, dtype="int32")
    with pytest.raises(ValueError, match="labels must be one of"):
        SequenceSampler(images, rows, np.zeros_like(rows), 3, 4, labels="strs")


def test_string_sequences_draw_distinct_strings_per_episode_the_rest_unchanged():
    from training.sequences import SequenceSampler

    characters = 10
    images = np.broadcast_to(
        np.arange(characters, dtype="float32")[:, None, None, None], (characters, 6, 8, 8)
    )
    rows = np.arange(characters, dtype="int32")

    def sampler(labels, seed=0):
        return SequenceSampler(images, rows, np.zeros_like(rows), 3, 4, seed, labels=labels)

    seen = set()
    for index in range(4):
        (one_hot, ids), (strings, names) = (
            sampler("one_hot").episode(index),
            sampler("strings").episode(index),
        )
        np.testing.assert_array_equal(strings["images"], one_hot["images"])
        ids, names = np.asarray(ids), np.asarray(names)
        assert len(set(names)) == 3 and names.min() >= 0 and names.max() < 3125
        renamed = dict(zip(ids, names, strict=True))  # the same classes, named by strings
        assert len(renamed) == 3
        np.testing.assert_array_equal([renamed[i] for i in ids], names)
        seen.add(tuple(sorted(set(names))))
    assert len(seen) == 4
    np.testing.assert_array_equal(
        sampler("strings").episode(2)[1], sampler("strings").episode(2)[1]
    )
    assert not np.array_equal(sampler("strings", 1).episode(2)[1], sampler("strings").episode(2)[1])
