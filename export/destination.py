"""Where an export may go: checked before any work is done."""

import os


def check_destination(path, folder):
    """Resolves and checks an export target before any work is done.

    Args:
        path: where the artifact goes.
        folder: whether the artifact is a folder (SavedModel) rather than a file (ONNX).

    Returns:
        The absolute target path.

    Raises:
        FileNotFoundError: when the parent folder does not exist.
        NotADirectoryError: when the parent is not a folder.
        IsADirectoryError: when a file is to be written over an existing folder.
        FileExistsError: when a folder is to be written over an existing file, or over an
            existing folder that is neither empty nor a SavedModel (it is never deleted).
    """
    target = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(target)
    if not os.path.exists(parent):
        raise FileNotFoundError(f"cannot export to {target}: folder {parent} does not exist")
    if not os.path.isdir(parent):
        raise NotADirectoryError(f"cannot export to {target}: {parent} is not a folder")
    if not os.path.lexists(target):
        return target
    if not folder and os.path.isdir(target):
        raise IsADirectoryError(f"cannot write a file to {target}: it is an existing folder")
    if folder and not os.path.isdir(target):
        raise FileExistsError(f"cannot write a SavedModel to {target}: it is an existing file")
    if folder and os.listdir(target) and not os.path.exists(os.path.join(target, "saved_model.pb")):
        raise FileExistsError(
            f"refusing to replace {target}: it is a non-empty folder that is not a SavedModel"
        )
    return target
