"""Atomic writes (`dynamics.results.atomic_write`): all or nothing, ordinary permissions."""

import os
import stat

import pytest

from dynamics.results import atomic_write


def test_atomic_write_leaves_no_temporary_and_uses_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        out = atomic_write(tmp_path / "a.txt", lambda p: p.write_text("hello"))
    finally:
        os.umask(old)
    assert out.read_text() == "hello"
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # not mkstemp's 0600
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")

    def broken(p):
        p.write_text("partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
