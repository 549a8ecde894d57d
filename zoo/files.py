"""Atomic writes: build a file or folder beside its target, move it into place on success.

The one mechanism behind exports, presets, training checkpoints and the Omniglot cache: a
failure at any moment leaves the target as it was and nothing half-written.
"""

import contextlib
import json
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


@contextlib.contextmanager
def atomic_destination(target, suffix=".tmp"):
    """Yields a temporary path beside `target`, moved onto `target` if the block succeeds.

    The temporary path does not exist yet; the block creates it (a file or a folder). If the
    block raises, whatever it wrote is deleted and `target` is untouched. A file replaces an
    existing file atomically (`os.replace`). A folder cannot atomically replace a non-empty
    folder, so the old one is first renamed aside, then the new one moved in, then the old one
    deleted; if moving in fails the old one is put back.

    Args:
        target: the final path.
        suffix: ending of the temporary name, for writers that need one (Keras: `.tmp.keras`,
            NumPy: `.tmp.npz`).

    Yields:
        The temporary path to write to, in the same folder as `target`.
    """
    target = os.path.abspath(os.fspath(target))
    temporary = _sibling(target, suffix)
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


def write_json_atomically(path, data):
    """Writes `data` as indented JSON to `path`, atomically."""
    with atomic_destination(path) as temporary, open(temporary, "w") as file:
        json.dump(data, file, indent=2)
