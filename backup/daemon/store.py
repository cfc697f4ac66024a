"""The daemon's state on disk: ``<state>/daemon.sqlite`` (schema in docs/design.md; the tables
and their SQL are in ``inventory.store.queue``).

- ``queue``: files whose write has finished and that are not through the pipeline yet. A file
  leaves the queue only after it has been recorded, stamped and (if important) backed up, so a
  daemon killed at any moment finds its pending work here on the next start; every stage skips
  what is already done, so nothing is recorded or stamped twice.
- ``runs``: the scheduled (and real-time) backup runs the daemon started: when, why, and how
  they ended. A row without ``finished`` is a run that was interrupted.
- ``meta``: when the daemon first ran for this profile, the last health grade.
"""

from __future__ import annotations

from pathlib import Path

from backup.errors import StateError
from inventory.errors import DatabaseError
from inventory.store.queue import QueueStore

MAX_ATTEMPTS = 3  # a file that fails this often stays in the inventory's hands (the next scan)


DAEMON_LOCK = "daemon.lock"


def daemon_lock_path(state_dir: Path) -> Path:
    """The lock a running daemon holds (light to import: ``backup status`` looks at it)."""
    return state_dir / DAEMON_LOCK


def daemon_db_path(state_dir: Path) -> Path:
    return state_dir / "daemon.sqlite"


class DaemonStore(QueueStore):
    """The profile's daemon state (``StateError`` if it cannot be opened)."""

    def __init__(self, path: Path) -> None:
        try:
            super().__init__(path, max_attempts=MAX_ATTEMPTS)
        except DatabaseError as exc:
            raise StateError(str(exc)) from exc

    def __enter__(self) -> DaemonStore:
        return self
