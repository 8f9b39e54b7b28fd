"""Files written whole or not at all, with the permissions the user's umask gives a new file."""

import os
import stat

import pytest

from ner.utils.io import append_json_line, atomic_write_text, umask


@pytest.fixture
def mask():
    """Run a test under a umask of its choosing, and restore the process's afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda value: os.umask(value)
    os.umask(old)


@pytest.mark.parametrize("value, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_get_the_permissions_of_the_umask(tmp_path, mask, value, mode):
    mask(value)
    assert umask() == value
    atomic_write_text(tmp_path / "out.txt", "whole")
    append_json_line(tmp_path / "metrics.jsonl", {"epoch": 0})
    for name in ("out.txt", "metrics.jsonl"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    def broken(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    from ner.utils.io import atomic_write

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]
