"""One run at a time per profile: a lock file in the state directory (``run.lock``), held by
the running process and released by the OS if it dies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backup.errors import KeepmarkError


class Busy(KeepmarkError):
    """Another run of this profile is in progress."""


@contextmanager
def run_lock(state_dir: Path, what: str) -> Iterator[None]:
    from filelock import FileLock, Timeout

    state_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(state_dir / "run.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise Busy(f"another backup run of this profile is in progress; {what} not started") from None
    try:
        yield
    finally:
        lock.release()
