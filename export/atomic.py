"""Atomic writes: build an artifact beside its target, move it into place only on success."""

import contextlib
import os
import shutil
import uuid


def _remove(path):
    """Deletes a file or folder if it exists, ignoring errors."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _sibling(target, suffix):
    """A fresh hidden name in the target's folder, e.g. `.model.onnx.3f2a....tmp`."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.{uuid.uuid4().hex}{suffix}")


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


@contextlib.contextmanager
def atomic_destination(target):
    """Yields a temporary path beside `target`, moved onto `target` if the block succeeds.

    The temporary path does not exist yet; the block creates it (a file or a folder). If the
    block raises, whatever it wrote is deleted and `target` is untouched. A file replaces an
    existing file atomically (`os.replace`). A folder cannot atomically replace a non-empty
    folder, so the old one is first renamed aside, then the new one moved in, then the old one
    deleted; if moving in fails the old one is put back.

    Args:
        target: the absolute final path, as returned by `check_destination`.

    Yields:
        The temporary path to write to, in the same folder as `target`.
    """
    temporary = _sibling(target, ".tmp")
    try:
        yield temporary
        if not os.path.lexists(temporary):
            raise FileNotFoundError(f"nothing was written to {temporary}")
        _move_into_place(temporary, target)
    except BaseException:
        _remove(temporary)
        raise


def _move_into_place(source, target):
    """Renames `source` onto `target`, replacing what is there."""
    if not (os.path.isdir(target) and not os.path.islink(target)):
        os.replace(source, target)
        return
    backup = _sibling(target, ".old")
    os.replace(target, backup)
    try:
        os.replace(source, target)
    except BaseException:
        os.replace(backup, target)
        raise
    _remove(backup)
