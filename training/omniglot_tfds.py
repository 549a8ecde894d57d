"""Omniglot through TensorFlow Datasets, where its download is reachable."""

import numpy as np

from training.omniglot import DRAWERS, Omniglot, resize_images

TFDS_SPLITS = ("train", "test")  # images_background and images_evaluation


def load_omniglot_tfds(image_size=28, data_dir=None, download=True):
    """Loads Omniglot with `tfds.load("omniglot")` into the same `Omniglot` as the archives.

    Characters are named `Alphabet/characterNN` as in the upstream folders, so the Vinyals
    split files apply unchanged. TFDS verifies its download against upstream checksums, so it
    needs the network (or a TFDS data folder prepared earlier); the offline copy of this
    project is read with `training.omniglot.load_omniglot` instead.

    Args:
        image_size: side of the area-resized images.
        data_dir: TFDS data folder (TFDS' default when None).
        download: let TFDS download and prepare the data set.

    Returns:
        An `Omniglot` (20 drawings per character; fewer only if TFDS holds fewer).
    """
    import tensorflow_datasets as tfds

    images, alphabets = {}, None
    for split in TFDS_SPLITS:
        data, info = tfds.load(
            "omniglot", split=split, data_dir=data_dir, download=download, with_info=True
        )
        alphabets = info.features["alphabet"].names
        for example in tfds.as_numpy(data):
            name = (
                f"{alphabets[example['alphabet']]}/character{example['alphabet_char_id'] + 1:02d}"
            )
            images.setdefault(name, []).append(example["image"][..., 0])
    characters = sorted(images)
    drawers = min(DRAWERS, *(len(images[name]) for name in characters))
    raw = np.stack([np.stack(images[name][:drawers]) for name in characters])
    return Omniglot(resize_images(raw, image_size), characters)
