"""Image-folder data sets: a root with one subfolder of images per class, or a TFDS data set.

Any sizes, grayscale or colour: every image is area-resized once to `S x S` by the function the
models' preprocessing uses (as `training.omniglot` does), and the decoded copy is cached under
`training.omniglot.cache_directory()`. Classes are split by split files listing class folders
(`ROOT/splits/{train,val,test}.txt`, like the Vinyals files) or, without them, by a seeded split
by fraction that the run writes beside its checkpoint (`write_splits`) so it can be reproduced.
"""

import hashlib
import os

import numpy as np

from metazoo.image_folders import (
    IMAGE_EXTENSIONS,
    ImageFolderError,
    image_channels,
    image_files,
    read_image,
    subfolders,
)
from zoo.files import atomic_destination

SPLIT_NAMES = ("train", "val", "test")
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)
"""The seeded split of classes when no split files are given: train, val, test."""
SPLITS_FOLDER = "splits"
TFDS_PREFIX = "tfds:"
PROTOCOL = "image-folder"


class ImageData:
    """The classes of a data set as a float32 array `[classes, M, S, S, C]` of raw pixels.

    Classes have any number of images: class `c` has `counts[c]`, the first ones of its row;
    the rest of the row (up to M, the largest class) is zero padding the sampler never picks.

    Attributes:
        images: `[classes, M, S, S, C]` float32, values 0..255.
        counts: int32 `[classes]`.
        classes: class names (folder names, or a TFDS data set's label names), sorted.
        source: the path (or `tfds:NAME`) the data was read from.
    """

    def __init__(self, images, counts, classes, source, cache_key=None):
        self.cache_key = cache_key
        self.images = images
        self.counts = np.asarray(counts, "int32")
        self.classes = list(classes)
        self.source = source
        self.index = {name: row for row, name in enumerate(self.classes)}

    @property
    def image_size(self):
        return int(self.images.shape[2])

    @property
    def channels(self):
        return int(self.images.shape[-1])

    def rows(self, names, what):
        """Rows of the classes `names`; an error names `what` listed an unknown class."""
        unknown = [name for name in names if name not in self.index]
        if unknown:
            raise ImageFolderError(
                f"{what} lists {len(unknown)} classes that are not in {self.source}, e.g. "
                f"{unknown[0]!r}"
            )
        return np.asarray([self.index[name] for name in names], "int32")

    def check_class_sizes(self, names, needed, what):
        """Fails when a class of `names` has fewer than `needed` images (shots + queries)."""
        for name in names:
            count = int(self.counts[self.index[name]])
            if count < needed:
                where = self.class_path(name)
                raise ImageFolderError(
                    f"class {where} has {count} images, fewer than the {needed} {what} needs"
                )

    def class_path(self, name):
        """The folder of class `name` (or `tfds:NAME/label`)."""
        if self.source.startswith(TFDS_PREFIX):
            return f"{self.source}/{name}"
        return os.path.join(self.source, name)


def is_tfds(path):
    """Whether `--data` names a TFDS data set (`tfds:NAME`)."""
    return str(path).startswith(TFDS_PREFIX)


def load_image_data(
    path, image_size=None, channels=None, cache=True, tfds_data_dir=None, write_cache=True
):
    """Loads an image-folder root or `tfds:NAME`, area-resized to `image_size`, cached.

    Args:
        path: a folder with one subfolder of images per class, or `tfds:NAME` (a data set
            prepared in the TFDS data dir, `tfds_data_dir` or TFDS' default; never downloaded).
        image_size: side of the resized images; None: the first image's height.
        channels: 1 or 3 to convert every image to; None: the images' own, which must agree.
        cache: read the decoded copy kept under `cache_directory()` if there is one.
        tfds_data_dir: the TFDS data dir for `tfds:NAME`.
        write_cache: keep the decoded copy now; False: leave it to `save_cache(data)`, to be
            called once the data has passed the caller's checks (nothing written before).

    Returns:
        An `ImageData`.

    Raises:
        ImageFolderError: naming the path and the problem: not a folder, no class folder, a
            class folder without images, an unreadable file, mixed channel counts. Nothing is
            written then.
    """
    if is_tfds(path):
        name = path[len(TFDS_PREFIX) :]
        return _load_tfds(name, image_size, channels, cache, tfds_data_dir, write_cache)
    files = _class_files(path)
    first = next(iter(files.values()))[0]
    found = {}
    for class_files in files.values():
        for file in class_files:
            found.setdefault(image_channels(file), file)
    if channels is None:
        if len(found) > 1:
            raise ImageFolderError(
                f"{path} mixes grayscale and colour images ({found[1]} has 1 channel, "
                f"{found[3]} has 3): give --channels 1 or 3 to convert them all"
            )
        channels = next(iter(found))
    if image_size is None:
        image_size = int(read_image(first, channels).shape[0])
    key = _cache_key(files, image_size, channels)
    cached = _read_cache(key, path) if cache else None
    if cached is not None:
        return cached
    raw = {name: [read_image(file, channels) for file in paths] for name, paths in files.items()}
    data = _assemble(raw, image_size, channels, path, key)
    if cache and write_cache:
        save_cache(data)
    return data


