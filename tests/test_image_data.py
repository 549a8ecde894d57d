"""Your own images: image-folder data sets, RGB models trained and evaluated through `metazoo`.

A small RGB data set is drawn on the fly (coloured procedural shapes: class = shape x colour),
a Prototypical Network and a MAML are meta-trained on it through `metazoo train`, evaluated
on held-out classes and exported to ONNX; each kind of bad data gets its own error.
"""

import json
import os
import shutil

import numpy as np
import onnxruntime
import pytest
from PIL import Image
from test_cli import assert_user_error, run

import zoo
from export.verify import TOLERANCE
from metazoo.commands import train as train_command
from metazoo.image_folders import ImageFolderError, read_support_folder
from training import image_folder, recipes
from training.episodes import EpisodeSampler

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 180, 40),
    "blue": (30, 60, 220),
    "yellow": (230, 210, 20),
    "magenta": (200, 40, 200),
}
SHAPES = ("disc", "square", "triangle", "cross", "ring", "hbar", "vbar", "diamond")


def shape_mask(shape, size, rng):
    """A boolean `[size, size]` mask of `shape`, jittered in place and scale."""
    scale = rng.uniform(0.28, 0.4) * size
    cy, cx = size / 2 + rng.uniform(-2, 2, 2)
    y, x = np.mgrid[:size, :size] + 0.5
    dy, dx = (y - cy) / scale, (x - cx) / scale
    if shape == "disc":
        return dy**2 + dx**2 <= 1
    if shape == "ring":
        return (dy**2 + dx**2 <= 1) & (dy**2 + dx**2 >= 0.4)
    if shape == "square":
        return (abs(dy) <= 0.8) & (abs(dx) <= 0.8)
    if shape == "diamond":
        return abs(dy) + abs(dx) <= 1
    if shape == "triangle":
        return (dy <= 0.8) & (abs(dx) <= (dy + 1) / 2)
    if shape == "cross":
        return ((abs(dy) <= 0.25) | (abs(dx) <= 0.25)) & (abs(dy) <= 1) & (abs(dx) <= 1)
    if shape == "hbar":
        return (abs(dy) <= 0.3) & (abs(dx) <= 1)
    return (abs(dx) <= 0.3) & (abs(dy) <= 1)  # vbar


def draw(shape, colour, size, rng):
    """A uint8 RGB image `[size, size, 3]`: the shape in its colour on a noisy grey ground."""
    image = rng.normal(128, 20, (size, size, 3))
    tint = np.asarray(COLOURS[colour]) + rng.normal(0, 12, 3)
    image[shape_mask(shape, size, rng)] = tint
    return np.clip(image, 0, 255).astype("uint8")


def write_shapes(root, images=20, size=32, seed=0):
    """40 class folders `SHAPE_COLOUR/` of `images` PNGs each; returns the class names."""
    rng = np.random.default_rng(seed)
    names = []
    for shape in SHAPES:
        for colour in COLOURS:
            name = f"{shape}_{colour}"
            os.makedirs(os.path.join(root, name))
            for index in range(images):
                path = os.path.join(root, name, f"{index:02d}.png")
                Image.fromarray(draw(shape, colour, size, rng)).save(path)
            names.append(name)
    return names


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "shapes"
    write_shapes(str(root))
    return root


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Decoded copies go to a folder of the test's own (checked to stay empty on errors)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("METAZOO_CACHE", str(cache))
    return cache


TINY_PROTONET = {
    "algorithm": "PrototypicalNetwork",
    "model": {"filters": 16, "blocks": 3},
    "train": {"ways": 5, "shots": 5, "queries": 5, "tasks_per_batch": None},
    "optimizer": {"learning_rate": 3e-3, "halve_every": None},
    "steps": 200,
    "presets": {"rgb_protonet_5way_1shot": (5, 1)},
    "paper": {(5, 1): None},
    "transductive": False,
    "notes": "a tiny ProtoNet for RGB tests",
}
TINY_MAML = {
    "algorithm": "MAML",
    "model": {"ways": 5, "filters": 16, "blocks": 3, "inner_steps": 1, "eval_inner_steps": 3},
    "train": {"ways": 5, "shots": 1, "queries": 3, "tasks_per_batch": 4},
    "optimizer": {"learning_rate": 3e-3, "halve_every": None},
    "steps": 200,
    "presets": {"rgb_maml_5way_1shot": (5, 1)},
    "paper": {(5, 1): None},
    "transductive": False,
    "notes": "a tiny MAML for RGB tests",
}


