"""The `metazoo` command: list, train, evaluate, adapt, export and demo the presets.

Every subcommand has `--help` with an example. User errors (an unknown preset, a missing
folder, no Omniglot where one is needed) end with a one-line message and exit status 2;
`metazoo --debug ...` shows tracebacks and TensorFlow's own log lines as well.
"""

import argparse
import contextlib
import datetime
import json
import os
import sys
import tempfile
import textwrap

EXIT_USAGE = 2
DEMO_PRESETS = ("protonet_omniglot_5way_1shot", "maml_omniglot_5way_1shot")


class CommandError(Exception):
    """A mistake in the command's input, reported as one line with exit status 2."""


class PresetMissingError(CommandError):
    """A shipped preset whose files are not there (not trained yet)."""


# -- small helpers -------------------------------------------------------------------------------
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
    return RECIPES[recipe]["paper"].get(tuple(setting)) if setting else None


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


def write_json_atomically(path, data):
    """Writes JSON to a temporary file beside `path` and renames it into place."""
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        with open(partial, "w") as file:
            json.dump(data, file, indent=2)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)
        raise


def labels_path(path):
    """Where the class names of an exported model go: `model.onnx` -> `model.labels.txt`."""
    stem = os.path.normpath(path)
    if stem.endswith(".onnx"):
        stem = stem[: -len(".onnx")]
    return stem + ".labels.txt"


def export_classifier(classifier, class_names, onnx=None, saved_model=None):
    """Exports an adapted classifier, verified, and writes its class names beside each file.

    Returns:
        A list of `(format name, ExportResult)`.
    """
    import export

    results = []
    for kind, path, function in (
        ("ONNX", onnx, export.to_onnx),
        ("SavedModel", saved_model, export.to_saved_model),
    ):
        if not path:
            continue
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        try:
            result = function(classifier, path, verify=True)
        except (FileExistsError, IsADirectoryError, NotADirectoryError) as error:
            raise CommandError(one_line(error)) from error
        with open(labels_path(path), "w") as file:
            file.write("".join(f"{name}\n" for name in class_names))
        results.append((kind, result))
    return results


def print_exports(results):
    for kind, result in results:
        say(
            f"{kind:<10} {result.path}  (verified: max |p_{kind.lower()} - p_keras| = "
            f"{result.max_abs_diff:.2e}; class names in {labels_path(result.path)})"
        )


# -- list ----------------------------------------------------------------------------------------
def command_list(args):
    from zoo import presets

    rows = []
    for name in presets.list_presets():
        directory = presets.preset_directory(name)
        metadata_path = os.path.join(directory, presets.METADATA_FILE)
        metadata = None
        if os.path.isfile(metadata_path):
            with open(metadata_path) as file:
                metadata = json.load(file)
        rows.append((name, metadata))
    for folder in args.folders:
        if not os.path.isdir(folder):
            raise CommandError(f"folder {folder} does not exist")
        candidates = [folder] + [os.path.join(folder, name) for name in sorted(os.listdir(folder))]
        for candidate in candidates:
            metadata_path = os.path.join(candidate, presets.METADATA_FILE)
            if os.path.isfile(metadata_path):
                with open(metadata_path) as file:
                    rows.append((candidate, json.load(file)))
    width = max(len(name) for name, _ in rows)
    for name, metadata in rows:
        if metadata is None:
            status = "not trained (no preset files)"
            setting = ""
        else:
            setting = f"{metadata.get('ways', '?')}-way {metadata.get('shots', '?')}-shot"
            measured = format_accuracy(metadata)
            if measured is None:
                status = "not measured"
            else:
                status = f"{measured} ({metadata.get('test_episodes', '?')} test episodes)"
        paper = paper_accuracy(os.path.basename(os.path.normpath(name)), metadata)
        paper = f"paper {paper:.1f}%" if paper is not None else "paper -"
        say(f"{name:<{width}}  {setting:<13} {status:<42} {paper}")
    return 0


