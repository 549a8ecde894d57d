"""`--data` of `metazoo train` and `eval`: Omniglot's archives, an image-folder root or `tfds:NAME`.

Everything about the data is checked before anything is written: a folder without images, a
class with fewer images than shots plus queries, an unreadable file, mixed channel counts,
too few classes for the episodes each end with an error naming the path and the problem.
"""

import os

from metazoo.common import CommandError


def data_kind(path):
    """`"omniglot"` (the archives, today's default), `"tfds"` or `"folder"`."""
    from training import image_folder, omniglot, protocols

    if path and image_folder.is_tfds(path):
        return "tfds"
    if not path:
        return "omniglot"  # the default location: Omniglot's, with its own errors
    try:
        omniglot.find_omniglot(protocols.resolve_data_dir(path))
    except omniglot.OmniglotNotFoundError:
        return "folder"
    return "omniglot"


def source_name(path):
    """The data set's name in metadata and messages: `tfds:NAME` or the folder's name."""
    from training import image_folder

    if image_folder.is_tfds(path):
        return path
    return os.path.basename(os.path.normpath(os.path.abspath(path)))


def source_path(path):
    """`tfds:NAME` as it is, a folder as an absolute path."""
    from training import image_folder

    return path if image_folder.is_tfds(path) else os.path.abspath(path)


def check_episodes(data, names, split, ways, shots, queries, what):
    """Fails unless the split's classes can give `ways`-way episodes of `shots + queries`."""
    if len(names) < ways:
        raise CommandError(
            f"{data.source}: the {split} split has {len(names)} classes, fewer than the "
            f"{ways} classes of {what}"
        )
    data.check_class_sizes(names, shots + queries, f"{what} ({shots} shots + {queries} queries)")


def prepare_training(args, recipe, checkpoint):
    """Reads and checks the data of `metazoo train --data FOLDER|tfds:NAME`.

    Returns:
        A dict of the `data` (`ImageData`), its `splits`, where they come from (`origin`, None
        for a new seeded split, which `write_training_splits` writes beside the checkpoint),
        the `model` overrides (image size, channels, invert) and the training `sampler`.
    """
    from training import image_folder

    if recipe.get("data") == "sinusoid":
        raise CommandError(f"recipe {args.recipe} regresses sinusoids: it takes no image data")
    if args.channels not in (None, 1, 3):
        raise CommandError(f"--channels must be 1 or 3, got {args.channels}")
    if args.image_size is not None and args.image_size < 1:
        raise CommandError(f"--image-size must be at least 1, got {args.image_size}")
    data = image_folder.load_image_data(
        args.data, args.image_size, args.channels, write_cache=False
    )
    splits, origin = image_folder.class_splits(data, args.splits, checkpoint)
    settings = recipe["train"]
    ways, shots, queries = settings["ways"], settings["shots"], settings["queries"]
    check_episodes(
        data, splits["train"], "train", ways, shots, queries, f"{args.recipe}'s training episodes"
    )
    if args.eval_episodes:
        for preset, (ways, shots) in recipe["presets"].items():
            check_episodes(
                data,
                splits["test"],
                "test",
                ways,
                shots,
                args.test_queries[preset],
                f"{preset}'s test episodes",
            )
    sampler = image_folder.image_sampler(
        data, splits["train"], settings["ways"], settings["shots"], settings["queries"]
    )
    model = {"image_size": data.image_size, "channels": data.channels, "invert": args.invert}
    return {
        "data": data,
        "splits": splits,
        "origin": origin,
        "model": model,
        "sampler": sampler,
        "validation": validation_sampler(data, splits, settings),
    }


def validation_sampler(data, splits, settings):
    """Episodes of the validation split in the training shapes, for the learning curve's
    validation accuracy; None when the split has too few classes or images for them."""
    from training import image_folder

    names = splits.get("val") or []
    ways, shots, queries = settings["ways"], settings["shots"], settings["queries"]
    sizes = [int(data.counts[data.index[name]]) for name in names if name in data.index]
    if len(sizes) < ways or min(sizes) < shots + queries:
        return None
    return image_folder.image_sampler(data, names, ways, shots, queries)


def write_training_splits(prepared, checkpoint):
    """Once the data passed every check: keeps its decoded copy in the cache and writes a new
    seeded split beside the checkpoint."""
    from training import image_folder

    image_folder.save_cache(prepared["data"])
    if prepared["origin"] is None:
        prepared["origin"] = image_folder.write_splits(prepared["splits"], checkpoint)
    return prepared["origin"]


def data_metadata(prepared, path):
    """The metadata of a preset trained on image data: the data set and its test classes."""
    from training import image_folder

    data = prepared["data"]
    return {
        "dataset": source_name(path),
        "protocol": image_folder.PROTOCOL,
        "data_source": source_path(path),
        "image_size": data.image_size,
        "channels": data.channels,
        "splits_folder": prepared["origin"],
        "test_classes": prepared["splits"]["test"],
    }


def evaluation_sampler(args, learner, metadata, ways, shots):
    """The test-split sampler of `metazoo eval --data FOLDER|tfds:NAME`, and a description.

    The test classes are the preset's own (recorded when it was trained on this data), else
    those of the data's split files, else of the seeded split training would make.
    """
    from training import image_folder
    from zoo.validation import channels_text

    data = image_folder.load_image_data(args.data, learner.image_size)
    if data.channels != learner.channels:
        raise CommandError(
            f"{args.data} holds images of {data.channels} channels: this preset takes "
            f"{channels_text(learner.channels)}"
        )
    if metadata.get("data_source") == source_path(args.data) and metadata.get("test_classes"):
        names = list(metadata["test_classes"])
        data.rows(names, f"the metadata of preset {metadata.get('preset', args.preset)}")
    else:
        names = image_folder.class_splits(data)[0]["test"]
    check_episodes(data, names, "test", ways, shots, args.queries, "the test episodes")
    sampler = image_folder.image_sampler(data, names, ways, shots, args.queries, args.seed)
    return sampler, f"{source_name(args.data)} test split ({len(names)} classes)"
