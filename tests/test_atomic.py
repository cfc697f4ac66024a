"""The one atomic-write module: whole or nothing, a temporary name that fits the file system,
the usual mode for a new file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from inventory.atomic import NAME_MAX, TMP_SUFFIX, atomic_path, write_atomic


def test_replaced_whole_and_no_temporary_left(tmp_path: Path) -> None:
    dst = tmp_path / "a" / "b.txt"
    write_atomic(dst, b"first")
    write_atomic(dst, b"second")
    assert dst.read_bytes() == b"second"
    assert [p.name for p in dst.parent.iterdir()] == ["b.txt"]


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    dst = tmp_path / "b.txt"
    dst.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(dst) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("the writer failed")
    assert dst.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]


@pytest.mark.parametrize("length", [200, NAME_MAX - 4])
def test_a_long_name_gets_a_short_temporary_name(tmp_path: Path, length: int) -> None:
    name = "x" * (length - 4) + ".jpg"
    dst = tmp_path / name
    seen: list[str] = []
    with atomic_path(dst) as tmp:
        seen.append(tmp.name)
        tmp.write_bytes(b"data")
    assert dst.read_bytes() == b"data"
    assert seen[0].startswith(".") and seen[0].endswith(TMP_SUFFIX)
    assert len(os.fsencode(seen[0])) <= NAME_MAX
    assert seen[0].startswith(".km-") == (length > NAME_MAX - 30)


def test_short_names_when_asked(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "c.bin", short=True) as tmp:
        assert tmp.name.startswith(".km-") and tmp.name.endswith(TMP_SUFFIX)
        tmp.write_bytes(b"x")


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    dst = tmp_path / "d.txt"
    write_atomic(dst, b"x")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(dst.stat().st_mode) == 0o666 & ~umask
    write_atomic(dst, b"y", 0o600)
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600
