"""One run at a time per profile: a lock file in the state directory (``run.lock``), locked
with the operating system's file locks (``flock`` on macOS and Linux, ``msvcrt.locking`` on
Windows), so it is released when the process ends, even by ``kill -9``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backup.errors import KeepmarkError


class Busy(KeepmarkError):
    """Another run of this profile is in progress."""


def _try_lock(fd: int) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextmanager
def hold_lock(path: Path, busy_message: str) -> Iterator[None]:
    """Hold the lock file ``path`` (its content: this process's id), or raise ``Busy`` at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(fd):
            raise Busy(busy_message)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def holder(path: Path) -> int | None:
    """The process id holding the lock file ``path``, or None when nobody holds it."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        if _try_lock(fd):
            return None  # free (and released again when fd is closed)
        text = os.read(fd, 32).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)


@contextmanager
def run_lock(state_dir: Path, what: str) -> Iterator[None]:
    """Hold the profile's run lock, or raise ``Busy`` at once."""
    with hold_lock(
        state_dir / "run.lock", f"another backup run of this profile is in progress; {what} not started"
    ):
        yield
