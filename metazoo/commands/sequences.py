"""`metazoo train | eval | list` for presets on Santoro et al.'s sequence protocol (MANN):
accuracy per instance (1st, 2nd, ... presentation of a class) with the paper's row."""

import os

from metazoo.common import CommandError, check_ways, meets_paper_cell, say

INSTANCES = (1, 2, 3, 5, 10)
"""The instances of the paper's Table 1 shown in `metazoo list`."""


def check_sequence_data(data):
    """Fails unless `--data` is Omniglot (the sequence protocol's data)."""
    from metazoo.commands import image_data

    if image_data.data_kind(data) != "omniglot":
        raise CommandError(
            f"sequence recipes and presets use Omniglot; {data} is not an Omniglot folder"
        )


def evaluate_instances(learner, data_dir, classes, instances, episodes, seed):
    """`instance_accuracy` on `episodes` sequences of the Omniglot test split."""
    from training.sequence_recipes import DEFAULT_BATCH
    from training.sequences import instance_accuracy, omniglot_sequences

    sampler = omniglot_sequences(
        data_dir, "test", classes, instances, seed, learner.image_size, labels=learner.cell.labels
    )
    return instance_accuracy(learner, sampler, episodes, batch=DEFAULT_BATCH)


def write_sequence_presets(args, recipe, learner, state, data_dir):
    """After `metazoo train` of a sequence recipe: evaluates each preset on `--eval-episodes`
    test sequences (0: not evaluated), prints its table and writes the preset folder."""
    from training import sequence_recipes, train
    from training.sequences import instance_table

    for preset, (classes, instances) in recipe["presets"].items():
        paper = sequence_recipes.paper_row(recipe, preset)
        evaluation = None
        if args.eval_episodes:
            say(f"evaluating {preset} on {args.eval_episodes} test sequences")
            result = evaluate_instances(
                learner, data_dir, classes, instances, args.eval_episodes, args.seed
            )
            say(instance_table(result, paper))
            evaluation = sequence_recipes.evaluation_fields(result, paper, args.seed)
        metadata = train.preset_metadata(args.recipe, preset, state, evaluation)
        folder = train.write_preset(
            learner, os.path.join(os.path.abspath(args.out), preset), metadata
        )
        measured = format_instances(metadata) or "not measured"
        say(f"wrote {folder}: {classes} classes x {instances} instances, {measured}")


def command_eval_sequences(args, learner, metadata, directory):
    """`metazoo eval` of a sequence preset: prints the per-instance table with the paper's
    row, writes the PNG curve and, with `--write`, records the result in the metadata."""
    from metazoo.common import omniglot_folder
    from training import sequence_recipes
    from training.sequences import instance_table, write_instance_curve
    from zoo.files import write_json_atomically
    from zoo.presets import METADATA_FILE

    if args.episodes < 2:
        raise CommandError(f"--episodes must be at least 2, got {args.episodes}")
    if args.shots or args.transductive:
        raise CommandError(
            "--shots and --transductive do not apply to a sequence preset (it is scored at "
            "every presentation of a class)"
        )
    classes, instances = int(metadata["classes"]), int(metadata["instances"])
    if args.ways:
        check_ways(learner, args.ways, "--ways")
    check_sequence_data(args.data)
    data_dir = omniglot_folder(args.data)
    name = metadata.get("preset", args.preset)
    result = evaluate_instances(learner, data_dir, classes, instances, args.episodes, args.seed)
    paper = sequence_recipes.metadata_paper_row(metadata)
    say(
        f"{name}: {classes} classes x {instances} instances, Omniglot test split, "
        f"{result['episodes']} sequences (seed {args.seed}): accuracy (%) ± 95% CI per instance"
    )
    say(instance_table(result, paper))
    figure = write_instance_curve(result, args.figure or f"{name}_instances.png", paper)
    say(f"per-instance curve: {os.path.abspath(figure)}")
    if args.write:
        path = os.path.join(directory, METADATA_FILE)
        metadata.update(sequence_recipes.evaluation_fields(result, paper, args.seed))
        write_json_atomically(path, metadata)
        say(f"recorded in {path}")
    return 0


def format_instances(metadata, instances=INSTANCES):
    """`1st 36.1 · 2nd 80.2 · ... %` from a sequence preset's metadata, else None."""
    from training.sequences import ordinal

    recorded = metadata.get("instance_accuracy")
    if not recorded:
        return None
    return (
        " · ".join(
            f"{ordinal(k)} {recorded[str(k)]['accuracy']:.1f}"
            for k in instances
            if str(k) in recorded
        )
        + "%"
    )


def format_paper(metadata, instances=INSTANCES):
    """`paper 36.4 / 82.8 / ...` (the paper's row at `instances`), or `paper -`."""
    from training.sequence_recipes import metadata_paper_row

    row = metadata_paper_row(metadata)
    if not row:
        return "paper -"
    return "paper " + " / ".join(f"{row[k]}" if k in row else "-" for k in instances)


def markdown_table(rows, summary):
    """The README's per-instance table of the measured sequence presets, or "".

    Args:
        rows: `(name, metadata)` pairs, as `metazoo list` has them.
        summary: `training_summary(metadata)` of `metazoo list`.
    """
    from training.sequence_recipes import is_sequence_preset, metadata_paper_row
    from training.sequences import ordinal

    header = ["preset", "classes x instances", *(ordinal(k) for k in INSTANCES)]
    lines = [
        "| " + " | ".join([*header, "meets paper", "test episodes", "training"]) + " |",
        "| " + " | ".join(["---"] * (len(header) + 3)) + " |",
    ]
    for name, metadata in rows:
        if not is_sequence_preset(metadata) or not metadata.get("instance_accuracy"):
            continue
        recorded, paper = metadata["instance_accuracy"], metadata_paper_row(metadata)
        cells = [
            f"`{os.path.basename(os.path.normpath(name))}`",
            f"{metadata['classes']} x {metadata['instances']}",
        ]
        for k in INSTANCES:
            cell = recorded.get(str(k))
            text = "-" if cell is None else f"{cell['accuracy']:.1f} ± {cell['ci95']:.1f}"
            cells.append(text + (f" (paper {paper[k]})" if k in paper else ""))
        cells += [
            meets_paper_cell(metadata.get("meets_paper")),
            str(metadata.get("test_episodes", "?")),
            summary(metadata),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) if len(lines) > 2 else ""
