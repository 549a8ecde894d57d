"""What the `metazoo` subcommands share: errors, output, TensorFlow's start, presets, accuracy."""

import contextlib
import datetime
import os
import sys
import tempfile


class CommandError(Exception):
    """A mistake in the command's input, reported as one line with exit status 2."""


class PresetMissingError(CommandError):
    """A shipped preset whose files are not there (not trained yet)."""


def say(*parts):
    """Prints a line to standard output at once (progress lines interleave with Keras')."""
    print(*parts, flush=True)


@contextlib.contextmanager
def quiet_native_logs(enabled=True):
    """Hides what native code writes to file descriptor 2 (TensorFlow's start-up log lines).

    TensorFlow 2.21 logs through absl before `TF_CPP_MIN_LOG_LEVEL` applies, so the lines are
    caught at the descriptor. On an exception the captured text is written out after all.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def start_tensorflow(debug=False):
    """Imports TensorFlow and Keras and creates the eager context, quietly unless debugging."""
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if debug else "2")
    with quiet_native_logs(not debug):
        import keras  # noqa: F401
        import tensorflow as tf

        tf.constant(0.0)


def user_errors():
    """The exception types that mean bad input rather than a bug, among those imported."""
    errors = [CommandError]
    for module, name in (
        ("zoo.presets", "PresetError"),
        ("zoo.validation", "EpisodeError"),
        ("training.omniglot", "OmniglotNotFoundError"),
        ("metazoo.image_folders", "ImageFolderError"),
        ("export.errors", "ExportError"),
    ):
        if module in sys.modules:
            errors.append(getattr(sys.modules[module], name))
    return tuple(errors)


def one_line(error):
    """An exception's message on one line."""
    return " ".join(str(error).split()) or type(error).__name__


def recipe_of(preset):
    """The name of the recipe that trains a preset, or None."""
    from training.recipes import RECIPES

    for name, recipe in sorted(RECIPES.items()):
        if preset in recipe["presets"]:
            return name
    return None


def paper_accuracy(preset, metadata=None, setting=None):
    """The paper's accuracy for a preset, from its metadata or its recipe, or None.

    Args:
        preset: the preset's name.
        metadata: its metadata, if there is some.
        setting: `(ways, shots)` other than the preset's own, looked up in its recipe.
    """
    from training.recipes import RECIPES

    metadata = metadata or {}
    if setting is None and metadata.get("paper_accuracy") is not None:
        return metadata["paper_accuracy"]
    recipe = metadata.get("recipe")
    if not isinstance(recipe, str):  # absent, or recorded as a dict for a custom recipe
        recipe = recipe_of(preset)
    if recipe not in RECIPES:
        return None
    if setting is None:
        setting = RECIPES[recipe]["presets"].get(preset)
    paper = RECIPES[recipe]["paper"].get(tuple(setting)) if setting else None
    return None if isinstance(paper, dict) else paper  # a dict: per instance (sequences)


def load_preset(name):
    """Loads a preset by name or folder, with errors a user can act on.

    Returns:
        `(learner, metadata, directory)`.

    Raises:
        PresetMissingError: for a shipped preset whose files are not there.
        CommandError: for an unknown name or a folder that does not exist.
        PresetError: for an incomplete or corrupted preset.
    """
    from zoo import presets

    try:
        directory = presets.preset_directory(name)
    except presets.PresetError:
        if os.sep in name or name.startswith(".") or name.endswith(("/", "\\")):
            raise CommandError(f"preset folder {name} does not exist") from None
        raise CommandError(
            f"unknown preset {name!r}: shipped presets are {', '.join(presets.list_presets())}; "
            "or give the path of a preset folder"
        ) from None
    if name in presets.PRESETS and not os.path.isfile(
        os.path.join(directory, presets.METADATA_FILE)
    ):
        recipe = recipe_of(name)
        parent = os.path.dirname(os.path.normpath(directory))
        hint = f"; make it with `metazoo train {recipe} --out {parent}`" if recipe else ""
        raise PresetMissingError(
            f"preset {name} is not trained yet: {directory} holds no preset files{hint}"
        )
    learner = presets.load_preset(directory)
    return learner, presets.preset_metadata(directory), directory


def omniglot_folder(path):
    """Checks that Omniglot and its Vinyals split files are at `path` (or the default place)."""
    from training import omniglot, protocols

    data_dir = protocols.resolve_data_dir(path)
    omniglot.find_omniglot(data_dir)
    protocols.split_file(data_dir, "test")
    return data_dir


def check_ways(learner, ways, what):
    """Fails when a meta-learner built for a fixed number of classes is given another."""
    fixed = learner.fixed_ways
    if fixed is not None and fixed != ways:
        raise CommandError(f"this preset is built for {fixed}-way tasks, not {ways}-way ({what})")


def format_accuracy(metadata):
    """`98.71 ± 0.21%` from metadata holding an evaluation, else None."""
    if metadata.get("accuracy") is None:
        return None
    text = f"{metadata['accuracy']:.2f}"
    if metadata.get("ci95") is not None:
        text += f" ± {metadata['ci95']:.2f}"
    return text + "%"


def evaluation_metadata(result, queries, seed, suffix=""):
    """The metadata fields recording an evaluation (`suffix="_transductive"`: the
    transductive one, recorded beside the preset's own)."""
    fields = {
        "accuracy": round(result["accuracy"], 3),
        "ci95": round(result["ci95"], 3),
        "test_episodes": int(result["episodes"]),
        "test_queries_per_class": int(queries),
        "eval_seed": int(seed),
        "evaluated": datetime.date.today().isoformat(),
    }
    return {f"{key}{suffix}": value for key, value in fields.items()}


def meets_paper_cell(meets):
    """A results table's "meets paper" cell: yes, no, or - where the paper has no number."""
    return "-" if meets is None else ("yes" if meets else "no")