# -- train ---------------------------------------------------------------------------------------
def command_train(args):
    from training import checkpoints, recipes

    if args.recipe not in recipes.RECIPES:
        raise CommandError(
            f"unknown recipe {args.recipe!r}; recipes are {', '.join(sorted(recipes.RECIPES))}"
        )
    recipe = recipes.RECIPES[args.recipe]
    data_dir = omniglot_folder(args.data)
    out = os.path.abspath(args.out)
    checkpoint = args.checkpoint or os.path.join(os.path.dirname(out), ".checkpoints", args.recipe)
    steps = recipe["steps"] if args.steps is None else args.steps
    if steps < 1 or (args.steps_per_epoch is not None and args.steps_per_epoch < 1):
        raise CommandError("--steps and --steps-per-epoch must be at least 1")
    if args.eval_episodes == 1 or args.eval_episodes < 0:
        raise CommandError("--eval-episodes must be 0 (no evaluation) or at least 2")
    state = checkpoints.read_state(checkpoint)
    if state and state.get("recipe") not in (None, args.recipe):
        raise CommandError(
            f"checkpoint folder {checkpoint} holds a run of recipe {state['recipe']}, not "
            f"{args.recipe}; pass another --checkpoint"
        )
    if state and args.steps_per_epoch and args.steps_per_epoch != state["steps_per_epoch"]:
        raise CommandError(
            f"the run in {checkpoint} has {state['steps_per_epoch']} steps per epoch; resume "
            f"it with --steps-per-epoch {state['steps_per_epoch']}"
        )
    steps_per_epoch = state["steps_per_epoch"] if state else min(args.steps_per_epoch or 100, steps)
    if steps % steps_per_epoch:
        steps -= steps % steps_per_epoch
        say(f"note: training {steps} steps, a whole number of epochs of {steps_per_epoch} steps")
    if state:
        say(
            f"resuming {args.recipe} from {checkpoint}: {state['epoch'] * steps_per_epoch} of "
            f"{steps} steps done"
        )
        if args.init_from:
            say("(--init-from is ignored when resuming)")
    else:
        say(f"training {args.recipe} for {steps} steps; checkpoints in {checkpoint}")
        if args.init_from:
            load_preset(args.init_from)  # fail now, with a clear message, if it is unusable
    state = train_and_evaluate(args, recipe, data_dir, checkpoint, steps, steps_per_epoch)
    say(f"trained {state['steps']} steps in {state['seconds']:.0f} s; presets are in {out}")
    return 0


def train_and_evaluate(args, recipe, data_dir, checkpoint, steps, steps_per_epoch):
    """Runs `training.train.train`, then evaluates and writes each preset of the recipe.

    Returns:
        The training state `{"epoch", "seconds", "steps"}`.
    """
    import warnings

    from training import train
    from training.evaluate import evaluate
    from training.protocols import omniglot_sampler

    verbose = 1 if sys.stdout.isatty() else 2
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*shuffle=True.*")
        learner, state = train.train(
            args.recipe,
            checkpoint,
            data_dir=data_dir,
            steps=steps,
            steps_per_epoch=steps_per_epoch,
            init_from=args.init_from,
            verbose=verbose,
        )
    for preset, (ways, shots) in recipe["presets"].items():
        evaluation = None
        if args.eval_episodes:
            say(f"evaluating {preset} on {args.eval_episodes} test episodes")
            sampler = omniglot_sampler(
                data_dir, "test", ways, shots, args.queries, args.seed, learner.image_size
            )
            result = evaluate(learner, sampler, args.eval_episodes, verbose=int(verbose == 1))
            evaluation = evaluation_metadata(result, args.queries, args.seed)
        metadata = train.preset_metadata(args.recipe, preset, state, evaluation)
        folder = train.write_preset(
            learner, os.path.join(os.path.abspath(args.out), preset), metadata
        )
        measured = format_accuracy(metadata) or "not measured"
        paper = metadata["paper_accuracy"]
        say(f"wrote {folder}: {ways}-way {shots}-shot {measured} (paper {paper}%)")
    return state


def evaluation_metadata(result, queries, seed):
    """The metadata fields recording an evaluation."""
    return {
        "accuracy": round(result["accuracy"], 3),
        "ci95": round(result["ci95"], 3),
        "test_episodes": int(result["episodes"]),
        "test_queries_per_class": int(queries),
        "eval_seed": int(seed),
        "evaluated": datetime.date.today().isoformat(),
    }


