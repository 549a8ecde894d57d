"""`zoo.files.atomic_destination`, the one atomic write of exports, presets and checkpoints."""

import os

import pytest

from zoo.files import atomic_destination, write_json_atomically


def test_a_failed_write_leaves_the_old_file_and_nothing_else(tmp_path):
    target = tmp_path / "state.json"
    write_json_atomically(target, {"epoch": 1})
    with pytest.raises(RuntimeError), atomic_destination(target) as temporary:
        with open(temporary, "w") as file:
            file.write('{"epoch": 2, "trunc')
        raise RuntimeError("killed mid-write")
    assert os.listdir(tmp_path) == ["state.json"]
    assert target.read_text() == '{\n  "epoch": 1\n}'


def test_a_folder_replaces_a_folder_whole(tmp_path):
    target = tmp_path / "preset"
    for version in ("old", "new"):
        with atomic_destination(target) as temporary:
            os.makedirs(temporary)
            with open(os.path.join(temporary, f"{version}.txt"), "w") as file:
                file.write(version)
    assert os.listdir(tmp_path) == ["preset"]
    assert os.listdir(target) == ["new.txt"]


def test_the_temporary_name_keeps_the_suffix_writers_need(tmp_path):
    with atomic_destination(tmp_path / "checkpoint.keras", ".tmp.keras") as temporary:
        assert temporary.endswith(".tmp.keras")
        assert os.path.dirname(temporary) == str(tmp_path)
        open(temporary, "w").close()
    assert os.listdir(tmp_path) == ["checkpoint.keras"]


def test_writing_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_destination(tmp_path / "model.onnx"):
            pass
    assert os.listdir(tmp_path) == []