def _class_files(root):
    """`{class name: [image files]}` of a root, or an error naming what is wrong."""
    if not os.path.isdir(root):
        raise ImageFolderError(f"data folder {root} does not exist")
    names = [name for name in subfolders(root) if name != SPLITS_FOLDER]
    if not names:
        raise ImageFolderError(
            f"data folder {root} holds no class folders: expected {root}/<class>/<image>, one "
            f"subfolder of images ({', '.join(IMAGE_EXTENSIONS)}) per class"
        )
    files = {name: image_files(os.path.join(root, name)) for name in names}
    empty = [name for name in names if not files[name]]
    if len(empty) == len(names):
        raise ImageFolderError(
            f"data folder {root} holds no images ({', '.join(IMAGE_EXTENSIONS)}) in its "
            f"{len(names)} class folders"
        )
    if empty:
        raise ImageFolderError(
            f"class folder {os.path.join(root, empty[0])} holds no images "
            f"({', '.join(IMAGE_EXTENSIONS)})"
        )
    return files


def _assemble(raw, image_size, channels, source, cache_key=None):
    """`{class: [uint8 [H, W(, C)] images]}` area-resized and padded into an `ImageData`.

    Images of one size are resized together by the models' own `area_resize` (a box filter,
    each channel alike), so a model sees what it would see fed the original files.
    """
    from zoo.preprocessing import area_resize

    names = sorted(raw)
    counts = [len(raw[name]) for name in names]
    images = np.zeros((len(names), max(counts), image_size, image_size, channels), "float32")
    by_shape = {}
    for row, name in enumerate(names):
        for column, image in enumerate(raw[name]):
            image = image.reshape(image.shape[:2] + (channels,))
            by_shape.setdefault(image.shape, []).append((row, column, image))
    for shape, entries in by_shape.items():
        stack = np.stack([image for _, _, image in entries]).astype("float32")  # [n, H, W, C]
        if shape[:2] != (image_size, image_size):
            stack = np.concatenate(
                [
                    np.asarray(area_resize(stack[start : start + 512], image_size))
                    for start in range(0, len(stack), 512)
                ]
            )
        for (row, column, _), image in zip(entries, stack, strict=True):
            images[row, column] = image
    return ImageData(images, counts, names, source, cache_key)


def _cache_key(files, image_size, channels):
    digest = hashlib.sha256(f"image-folder:{image_size}:{channels}".encode())
    for name in sorted(files):
        for file in files[name]:
            stat = os.stat(file)
            digest.update(f"{os.path.abspath(file)}:{stat.st_size}:{stat.st_mtime}".encode())
    return digest.hexdigest()[:16]


def _cache_file(key):
    from training.omniglot import cache_directory

    return os.path.join(cache_directory(), f"images-{key}.npz")


def _read_cache(key, source):
    path = _cache_file(key)
    if not os.path.isfile(path):
        return None
    with np.load(path) as stored:
        classes = stored["classes"].tolist()
        return ImageData(stored["images"], stored["counts"], classes, source, key)