# -- eval ----------------------------------------------------------------------------------------
def command_eval(args):
    from training.evaluate import evaluate
    from training.omniglot import DRAWERS
    from training.protocols import omniglot_sampler
    from zoo.presets import METADATA_FILE

    learner, metadata, directory = load_preset(args.preset)
    ways = args.ways or int(metadata["ways"])
    shots = args.shots or int(metadata["shots"])
    own = (ways, shots) == (int(metadata["ways"]), int(metadata["shots"]))
    check_ways(learner, ways, "--ways")
    if args.write and not own:
        raise CommandError(
            f"--write records the preset's own setting ({metadata['ways']}-way "
            f"{metadata['shots']}-shot); drop --ways/--shots or --write"
        )
    if args.episodes < 2:
        raise CommandError(f"--episodes must be at least 2, got {args.episodes}")
    if min(ways, shots, args.queries) < 1 or shots + args.queries > DRAWERS:
        raise CommandError(
            f"--shots {shots} + --queries {args.queries} must be positive and at most the "
            f"{DRAWERS} examples of an Omniglot class"
        )
    data_dir = omniglot_folder(args.data)
    sampler = omniglot_sampler(
        data_dir, "test", ways, shots, args.queries, args.seed, learner.image_size
    )
    result = evaluate(learner, sampler, args.episodes, verbose=int(sys.stdout.isatty()))
    name = metadata.get("preset", args.preset)
    paper = paper_accuracy(name, metadata, None if own else (ways, shots))
    paper = f" (paper {paper}%)" if paper is not None else ""
    # MAML normalizes with the query batch's statistics, as in the paper: say so.
    transductive = " [transductive]" if metadata.get("transductive") else ""
    say(
        f"{name}: {ways}-way {shots}-shot, Omniglot test split, {result['episodes']} episodes "
        f"of {args.queries} queries per class (seed {args.seed}): "
        f"{result['accuracy']:.2f} ± {result['ci95']:.2f}%{paper}{transductive}"
    )
    if args.write:
        path = os.path.join(directory, METADATA_FILE)
        metadata.update(evaluation_metadata(result, args.queries, args.seed))
        write_json_atomically(path, metadata)
        say(f"recorded in {path}")
    return 0


# -- adapt and export ----------------------------------------------------------------------------
def adapt_to_folder(preset, support):
    """Loads a preset and adapts it to a support folder.

    Returns:
        `(classifier, class_names, support_images)`.
    """
    from metazoo.image_folders import read_support_folder

    learner, _, _ = load_preset(preset)
    names, images, labels, resized = read_support_folder(support)
    check_ways(learner, len(names), f"support folder {support}")
    if resized:
        say(f"note: {resized} support images resized to {images.shape[1]}x{images.shape[2]}")
    if learner.invert and images.mean() < 128:
        say(
            "warning: the support images look like light strokes on a dark background; the "
            "presets expect dark strokes on white, like Omniglot"
        )
    classifier = learner.adapt(images, labels)
    counts = [int((labels == label).sum()) for label in range(len(names))]
    say(f"adapted {preset} to {len(names)} classes from {support}:")
    for label, (name, count) in enumerate(zip(names, counts, strict=True)):
        say(f"  {label}: {name} ({count} image{'s' if count != 1 else ''})")
    return classifier, names, images


def command_adapt(args):
    import numpy as np

    from metazoo.image_folders import read_queries

    if args.out and not args.out.endswith(".keras"):
        raise CommandError(f"--out must name a .keras file, got {args.out}")
    classifier, names, support = adapt_to_folder(args.preset, args.support)
    if args.query:
        files, images, truth, resized = read_queries(args.query, names, support.shape[1:3])
        if resized:
            say(f"note: {resized} query images resized to {support.shape[1]}x{support.shape[2]}")
        # One batch: transductive presets (MAML) normalize with the statistics of the batch.
        probabilities = np.asarray(classifier(images.astype("float32"), training=False))
        predicted = probabilities.argmax(axis=1)
        width = max(len(file) for file in files)
        for file, label, row, true in zip(files, predicted, probabilities, truth, strict=True):
            verdict = ""
            if true >= 0:
                verdict = "  correct" if true == label else f"  wrong ({names[true]})"
            say(f"{file:<{width}}  {names[label]}  p={row[label]:.3f}{verdict}")
        known = truth >= 0
        if known.any():
            right = int((predicted[known] == truth[known]).sum())
            count = int(known.sum())
            say(f"accuracy on {count} labelled queries: {100 * right / count:.1f}%")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        classifier.save(args.out)
        say(
            f"saved the adapted classifier to {args.out} (class names in the order above; "
            "load it with keras.saving.load_model after `import zoo`)"
        )
    print_exports(export_classifier(classifier, names, args.onnx, args.saved_model))
    return 0


