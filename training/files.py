"""Atomic file writes: write beside the target under a temporary name, then rename into place."""

import contextlib
import json
import os


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """Yields a temporary path beside `path`, renamed onto `path` when the block succeeds.

    The temporary name carries the process id, so two processes writing the same file do not
    write into each other's partial file. If the block raises, the partial file is deleted and
    `path` is left as it was.

    Args:
        path: the file to write.
        suffix: ending of the temporary name, for writers that need one (Keras: `.tmp.keras`,
            NumPy: `.tmp.npz`).

    Yields:
        The temporary path to write to.
    """
    partial = f"{path}.{os.getpid()}{suffix}"
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)
        raise


def write_json_atomically(path, data):
    """Writes `data` as indented JSON to `path`, atomically."""
    with atomic_path(path) as partial, open(partial, "w") as file:
        json.dump(data, file, indent=2)
