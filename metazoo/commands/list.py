"""`metazoo list`: the presets with their measured accuracy and the paper's."""

import json
import os

from metazoo.common import (
    CommandError,
    format_accuracy,
    meets_paper_cell,
    paper_accuracy,
    say,
)


def read_metadata(folder):
    """The `metadata.json` of a preset folder, or None when the folder holds none."""
    from zoo.presets import METADATA_FILE

    path = os.path.join(folder, METADATA_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as file:
        return json.load(file)


def lineage(metadata):
    """The training stages of a preset, oldest first: `(recipe or preset, steps, seconds)`."""
    stages, record = [], metadata
    while record:
        stages.append(
            (
                record.get("recipe"),
                record.get("preset"),
                record.get("train_steps"),
                record.get("train_seconds"),
            )
        )
        record = record.get("init_from")
    return stages[::-1]


def episode_shape(recipe, preset):
    """`60-way 5-shot` for the training episodes of a recipe (looked up by name or preset);
    `of 25 tasks K = 10` for a sinusoid recipe's meta-batches."""
    from metazoo.common import recipe_of
    from training.recipes import RECIPES

    if not isinstance(recipe, dict):
        recipe = RECIPES.get(recipe or recipe_of(preset) or "", {})
    train = recipe.get("train", {})
    if not train:
        return "?"
    if recipe.get("data") == "sinusoid":  # regression: meta-batches of tasks of K points
        return f"of {train['tasks_per_batch']} tasks K = {train['shots']}"
    if recipe.get("protocol") == "sequences":  # Santoro et al.'s labelled sequences
        return f"of {train['tasks_per_batch']} sequences {train['classes']} x {train['instances']}"
    return f"{train['ways']}-way {train['shots']}-shot"


def training_summary(metadata):
    """E.g. `6000 steps 60-way 5-shot, then 20000 steps 60-way 1-shot; 117 + 254 min`."""
    groups, minutes = [], []
    for recipe, preset, steps, seconds in lineage(metadata):
        shape = episode_shape(recipe, preset)
        if groups and groups[-1][0] == shape:
            groups[-1][1].append(steps)
        else:
            groups.append((shape, [steps]))
        minutes.append("?" if seconds is None else f"{seconds / 60:.0f}")
    text = ", then ".join(
        f"{' + '.join(str(steps) for steps in counts)} steps {shape}" for shape, counts in groups
    )
    return f"{text}; {' + '.join(minutes)} min"


def markdown_table(rows):
    """The README's results table, one row per preset that has been measured."""
    lines = [
        "| preset | setting | accuracy | paper | meets paper | episodes x queries/class "
        "| transductive | training |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, metadata in rows:
        if metadata is None or metadata.get("accuracy") is None:
            continue
        paper = paper_accuracy(os.path.basename(os.path.normpath(name)), metadata)
        cells = [
            f"`{os.path.basename(os.path.normpath(name))}`",
            f"{metadata['ways']}-way {metadata['shots']}-shot",
            f"{metadata['accuracy']:.2f} ± {metadata['ci95']:.2f}",
            "-" if paper is None else f"{paper}",
            meets_paper_cell(metadata.get("meets_paper")),
            f"{metadata.get('test_episodes', '?')} x {metadata.get('test_queries_per_class', 15)}",
            "yes" if metadata.get("transductive") else "no",
            training_summary(metadata),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    regression = sinusoid_markdown_table(rows)
    from metazoo.commands import sequences

    per_instance = sequences.markdown_table(rows, training_summary)
    tables = ["\n".join(lines), regression, per_instance]
    return "\n\n".join(table for table in tables if table)


def sinusoid_markdown_table(rows):
    """The README's sinusoid table: query MSE after 1 / 5 / 10 steps for K = 5, 10, 20, or ""
    when no sinusoid preset has been measured."""
    lines = [
        "| preset | K = 5: MSE after 1 / 5 / 10 steps | K = 10 | K = 20 | pretrained baseline, "
        "K = 10 | training |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, metadata in rows:
        if metadata is None or metadata.get("dataset") != "sinusoid" or "mse" not in metadata:
            continue

        def steps(table, k):
            row = table["mse"].get(k, {})
            return " / ".join(f"{row[s]['mse']:.3f}" for s in ("1", "5", "10") if s in row)

        baseline = metadata.get("baseline_mse")
        cells = [
            f"`{os.path.basename(os.path.normpath(name))}`",
            *(steps(metadata["mse"], k) for k in ("5", "10", "20")),
            steps(baseline, "10") if baseline else "-",
            training_summary(metadata),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    figure = next((m["paper_mse"] for _, m in rows if m and m.get("paper_mse")), None)
    if len(lines) > 2 and figure:  # MAML's curve in Finn et al.'s figure, read off
        cells = [f"~{figure[k]['1']:.2f} / - / ~{figure[k]['10']:.2f}" for k in ("5", "10", "20")]
        lines.append(f"| Finn et al. figure 3, MAML (read off) | {' | '.join(cells)} | - | - |")
    return "\n".join(lines) if len(lines) > 2 else ""


def format_sinusoid_mse(metadata):
    """`MSE 0.31 ± 0.02 (K=10, 10 steps) (1000 test tasks)` from a sinusoid preset's
    metadata, else None."""
    shots, steps = str(metadata.get("shots")), "10"
    cell = metadata.get("mse", {}).get("mse", {}).get(shots, {}).get(steps)
    if cell is None:
        return None
    tasks = metadata["mse"].get("tasks", "?")
    measured = f"MSE {cell['mse']:.3f} ± {cell['ci95']:.3f} (K={shots}, {steps} steps)"
    return f"{measured} ({tasks} test tasks)"


def format_sinusoid_paper(metadata):
    """`paper ~0.20 (figure 3)`: MAML's MSE read off Finn et al.'s figure, at the preset's K
    and 10 steps, or `paper -`."""
    value = (metadata.get("paper_mse") or {}).get(str(metadata.get("shots")), {}).get("10")
    return "paper -" if value is None else f"paper ~{value:.2f} (figure 3)"


def command_list(args):
    from metazoo.commands import sequences
    from training.sequence_recipes import is_sequence_preset
    from zoo import presets

    rows = [
        (name, read_metadata(presets.preset_directory(name))) for name in presets.list_presets()
    ]
    for folder in args.folders:
        if not os.path.isdir(folder):
            raise CommandError(f"folder {folder} does not exist")
        candidates = [folder] + [os.path.join(folder, name) for name in sorted(os.listdir(folder))]
        for candidate in candidates:
            metadata = read_metadata(candidate)
            if metadata is not None:
                rows.append((candidate, metadata))
    if getattr(args, "markdown", False):
        say(markdown_table(rows))
        return 0
    width = max(len(name) for name, _ in rows)
    for name, metadata in rows:
        sinusoid = metadata is not None and metadata.get("dataset") == "sinusoid"
        if metadata is None:
            status = "not trained (no preset files)"
            setting = ""
        else:
            setting = f"{metadata.get('ways', '?')}-way {metadata.get('shots', '?')}-shot"
            measured = format_accuracy(metadata)
            episodes = f" ({metadata.get('test_episodes', '?')} test episodes)"
            if sinusoid:  # regression: MSE, not accuracy
                setting = f"K={metadata.get('shots', '?')} regression"
                measured, episodes = format_sinusoid_mse(metadata), ""
            if is_sequence_preset(metadata):  # accuracy per instance
                setting = f"{metadata['classes']} x {metadata['instances']} seq"
                measured = sequences.format_instances(metadata)
            status = "not measured" if measured is None else f"{measured}{episodes}"
        paper = paper_accuracy(os.path.basename(os.path.normpath(name)), metadata)
        paper = f"paper {paper:.1f}%" if paper is not None else "paper -"
        if is_sequence_preset(metadata):  # the paper's accuracy per instance
            paper = sequences.format_paper(metadata)
        if sinusoid:
            paper = format_sinusoid_paper(metadata)
        say(f"{name:<{width}}  {setting:<13} {status:<42} {paper}")
    return 0