@pytest.fixture
def tiny_recipes(monkeypatch):
    monkeypatch.setitem(recipes.RECIPES, "rgb_protonet", TINY_PROTONET)
    monkeypatch.setitem(recipes.RECIPES, "rgb_maml", TINY_MAML)
    # In this process TensorFlow has started: its threads can no longer be set.
    monkeypatch.setattr(train_command, "configure_threads", lambda recipe: None)


# -- the data set ---------------------------------------------------------------------------------
def test_a_folder_loads_as_rgb_classes_resized_and_cached(shapes, private_cache):
    data = image_folder.load_image_data(str(shapes), image_size=16)
    assert data.images.shape == (40, 20, 16, 16, 3) and data.channels == 3
    assert data.classes == sorted(os.listdir(shapes)) and list(data.counts) == [20] * 40
    # The models' own area resize: the mean colour of an image is kept.
    raw = np.asarray(Image.open(shapes / "disc_red" / "03.png"), "float32")
    np.testing.assert_allclose(
        data.images[data.index["disc_red"], 3].mean(axis=(0, 1)), raw.mean(axis=(0, 1)), atol=1e-3
    )
    assert len(os.listdir(private_cache)) == 1
    again = image_folder.load_image_data(str(shapes), image_size=16)
    np.testing.assert_array_equal(again.images, data.images)
    full = image_folder.load_image_data(str(shapes), cache=False)
    assert full.image_size == 32  # from the first image


def test_images_of_any_sizes_are_area_resized_to_squares(tmp_path):
    for name, sizes in (("a", [(8, 10), (16, 16)]), ("b", [(8, 8), (24, 12)])):
        (tmp_path / name).mkdir()
        for index, (width, height) in enumerate(sizes):
            Image.new("RGB", (width, height), (10 * index, 100, 200)).save(
                tmp_path / name / f"{index}.png"
            )
    data = image_folder.load_image_data(str(tmp_path), image_size=8, cache=False)
    assert data.images.shape == (2, 2, 8, 8, 3)
    np.testing.assert_allclose(
        data.images[1, 1], np.broadcast_to([10, 100, 200], (8, 8, 3)), rtol=1e-5
    )
    assert image_folder.load_image_data(str(tmp_path), cache=False).image_size == 10


def test_the_sampler_draws_rgb_episodes_from_classes_of_unequal_sizes():
    images = np.zeros((3, 4, 2, 2, 3), "float32")
    for row in range(3):
        for column in range(4):
            images[row, column] = 10 * row + column + 1  # padding stays 0
    counts = np.array([2, 4, 3], "int32")
    sampler = EpisodeSampler(images, np.arange(3), np.zeros(3, "int32"), 3, 1, 1, counts=counts)
    for index in range(20):
        episode, labels = sampler.episode(index)
        assert episode["support_images"].shape == (3, 2, 2, 3)
        values = np.concatenate([episode["support_images"], episode["query_images"]])
        assert np.all(values > 0), "a padding image was sampled"
        column = values[:, 0, 0, 0].astype(int) % 10 - 1
        row = values[:, 0, 0, 0].astype(int) // 10
        assert np.all(column < counts[row])
    with pytest.raises(ValueError, match="exceed the 2 examples"):
        EpisodeSampler(images, np.arange(3), np.zeros(3, "int32"), 3, 2, 1, counts=counts)


def test_a_seeded_split_is_reproducible_and_split_files_are_read(shapes, tmp_path):
    data = image_folder.load_image_data(str(shapes), image_size=8)
    splits, origin = image_folder.class_splits(data)
    assert origin is None
    assert [len(splits[s]) for s in ("train", "val", "test")] == [24, 8, 8]
    assert sorted(sum(splits.values(), [])) == data.classes
    assert image_folder.class_splits(data)[0] == splits
    folder = image_folder.write_splits(splits, str(tmp_path / "run"))
    assert image_folder.class_splits(data, run_dir=str(tmp_path / "run")) == (splits, folder)
    own = tmp_path / "own"
    own.mkdir()
    (own / "train.txt").write_text("disc_red\nring_blue\n")
    (own / "test.txt").write_text("cross_green\n")
    read, origin = image_folder.class_splits(data, splits_dir=str(own))
    assert read == {"train": ["disc_red", "ring_blue"], "val": [], "test": ["cross_green"]}
    (own / "test.txt").write_text("no_such_class\n")
    with pytest.raises(ImageFolderError, match="test.txt lists 1 classes that are not in"):
        image_folder.class_splits(data, splits_dir=str(own))


