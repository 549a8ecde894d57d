"""`metazoo adapt` and `metazoo export`: a preset adapted to a support folder, used or exported."""

import os

from metazoo.common import CommandError, check_ways, load_preset, one_line, say


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


def adapt_to_folder(preset, support):
    """Loads a preset and adapts it to a support folder.

    Returns:
        `(classifier, class_names, support_images)`.
    """
    from metazoo.image_folders import read_support_folder

    learner, _, _ = load_preset(preset)
    names, images, labels, resized = read_support_folder(support, learner.channels)
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
        files, images, truth, resized = read_queries(
            args.query, names, support.shape[1:3], support.shape[-1]
        )
        if resized:
            say(f"note: {resized} query images resized to {support.shape[1]}x{support.shape[2]}")
        # One batch (each image is classified on its own, whatever the batch).
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
