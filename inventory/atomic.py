"""The one way Keepmark writes a file: whole or not at all. Every writer (the stamper, the
targets, the proof store, profiles, exports, the match index) goes through ``atomic_path``: the
bytes go to a temporary name in the destination's folder, are fsynced, renamed over the
destination, and the folder is fsynced. The temporary names start with ``.`` and end with
``.keepmark-tmp``, which scans leave out and a full backup run cleans from a drive."""

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


NAME_MAX = 255  # bytes in one file name, on the file systems Keepmark writes to
SHORT_PREFIX = ".km-"


def _prefix(dst: Path, short: bool) -> str:
    """``.NAME.`` (a temporary file says whose it is), or ``.km-`` when asked, or when that
    would make the temporary name too long for the file system."""
    long = f".{dst.name}."
    if short or len(os.fsencode(long + "x" * 8 + TMP_SUFFIX)) > NAME_MAX:
        return SHORT_PREFIX
    return long


@contextmanager
def atomic_path(
    dst: Path, mode: int | None = None, *, synced: bool = False, sync_dir: bool = True, short: bool = False
) -> Iterator[Path]:
    """Yield a temporary path next to ``dst`` for a writer (Pillow, ffmpeg) to fill; on success
    it is fsynced and renamed to ``dst``; on any failure it is removed and ``dst`` untouched.
    The file gets ``mode``, or the usual mode for a new file (mkstemp's is private).
    ``synced``: the writer fsyncs the file itself. ``sync_dir=False``: the caller fsyncs the
    folder later (once for a batch of files, before it records them anywhere). ``short``: a
    temporary name that does not repeat ``dst``'s (``.km-XXXXXXXX.keepmark-tmp``)."""
    import tempfile

    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dst.parent, prefix=_prefix(dst, short), suffix=TMP_SUFFIX)
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


_UMASK: list[int] = []


def _umask() -> int:
    """The process's umask, read once: reading it means setting it, which is not safe while
    other threads create files."""
    if not _UMASK:
        current = os.umask(0o022)
        os.umask(current)
        _UMASK.append(current)
    return _UMASK[0]


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
