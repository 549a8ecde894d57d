"""The `metazoo` command: list, train, evaluate, adapt, export and demo the presets.

Every subcommand has `--help` with an example. User errors (an unknown preset, a missing
folder, no Omniglot where one is needed) end with a one-line message and exit status 2;
`metazoo --debug ...` shows tracebacks and TensorFlow's own log lines as well.
"""

import argparse
import os
import sys
import textwrap

from metazoo.commands.adapt import command_adapt, command_export
from metazoo.commands.eval import command_eval
from metazoo.commands.list import command_list
from metazoo.commands.train import command_train
from metazoo.common import (
    CommandError,
    one_line,
    quiet_native_logs,
    start_tensorflow,
    user_errors,
)
from metazoo.demo import DEMO_PRESETS, run_demo

EXIT_USAGE = 2


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
        examples(
            "metazoo list",
            "metazoo list runs/presets   # also folders written by train",
            "metazoo list --markdown     # the README's results table",
        ),
    )
    sub.add_argument("folders", nargs="*", help="folders of presets to list as well")
    sub.add_argument(
        "--markdown", action="store_true", help="print the measured presets as a Markdown table"
    )

    sub = add(
        "train",
        command_train,
        "Meta-train a recipe on Omniglot or your own images (resumable), evaluate and write its "
        "presets.",
        examples(
            "metazoo train protonet_omniglot --out runs/presets --data ../shared/data/omniglot",
            "metazoo train maml_omniglot_5way_1shot --out runs/presets --steps 2000",
            "metazoo train protonet_omniglot --out runs/shapes --data shapes/   # <class>/*.png",
            "metazoo train maml_omniglot_5way_1shot --out runs/flowers --data tfds:NAME",
            "metazoo train mann_omniglot_5class --out runs/presets   # Santoro et al.'s sequences",
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
        "--image-size",
        type=int,
        metavar="S",
        help="image data: side the images are resized to (default: the first image's height)",
    )
    sub.add_argument(
        "--channels",
        type=int,
        metavar="C",
        help="image data: 1 (grayscale) or 3 (RGB) to convert every image to (default: the "
        "images' own, which must agree)",
    )
    sub.add_argument(
        "--invert",
        action="store_true",
        help="image data: invert intensities, for dark strokes on white like Omniglot",
    )
    sub.add_argument(
        "--splits",
        metavar="FOLDER",
        help="image data: folder of split files train.txt, val.txt, test.txt listing class "
        "folders (default: DATA/splits, else a seeded 0.6/0.2/0.2 split written to the "
        "checkpoint folder)",
    )
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
    sub.add_argument(
        "--queries",
        type=int,
        metavar="N",
        help="test queries per class (default: the recipe's, else 15; 1 in Koch's protocol)",
    )
    sub.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the test episodes")

    sub = add(
        "eval",
        command_eval,
        "Evaluate a preset on the test split of Omniglot or your own images: mean accuracy and "
        "95%% CI.",
        examples(
            "metazoo eval protonet_omniglot_5way_1shot --episodes 1000",
            "metazoo eval protonet_omniglot_5way_1shot --ways 20 --shots 5",
            "metazoo eval runs/presets/maml_omniglot_5way_1shot --write",
            "metazoo eval runs/presets/mann_omniglot_5class --write   # per-instance table",
            "metazoo eval runs/shapes/protonet_omniglot_5way_5shot --data shapes/",
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
    sub.add_argument(
        "--queries",
        type=int,
        metavar="N",
        help="query images per class (default: as in the preset's recorded evaluation on "
        "its own setting, else 15; 1 in Koch's protocol)",
    )
    sub.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the test episodes")
    sub.add_argument(
        "--transductive",
        action="store_true",
        help="normalize with each test episode's own batch statistics, as the papers' code "
        "did (with --write: recorded as accuracy_transductive)",
    )
    sub.add_argument(
        "--write",
        action="store_true",
        help="record accuracy, ci95 and test_episodes in the preset's metadata.json",
    )
    sub.add_argument(
        "--figure",
        metavar="PNG",
        help="sinusoid presets: where to write the adapted curves (default: "
        "PRESET_curves.png); sequence presets (MANN on Santoro et al.'s protocol): the "
        "accuracy-per-instance curve (default: PRESET_instances.png)",
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
        run_demo,
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
        "splits/vinyals/; or an image-folder root (one subfolder of PNG/JPEG images per class); "
        "or tfds:NAME, a data set in the TFDS data dir (default: $METAZOO_OMNIGLOT, else "
        "../shared/data/omniglot)",
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


def start_cluster_strategy(debug):
    """Creates the MultiWorkerMirroredStrategy when `TF_CONFIG` names a cluster: TensorFlow
    requires it before any other operation, so before `start_tensorflow` runs one."""
    from training.distributed import cluster_config, cluster_strategy

    try:
        if cluster_config() is None:
            return
    except ValueError as error:
        raise CommandError(str(error)) from None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if debug else "2")
    with quiet_native_logs(not debug):
        cluster_strategy()


def main(argv=None):
    """Runs `metazoo` with `argv` (default: the command line); returns the exit status."""
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("METAZOO_DEBUG") == "1"
    try:
        if args.command == "train":
            from metazoo.commands.train import configure_threads

            configure_threads(args.recipe)
            start_cluster_strategy(debug)
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