# -- training, evaluation and export through `metazoo` ---------------------------------------------
LEARNERS = {
    "rgb_protonet": ("rgb_protonet_5way_1shot", 60.0),
    "rgb_maml": ("rgb_maml_5way_1shot", 40.0),
}
"""Recipe -> its preset and the least test accuracy (5-way: chance is 20%)."""


@pytest.mark.parametrize("recipe", LEARNERS)
def test_a_learner_trained_on_rgb_shapes_recognises_new_classes_and_exports_to_onnx(
    capsys, shapes, tmp_path, tiny_recipes, recipe
):
    """`metazoo train` on the shapes folder, `eval` on it, `export` of an RGB task to ONNX."""
    preset, least = LEARNERS[recipe]
    out = tmp_path / "presets"
    argv = ["train", recipe, "--out", out, "--data", shapes, "--image-size", 16]
    status, stdout, err = run(capsys, *argv, "--eval-episodes", 100, "--queries", 5)
    assert status == 0, err
    assert "40 classes of 16x16x3 images" in stdout
    metadata = json.loads((out / preset / "metadata.json").read_text())
    assert metadata["dataset"] == "shapes" and metadata["channels"] == 3
    assert metadata["paper_accuracy"] is None and len(metadata["test_classes"]) == 8
    splits = tmp_path / ".checkpoints" / recipe / "splits"
    assert (splits / "test.txt").read_text().split() == metadata["test_classes"]
    # The learning curve has the validation split's accuracy beside the training accuracy.
    history = (tmp_path / ".checkpoints" / recipe / "history.csv").read_text().splitlines()
    assert "val_accuracy" in history[0].split(",") and len(history) > 1
    # Held-out (shape, colour) combinations are recognised far above chance.
    assert metadata["accuracy"] > least, metadata["accuracy"]
    learner = zoo.load_preset(str(out / preset))
    assert learner.channels == 3 and not learner.invert and learner.image_size == 16

    # `metazoo eval` on the same folder finds the preset's test classes again.
    status, stdout, err = run(capsys, "eval", out / preset, "--data", shapes, "--episodes", 20)
    assert status == 0, err
    assert "shapes test split (8 classes)" in stdout

    support = tmp_path / "task"
    for name in metadata["test_classes"][:5]:
        (support / name).mkdir(parents=True)
        Image.open(shapes / name / "00.png").save(support / name / "00.png")
    onnx_path = tmp_path / f"{preset}.onnx"
    status, stdout, err = run(
        capsys, "export", out / preset, "--support", support, "--onnx", onnx_path
    )
    assert status == 0, err
    names, images, labels, _ = read_support_folder(str(support), channels=3)
    assert images.shape == (5, 32, 32, 3)
    classifier = learner.adapt(images, labels)
    queries = np.stack(
        [np.asarray(Image.open(shapes / name / f"{i:02d}.png")) for name in names for i in (1, 2)]
    ).astype("float32")
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    expected = np.asarray(classifier(queries))
    np.testing.assert_allclose(session.run(None, {"images": queries})[0], expected, atol=TOLERANCE)
    assert np.ptp(expected) > 0.2, "parity of near-uniform outputs would prove little"


# -- errors: each names the path and the problem, nothing is written -----------------------------
def assert_refused(capsys, tmp_path, data, *fragments, options=()):
    before = set(os.listdir(tmp_path))
    argv = ["train", "rgb_protonet", "--out", tmp_path / "presets", "--data", data, *options]
    result = run(capsys, *argv)
    assert_user_error(result, *fragments)
    assert set(os.listdir(tmp_path)) == before, "something was written"


def small_folder(root, classes=6, images=10, mode="RGB", size=12):
    for index in range(classes):
        folder = root / f"class{index}"
        folder.mkdir(parents=True)
        for image in range(images):
            value = 40 * image % 255
            colour = (value, 255 - value, 90) if mode == "RGB" else value
            Image.new(mode, (size, size), colour).save(folder / f"{image}.png")
    return root


def test_a_folder_without_images_is_refused(capsys, tmp_path, tiny_recipes):
    (tmp_path / "data" / "a").mkdir(parents=True)
    (tmp_path / "data" / "b").mkdir()
    (tmp_path / "data" / "b" / "notes.txt").write_text("no image here")
    assert_refused(capsys, tmp_path, tmp_path / "data", f"{tmp_path / 'data'} holds no images")
    (tmp_path / "empty").mkdir()
    assert_refused(capsys, tmp_path, tmp_path / "empty", "holds no class folders")