def command_export(args):
    if not (args.onnx or args.saved_model):
        raise CommandError("give --onnx PATH, --saved-model PATH or both")
    classifier, names, _ = adapt_to_folder(args.preset, args.support)
    print_exports(export_classifier(classifier, names, args.onnx, args.saved_model))
    return 0


# -- demo ----------------------------------------------------------------------------------------
def command_demo(args):
    from metazoo.demo import run_demo

    return run_demo(args)


# -- the parser ----------------------------------------------------------------------------------
class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and shows the defaults that are set."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if default is not None and default is not False and default is not argparse.SUPPRESS:
            if "default" in text:
                return text
            text += " (default: %(default)s)"
        return text


def examples(*lines):
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser():
    """The argument parser of `metazoo` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="metazoo",
        description="Few-shot meta-learners: list, train, evaluate, adapt, export, demo.",
        formatter_class=HelpFormatter,
        epilog=examples("metazoo demo", "metazoo list", "metazoo SUBCOMMAND --help"),
    )
    parser.add_argument("--version", action="version", version="%(prog)s 0.1.0")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and TensorFlow's log lines"
    )
    commands = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", required=True)

    def add(name, function, help, epilog):
        sub = commands.add_parser(
            name,
            help=help,
            description=textwrap.fill(help.replace("%%", "%"), 88),
            epilog=epilog,
            formatter_class=HelpFormatter,
        )
        sub.set_defaults(function=function)
        return sub

    sub = add(
        "list",
        command_list,
        "List the shipped presets with their measured accuracy, ± 95%% CI, and the paper's.",
        examples("metazoo list", "metazoo list runs/presets   # also folders written by train"),
    )
    sub.add_argument("folders", nargs="*", help="folders of presets to list as well")

    sub = add(
        "train",
        command_train,
        "Meta-train a recipe on Omniglot (resumable), evaluate and write its presets.",
        examples(
            "metazoo train protonet_omniglot --out runs/presets --data ../shared/data/omniglot",
            "metazoo train maml_omniglot_5way_1shot --out runs/presets --steps 2000",
            "(run the same command again to resume after an interruption)",
        ),
    )
    sub.add_argument("recipe", help="recipe name, e.g. protonet_omniglot")
    sub.add_argument(
        "--out",
        required=True,
        metavar="FOLDER",
        help="folder that receives one preset folder per preset",
    )
    add_data_argument(sub)
    sub.add_argument(
        "--steps", type=int, metavar="N", help="total meta-updates (default: the recipe's)"
    )
    sub.add_argument(
        "--steps-per-epoch",
        type=int,
        metavar="N",
        help="meta-updates between checkpoints (default 100, or the resumed run's)",
    )
    sub.add_argument(
        "--checkpoint",
        metavar="FOLDER",
        help="checkpoint folder (default: OUT/../.checkpoints/RECIPE)",
    )
    sub.add_argument(
        "--init-from", metavar="PRESET", help="preset name or folder whose weights start the run"
    )
    sub.add_argument(
        "--eval-episodes",
        type=int,
        default=1000,
        metavar="N",
        help="test episodes per preset (0: skip)",
    )
    sub.add_argument("--queries", type=int, default=15, metavar="N", help="test queries per class")
    sub.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the test episodes")

    sub = add(
        "eval",
        command_eval,
        "Evaluate a preset on the Omniglot test split: mean accuracy and 95%% CI.",
        examples(
            "metazoo eval protonet_omniglot_5way_1shot --episodes 1000",
            "metazoo eval protonet_omniglot_5way_1shot --ways 20 --shots 5",
            "metazoo eval runs/presets/maml_omniglot_5way_1shot --write",
        ),
    )
    sub.add_argument("preset", help="preset name or preset folder")
    sub.add_argument("--episodes", type=int, default=1000, metavar="N", help="test episodes")
    add_data_argument(sub)
    sub.add_argument(
        "--ways", type=int, metavar="N", help="classes per episode (default: the preset's)"
    )
    sub.add_argument(
        "--shots", type=int, metavar="K", help="support images per class (default: the preset's)"
    )
    sub.add_argument("--queries", type=int, default=15, metavar="N", help="query images per class")
    sub.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the test episodes")
    sub.add_argument(
        "--write",
        action="store_true",
        help="record accuracy, ci95 and test_episodes in the preset's metadata.json",
    )

    sub = add(
        "adapt",
        command_adapt,
        "Adapt a preset to a support folder (one subfolder of images per class); classify "
        "query images; save or export the adapted classifier.",
        examples(
            "metazoo adapt protonet_omniglot_5way_1shot --support task/support "
            "--query task/query --out task.keras",
            "(task/support/<class>/*.png; labels follow the sorted class names)",
        ),
    )
    sub.add_argument("preset", help="preset name or preset folder")
    add_support_argument(sub)
    sub.add_argument(
        "--query",
        nargs="+",
        metavar="FOLDER_OR_FILE",
        help="query images, or folders of them (subfolders named like a class give accuracy)",
    )
    sub.add_argument("--out", metavar="FILE", help="save the adapted classifier as a .keras file")
    add_export_arguments(sub)

    sub = add(
        "export",
        command_export,
        "Adapt a preset to a support folder and export the classifier to ONNX and/or "
        "SavedModel, verified against Keras.",
        examples(
            "metazoo export protonet_omniglot_5way_1shot --support task/support "
            "--onnx task.onnx --saved-model task_savedmodel",
        ),
    )
    sub.add_argument("preset", help="preset name or preset folder")
    add_support_argument(sub)
    add_export_arguments(sub)

    sub = add(
        "demo",
        command_demo,
        "Adapt the shipped ProtoNet and MAML presets to tasks of procedurally drawn glyphs "
        "(no data, no download), check accuracy, export to ONNX and SavedModel and compare.",
        examples("metazoo demo", "metazoo demo --out demo_out --shots 1"),
    )
    sub.add_argument(
        "--preset",
        action="append",
        metavar="PRESET",
        help=f"preset name or folder to run, repeatable (default: {', '.join(DEMO_PRESETS)})",
    )
    sub.add_argument(
        "--shots",
        type=int,
        nargs="+",
        default=[1, 5],
        metavar="K",
        help="5-way tasks with these shots (default: 1 5)",
    )
    sub.add_argument("--queries", type=int, default=5, metavar="N", help="query images per class")
    sub.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the demo glyphs")
    sub.add_argument(
        "--out", metavar="FOLDER", help="folder for the exported models (default: a temporary one)"
    )
    sub.add_argument("--no-export", action="store_true", help="skip ONNX and SavedModel")
    return parser


def add_data_argument(parser):
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="Omniglot folder with images_background.zip, images_evaluation.zip and "
        "splits/vinyals/ (default: $METAZOO_OMNIGLOT, else ../shared/data/omniglot)",
    )


def add_support_argument(parser):
    parser.add_argument(
        "--support",
        required=True,
        metavar="FOLDER",
        help="folder of class subfolders holding support images",
    )


def add_export_arguments(parser):
    parser.add_argument("--onnx", metavar="PATH", help="export to this ONNX file")
    parser.add_argument("--saved-model", metavar="PATH", help="export to this SavedModel folder")


def main(argv=None):
    """Runs `metazoo` with `argv` (default: the command line); returns the exit status."""
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("METAZOO_DEBUG") == "1"
    try:
        start_tensorflow(debug)
        return args.function(args)
    except KeyboardInterrupt:
        hint = "; run the same command again to resume" if args.command == "train" else ""
        print(f"metazoo {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as error:
        if debug or not isinstance(error, user_errors()):
            raise
        print(f"metazoo {args.command}: error: {one_line(error)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