def save_cache(data):
    """Keeps the decoded copy of `data` under `cache_directory()` (if not there yet)."""
    path = _cache_file(data.cache_key)
    if data.cache_key is None or os.path.isfile(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_destination(path, ".tmp.npz") as partial:
        np.savez(partial, images=data.images, counts=data.counts, classes=np.asarray(data.classes))


def _load_tfds(name, image_size, channels, cache, data_dir, write_cache):
    """A TFDS image classification data set, all its splits, grouped by label."""
    import tensorflow_datasets as tfds

    source = f"{TFDS_PREFIX}{name}"
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # an unknown name: TFDS' own message lists close ones
        raise ImageFolderError(f"{source}: {' '.join(str(error).split()[:40])}") from None
    if not builder.is_prepared():
        raise ImageFolderError(
            f"{source} is not prepared in the TFDS data dir {builder.data_dir}: prepare it "
            f"first (tfds build {name}, or tfds.builder({name!r}).download_and_prepare())"
        )
    features = builder.info.features
    image_key = next(
        (key for key, value in features.items() if isinstance(value, tfds.features.Image)), None
    )
    label_key = next(
        (key for key, value in features.items() if isinstance(value, tfds.features.ClassLabel)),
        None,
    )
    if image_key is None or label_key is None:
        raise ImageFolderError(f"{source} has no image and class label features")
    label_names = features[label_key].names
    stored = features[image_key].shape[-1]
    channels = channels or (stored if stored in (1, 3) else 3)
    key = f"tfds:{name}:{builder.data_dir}:{builder.version}:{channels}"
    if cache and image_size:
        cached = _read_cache(
            hashlib.sha256(f"{key}:{image_size}".encode()).hexdigest()[:16], source
        )
        if cached is not None:
            return cached
    raw = {}
    for split in builder.info.splits:
        for example in tfds.as_numpy(builder.as_dataset(split=split)):
            image = example[image_key]
            if image.shape[-1] != channels:
                image = image[..., :1] if channels == 1 else np.repeat(image[..., :1], 3, -1)
            raw.setdefault(label_names[int(example[label_key])], []).append(image)
    if not raw:
        raise ImageFolderError(f"{source} holds no images")
    image_size = image_size or int(next(iter(raw.values()))[0].shape[0])
    key = hashlib.sha256(f"{key}:{image_size}".encode()).hexdigest()[:16]
    data = _assemble(raw, image_size, channels, source, key)
    if cache and write_cache:
        save_cache(data)
    return data


# -- class splits ---------------------------------------------------------------------------------
def read_split_file(path):
    """The class names a split file lists, one a line (blank lines skipped)."""
    with open(path) as file:
        return [line.strip().strip("/") for line in file if line.strip()]


def find_split_files(folder):
    """`{split: path}` of the split files `train.txt`, `val.txt`, `test.txt` in `folder`,
    or None when `folder` has none of them. `train` and `test` are required."""
    if folder is None or not os.path.isdir(folder):
        return None
    paths = {split: os.path.join(folder, f"{split}.txt") for split in SPLIT_NAMES}
    present = {split: path for split, path in paths.items() if os.path.isfile(path)}
    if not present:
        return None
    missing = [split for split in ("train", "test") if split not in present]
    if missing:
        raise ImageFolderError(
            f"split folder {folder} lacks {', '.join(f'{s}.txt' for s in missing)}: split "
            "files list class folders, one a line, in train.txt, val.txt (optional), test.txt"
        )
    return present


def seeded_splits(classes, fractions=SPLIT_FRACTIONS, seed=0):
    """A seeded split of class names by fraction: `{"train": [...], "val": [...], "test": [...]}`.

    Every split with a positive fraction gets at least one class when there are enough.
    """
    names = sorted(classes)
    order = np.random.default_rng(seed).permutation(len(names))
    total = float(sum(fractions))
    test = max(1, round(len(names) * fractions[2] / total)) if fractions[2] else 0
    val = max(1, round(len(names) * fractions[1] / total)) if fractions[1] else 0
    if len(names) - test - val < 1:
        raise ImageFolderError(
            f"{len(names)} classes are too few to split into train, val and test classes"
        )
    shuffled = [names[i] for i in order]
    train_names = shuffled[: len(names) - val - test]
    val_names = shuffled[len(train_names) : len(names) - test]
    return {
        "train": sorted(train_names),
        "val": sorted(val_names),
        "test": sorted(shuffled[len(names) - test :]),
    }


def class_splits(data, splits_dir=None, run_dir=None, seed=0):
    """The classes of each split, and where they come from.

    Split files are looked up in `splits_dir`, else `ROOT/splits/`, else the run's own
    `run_dir/splits/` (a seeded split written by an earlier start of the run); without any, a
    seeded split by `SPLIT_FRACTIONS` is made (write it with `write_splits`).

    Returns:
        `(splits, origin)`: `{"train", "val", "test"}` -> class names, and the folder the
        split files were read from (None for a new seeded split).
    """
    candidates = [splits_dir]
    if not is_tfds(data.source):
        candidates.append(os.path.join(data.source, SPLITS_FOLDER))
    if run_dir:
        candidates.append(os.path.join(run_dir, SPLITS_FOLDER))
    if splits_dir is not None and not os.path.isdir(splits_dir):
        raise ImageFolderError(f"split folder {splits_dir} does not exist")
    for folder in candidates:
        files = find_split_files(folder)
        if files:
            splits = {split: [] for split in SPLIT_NAMES}
            for split, path in files.items():
                splits[split] = read_split_file(path)
                data.rows(splits[split], path)
            return splits, folder
    return seeded_splits(data.classes, seed=seed), None


def write_splits(splits, run_dir):
    """Writes `run_dir/splits/{train,val,test}.txt` (atomically); returns the folder."""
    folder = os.path.join(os.path.abspath(run_dir), SPLITS_FOLDER)
    os.makedirs(run_dir, exist_ok=True)
    with atomic_destination(folder) as staging:
        os.makedirs(staging)
        for split in SPLIT_NAMES:
            with open(os.path.join(staging, f"{split}.txt"), "w") as file:
                file.writelines(f"{name}\n" for name in splits[split])
    return folder


def image_sampler(data, names, ways, shots, queries, seed=0):
    """An `EpisodeSampler` over the classes `names` of `data` (no rotations as classes)."""
    from training.episodes import EpisodeSampler

    rows = data.rows(names, "the split")
    return EpisodeSampler(
        data.images, rows, np.zeros_like(rows), ways, shots, queries, seed, counts=data.counts
    )
