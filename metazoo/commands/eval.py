"""`metazoo eval`: a preset's accuracy on a test split (Omniglot's or other images'),
optionally recorded."""

import os
import sys

from metazoo.common import (
    CommandError,
    check_ways,
    evaluation_metadata,
    load_preset,
    omniglot_folder,
    paper_accuracy,
    say,
)


def command_eval(args):
    from training import protocols
    from training.evaluate import evaluate, meets_paper
    from zoo.files import write_json_atomically
    from zoo.presets import METADATA_FILE

    learner, metadata, directory = load_preset(args.preset)
    if metadata.get("dataset") == "sinusoid":
        from metazoo.commands.eval_sinusoid import command_eval_sinusoid

        return command_eval_sinusoid(args, learner, metadata, directory)
    from training.sequence_recipes import is_sequence_preset

    if is_sequence_preset(metadata):  # Santoro et al.'s protocol: accuracy per instance
        from metazoo.commands.sequences import command_eval_sequences

        return command_eval_sequences(args, learner, metadata, directory)
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
    from metazoo.commands import image_data

    omniglot = image_data.data_kind(args.data) == "omniglot"
    protocol = metadata.get("protocol", protocols.PROTOCOL) if omniglot else None
    if args.queries is None and own and omniglot and metadata.get("dataset") == "omniglot":
        args.queries = recorded_queries(metadata, args.transductive)
    queries, examples = protocols.evaluation_queries_and_examples(protocol, args.queries)
    args.queries = queries  # the protocol's default when neither given nor recorded
    if min(ways, shots, queries) < 1 or (omniglot and shots + queries > examples):
        raise CommandError(
            f"--shots {shots} + --queries {queries} must be positive and at most the "
            f"{examples} examples of an Omniglot class in this protocol's test split"
        )
    if omniglot:
        data_dir = omniglot_folder(args.data)
        sampler = protocols.evaluation_sampler(
            data_dir, protocol, ways, shots, queries, args.seed, learner.image_size
        )
        split = protocols.evaluation_split_name(protocol)
    else:
        sampler, split = image_data.evaluation_sampler(args, learner, metadata, ways, shots)
    transductive = args.transductive or bool(metadata.get("transductive"))
    if args.write and args.transductive and not metadata.get("transductive"):
        suffix = "_transductive"  # recorded beside the preset's own (non-transductive) number
    else:
        suffix = ""
    result = evaluate(
        learner,
        sampler,
        args.episodes,
        verbose=int(sys.stdout.isatty()),
        transductive=args.transductive,
    )
    name = metadata.get("preset", args.preset)
    paper = paper_accuracy(name, metadata, None if own else (ways, shots))
    paper = f" (paper {paper}%)" if paper is not None else ""
    # MAML normalizes with the query batch's statistics, as in the paper: say so.
    transductive = " [transductive]" if transductive else ""
    say(
        f"{name}: {ways}-way {shots}-shot, {split}, {result['episodes']} episodes "
        f"of {args.queries} queries per class (seed {args.seed}): "
        f"{result['accuracy']:.2f} ± {result['ci95']:.2f}%{paper}{transductive}"
    )
    if args.write:
        path = os.path.join(directory, METADATA_FILE)
        metadata.update(evaluation_metadata(result, args.queries, args.seed, suffix))
        if "accuracy" in metadata:  # the preset's own evaluation, not only a transductive one
            metadata["meets_paper"] = meets_paper(
                metadata["accuracy"], metadata.get("paper_accuracy")
            )
        write_json_atomically(path, metadata)
        say(f"recorded in {path}")
    return 0


def recorded_queries(metadata, transductive=False):
    """The queries per class of a preset's recorded evaluation (its transductive one first
    with `transductive`), or None: `metazoo eval` reuses them on the preset's own setting, so
    that it reproduces the number the preset ships with (Finn et al.'s MAML protocol tests as
    many queries as shots, where the others test 15)."""
    keys = ["test_queries_per_class_transductive"] if transductive else []
    keys.append("test_queries_per_class")
    return next((metadata[key] for key in keys if key in metadata), None)
