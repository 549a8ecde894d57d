"""`metazoo list`: the presets with their measured accuracy and the paper's."""

import json
import os

from metazoo.common import CommandError, format_accuracy, paper_accuracy, say


def read_metadata(folder):
    """The `metadata.json` of a preset folder, or None when the folder holds none."""
    from zoo.presets import METADATA_FILE

    path = os.path.join(folder, METADATA_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as file:
        return json.load(file)


def command_list(args):
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