def test_a_class_with_too_few_images_is_refused(capsys, tmp_path, tiny_recipes):
    data = small_folder(tmp_path / "data", classes=30, images=12)
    name = image_folder.seeded_splits([f"class{i}" for i in range(30)])["train"][0]
    for file in sorted((data / name).iterdir())[4:]:
        file.unlink()
    # rgb_protonet trains on 5 shots + 5 queries per class.
    assert_refused(
        capsys,
        tmp_path,
        data,
        f"class {data / name} has 4 images, fewer than the 10 rgb_protonet's training episodes",
        options=("--eval-episodes", 0),
    )
    # Its 5-way 1-shot preset is tested with 15 queries per class (the default).
    shutil.rmtree(data / name)
    assert_refused(capsys, tmp_path, data, "has 12 images, fewer than the 16")


def test_an_unreadable_file_is_refused(capsys, tmp_path, tiny_recipes):
    data = small_folder(tmp_path / "data")
    (data / "class2" / "broken.png").write_bytes(b"not a png")
    assert_refused(capsys, tmp_path, data, f"cannot read image {data / 'class2' / 'broken.png'}")


def test_mixed_channel_counts_are_refused(capsys, tmp_path, tiny_recipes):
    data = small_folder(tmp_path / "data")
    Image.new("L", (12, 12), 128).save(data / "class4" / "gray.png")
    assert_refused(capsys, tmp_path, data, f"{data} mixes grayscale and colour images", "gray.png")
    assert image_folder.load_image_data(str(data), channels=3, cache=False).channels == 3


def test_a_missing_folder_and_too_few_classes_are_refused(capsys, tmp_path, tiny_recipes):
    assert_refused(capsys, tmp_path, tmp_path / "nowhere", "nowhere does not exist")
    data = small_folder(tmp_path / "data", classes=6)  # 4 train classes for 5-way episodes
    assert_refused(capsys, tmp_path, data, "the train split has 4 classes, fewer than the 5")


def test_eval_refuses_images_of_other_channels_than_the_preset(capsys, tmp_path):
    data = small_folder(tmp_path / "data", classes=10)
    result = run(capsys, "eval", "protonet_omniglot_5way_1shot", "--data", data)
    assert_user_error(result, f"{data} holds images of 3 channels: this preset takes 1 (grayscale)")


# -- a TFDS data set by name ----------------------------------------------------------------------
tfds = pytest.importorskip("tensorflow_datasets")


class TinyColourSquares(tfds.core.GeneratorBasedBuilder):
    """A TFDS data set made offline: 3 classes (a colour each) of 4 squares, in 2 splits."""

    VERSION = tfds.core.Version("1.0.0")
    NAMES = ("red", "green", "blue")

    def _info(self):
        features = tfds.features.FeaturesDict(
            {
                "image": tfds.features.Image(shape=(None, None, 3)),
                "label": tfds.features.ClassLabel(names=list(self.NAMES)),
            }
        )
        return tfds.core.DatasetInfo(builder=self, features=features)

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(0, 3), "test": self._generate_examples(3, 4)}

    def _generate_examples(self, start, stop):
        for label, name in enumerate(self.NAMES):
            for index in range(start, stop):
                image = np.zeros((6 + index, 6 + index, 3), "uint8")
                image[..., label] = 200
                yield f"{name}{index}", {"image": image, "label": label}


def test_a_tfds_data_set_in_the_data_dir_is_read_by_name(tmp_path):
    TinyColourSquares(data_dir=str(tmp_path / "tfds")).download_and_prepare()
    data = image_folder.load_image_data(
        "tfds:tiny_colour_squares", image_size=4, tfds_data_dir=str(tmp_path / "tfds")
    )
    assert data.classes == ["blue", "green", "red"] and list(data.counts) == [4, 4, 4]
    assert data.images.shape == (3, 4, 4, 4, 3)
    red = data.images[data.index["red"]]
    np.testing.assert_allclose(red[..., 0], 200, atol=1e-3)
    np.testing.assert_allclose(red[..., 1:], 0, atol=1e-3)
    with pytest.raises(ImageFolderError, match="tfds:tiny_colour_squares is not prepared"):
        image_folder.load_image_data(
            "tfds:tiny_colour_squares", tfds_data_dir=str(tmp_path / "elsewhere")
        )
