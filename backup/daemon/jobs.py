"""What the daemon is given: its settings (plain values, not the profile) and its jobs.

The daemon decides *when* (a file has settled, a schedule slot has come, a run just ended); the
use cases (``backup/app``) decide *what*. ``backup/app/watch.py`` builds both from a profile and
hands them over, so the daemon never imports the layer above it and never sees a ``Profile``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

from backup.daemon.filters import PathFilter
from backup.profile.model import Schedule, Watch
from backup.runs.results import RunReport
from inventory.progress import Progress

# The health check's grades, best first; the daemon announces a grade worse than the last one.
GRADES = ("excellent", "pass", "high-risk")


class DaemonSettings(NamedTuple):
    """What the daemon watches and how."""

    name: str  # the profile's name: in the log, the lock's message and notifications
    state_dir: Path  # where daemon.sqlite, daemon.lock and daemon.log live
    folders: tuple[str, ...]  # the source folders, absolute
    filter: PathFilter  # which file events can be new content
    watch: Watch  # settle time, polling, notifications
    schedule: Schedule  # the weekly and monthly runs, and the battery rule
    follow_symlinks: bool = False
    has_targets: bool = True


class Delivery(NamedTuple):
    """How a real-time backup to one target went, file by file (source paths)."""

    target: str
    sent: list[str]  # now on the target (sent, or there already)
    failed: list[str]  # not on it: they wait, and are tried again
    error: str  # why they failed ("" when none did)


@dataclass
class BatchResult:
    """What one pass of settled files through the pipeline did."""

    stamped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    backed_up: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # important files whose backup must wait
    unsettled: list[str] = field(default_factory=list)  # found still being written: for the settler
    # photos and videos that do not decode yet, held back: path -> seconds until they are
    # recorded as undecodable if they still do not decode
    held: dict[str, float] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)  # the real-time backup, per target


class Jobs(Protocol):
    """The work the daemon starts. Every job reports through ``progress`` and ends within a
    file of its token being cancelled (raising ``Cancelled``)."""

    def process(self, paths: Sequence[str] | None, progress: Progress, *, settle_ns: int) -> BatchResult:
        """Record, stamp and (for important folders) back up these settled files; ``None``:
        everything in the source folders (the reconciliation), leaving files changed in the last
        ``settle_ns`` nanoseconds for later (``unsettled``). A photo or video that does not
        decode and changed within the profile's ``decode_wait_seconds`` is not recorded but
        listed in ``held``. Raises ``Busy`` never: a real-time
        backup that must wait for another run lists its files in ``waiting``."""
        ...

    def retry(self, target: str, paths: Sequence[str]) -> Delivery:
        """Back these files (real-time backups that failed) up to ``target`` now. A path that
        is no longer a recorded important file counts as sent. Raises ``Busy`` while another
        run of the profile holds the run lock."""
        ...

    def reachable(self, target: str) -> bool | None:
        """Whether ``target`` looks there, without a network call (a drive's folder is, say);
        None when only an attempt can tell (a remote)."""
        ...

    def backup(self, kind: str, progress: Progress) -> RunReport:
        """A scheduled ``incremental`` or ``full`` run. Raises ``Busy`` while another run of the
        profile holds the run lock."""
        ...

    def health(self) -> tuple[str, str]:
        """The health check's grade (one of ``GRADES``) and its first finding (empty when
        none)."""
        ...

    def served(self) -> dict[str, datetime]:
        """For each kind of run, when the newest one that reached every target started (runs
        made by hand count too)."""
        ...


@runtime_checkable
class TimestampJobs(Protocol):
    """Jobs that can also send a profile's waiting timestamp requests (the daemon then retries
    them every few minutes, besides every scan)."""

    def send_timestamps(self) -> tuple[list[int], list[int], list[str]]:
        """Send the waiting requests: (checkpoints timestamped, checkpoints still waiting, why
        they wait). An authority out of reach is no error: they wait for the next time."""
        ...
