"""The papers' data protocol: Omniglot at 28x28, Vinyals split, rotations as classes."""

import os

from training.episodes import EpisodeSampler
from training.omniglot import OmniglotNotFoundError, load_omniglot

SPLITS = ("train", "val", "trainval", "test")
DATA_ENV = "METAZOO_OMNIGLOT"
PROTOCOL = "omniglot-vinyals-28x28-rotations"


def default_data_dir():
    """`$METAZOO_OMNIGLOT`, else `../shared/data/omniglot` if present, else None."""
    if os.environ.get(DATA_ENV):
        return os.environ[DATA_ENV]
    candidate = os.path.join("..", "shared", "data", "omniglot")
    return candidate if os.path.isdir(candidate) else None


def resolve_data_dir(path=None):
    """The Omniglot folder to use, or an error saying how to give one."""
    path = path or default_data_dir()
    if path is None:
        raise OmniglotNotFoundError(
            f"no Omniglot folder given: pass --data PATH or set ${DATA_ENV} to a folder holding "
            "images_background.zip and images_evaluation.zip"
        )
    return path


def split_file(data_dir, split):
    """Path of the Vinyals split file `split` (looked up beside the data, else shipped)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    path = os.path.join(data_dir, "splits", "vinyals", f"{split}.txt")
    if not os.path.isfile(path):
        raise OmniglotNotFoundError(
            f"{path} is missing: the Vinyals split files splits/vinyals/{{train,val,trainval,"
            "test}.txt are expected beside the archives"
        )
    return path


def omniglot_sampler(data_dir, split, ways, shots, queries, seed=0, image_size=28):
    """An `EpisodeSampler` over a split of Omniglot under the Vinyals protocol."""
    data = load_omniglot(resolve_data_dir(data_dir), image_size)
    rows, turns = data.classes(split_file(resolve_data_dir(data_dir), split))
    return EpisodeSampler(data.images, rows, turns, ways, shots, queries, seed)
