"""`metazoo eval` of a sinusoid regression preset: query MSE after 1, 5 and 10 steps."""

import os

from metazoo.common import CommandError, say

BASELINE = "sinusoid_pretrained_baseline"
"""The preset of Finn et al.'s pretrained baseline, evaluated beside on the same tasks."""


def command_eval_sinusoid(args, learner, metadata, directory):
    """Prints the MSE table (K = 5, 10, 20) of the preset and of the baseline, writes the PNG
    of adapted curves and, with `--write`, records both tables in the preset's metadata, and
    whether its MSE meets MAML's curve in Finn et al.'s figure 3 (`meets_paper`)."""
    from training.sinusoid_evaluate import format_table, meets_figure, preset_fields, report
    from zoo.files import write_json_atomically
    from zoo.presets import METADATA_FILE, PRESETS, load_preset

    if args.episodes < 2:
        raise CommandError(f"--episodes must be at least 2, got {args.episodes}")
    name = metadata.get("preset", args.preset)
    baseline = None
    if name != BASELINE and BASELINE in PRESETS:
        baseline = load_preset(BASELINE)
    figure = args.figure or f"{name}_curves.png"
    result = report(learner, baseline, args.episodes, args.seed, figure, (name, "pretrained"))
    say(f"{name}: query MSE ± 95% CI over {args.episodes} sinusoid tasks (seed {args.seed})")
    say(format_table(result["mse"], name))
    if baseline is not None:
        say(format_table(result["baseline_mse"], "pretrained"))
    say(f"adapted curves: {os.path.abspath(result['figure'])}")
    if args.write:
        path = os.path.join(directory, METADATA_FILE)
        metadata.update(preset_fields())
        metadata["mse"] = result["mse"]
        metadata["meets_paper"] = meets_figure(result["mse"])
        if baseline is not None:
            metadata["baseline_mse"] = result["baseline_mse"]
        write_json_atomically(path, metadata)
        say(f"recorded in {path}")
    return 0
