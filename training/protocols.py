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


def recipe_protocol(recipe):
    """The name of the protocol a recipe trains and is tested on: Vinyals' or Koch's."""
    if recipe.get("protocol") == "koch":
        from training.koch_protocol import PROTOCOL as KOCH

        return KOCH
    return PROTOCOL


def evaluation_sampler(data_dir, protocol, ways, shots, queries, seed=0, image_size=28):
    """The test-split episodes of a preset's `protocol` (its metadata's), on Omniglot."""
    from training import koch_protocol

    if protocol == koch_protocol.PROTOCOL:
        return koch_protocol.koch_sampler(
            data_dir, "test", ways, shots, queries, seed, image_size=image_size
        )
    return omniglot_sampler(data_dir, "test", ways, shots, queries, seed, image_size)


def evaluation_queries_and_examples(protocol, queries=None):
    """`(queries per class, examples per class)` of a protocol's test split: Koch's tests one
    query per class from its 4 test drawers (Lake's task), Vinyals' 15 (by default) of 20."""
    from training import koch_protocol, omniglot

    if protocol == koch_protocol.PROTOCOL:
        default, examples = koch_protocol.TEST_QUERIES, len(koch_protocol.DRAWERS["test"])
    else:
        default, examples = 15, omniglot.DRAWERS
    return (default if queries is None else queries), examples


def recipe_test_queries(recipe, shots, queries=None):
    """Test queries per class of a recipe's preset with `shots` shots, before the protocol's
    default (`evaluation_queries_and_examples`) fills in a `None`.

    `queries` when given (`--queries`), else the recipe's `test_queries`: a number, or
    `"shots"` for as many queries as shots (Finn et al.'s MAML protocol), else `None`.
    """
    if queries is None:
        queries = recipe.get("test_queries")
    return shots if queries == "shots" else queries


def evaluation_split_name(protocol):
    """How `metazoo eval` names a protocol's test split."""
    from training import koch_protocol

    if protocol == koch_protocol.PROTOCOL:
        return "Omniglot, Lake's 10 one-shot alphabets, within-alphabet (Koch)"
    return "Omniglot test split"
