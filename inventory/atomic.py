"""Outputs appear whole or not at all: written under a temporary name in the destination's
folder, fsynced, renamed, and the folder fsynced. The temporary names start with ``.`` and end
with ``.keepmark-tmp``, which scans leave out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_SUFFIX = ".keepmark-tmp"


def fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # Windows cannot open a folder to fsync it
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


@contextmanager
def atomic_path(
    dst: Path, mode: int | None = None, *, synced: bool = False, sync_dir: bool = True
) -> Iterator[Path]:
    """Yield a temporary path next to ``dst`` for a writer (Pillow, ffmpeg) to fill; on success
    it is fsynced and renamed to ``dst``; on any failure it is removed and ``dst`` untouched.
    The file gets ``mode``, or the usual mode for a new file (mkstemp's is private).
    ``synced``: the writer fsyncs the file itself. ``sync_dir=False``: the caller fsyncs the
    folder later (once for a batch of files, before it records them anywhere)."""
    import tempfile

    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=TMP_SUFFIX)
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        yield tmp
        if not synced:
            fsync_file(tmp)
        os.replace(tmp, dst)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    if sync_dir:
        fsync_dir(dst.parent)


def write_atomic(dst: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``dst`` with ``data``: written, fsynced and renamed in one go."""
    with atomic_path(dst, mode, synced=True) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old file or the new, never half.
    An existing file keeps its permissions."""
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    write_atomic(path, data, mode)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
