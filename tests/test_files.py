"""write_atomic and replacing: all or nothing, with the path in the error."""

import pytest

from storylab._files import WriteError, replacing, write_atomic


def test_write_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    write_atomic(target, '{"new": 1}')
    assert target.read_text() == '{"new": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_failure_inside_the_block_keeps_the_old_file(tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer failed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_temporary_keeps_the_suffix(tmp_path):
    with replacing(tmp_path / "a.png") as tmp:
        assert tmp.suffix == ".png"
        tmp.write_bytes(b"x")


def test_directory_in_the_way(tmp_path):
    with pytest.raises(WriteError, match=f"cannot write {tmp_path}: it is a directory"):
        write_atomic(tmp_path, "x")


def test_missing_folder_names_the_path(tmp_path):
    target = tmp_path / "nope" / "a.txt"
    with pytest.raises(WriteError, match=r"nope/a\.txt"):
        write_atomic(target, b"x")
