"""Real-time backups that failed (a drive unplugged, a remote that does not answer) wait in
``daemon.sqlite``'s ``retries`` table, one row per file and target, and are tried again while
the daemon runs: after RETRY_FIRST seconds, then twice as long each time, at most RETRY_MOST
apart; and at once when a target that can be looked at without a network call (a drive's
folder) comes back. A scheduled run that reaches a target takes every file it lacks, so it ends
the wait for that target too. ``backup status`` lists what waits and why."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from backup.daemon.clock import Clock
from backup.daemon.jobs import Delivery, Jobs
from backup.errors import KeepmarkError
from backup.runs.lock import Busy
from inventory.store.queue import QueueStore

log = logging.getLogger("keepmark.daemon")

RETRY_FIRST = 10.0  # seconds
RETRY_MOST = 300.0
BUSY_RETRY = 5.0  # seconds before a retry that found the run lock taken is tried again


def next_try(now: datetime, attempts: int) -> datetime:
    """When a file that failed ``attempts`` times is tried again."""
    return now + timedelta(seconds=min(RETRY_FIRST * 2.0 ** min(attempts - 1, 20), RETRY_MOST))


class Retries:
    """The waiting real-time backups of one daemon (used from the worker's thread only)."""

    def __init__(self, store: QueueStore, jobs: Jobs, clock: Clock) -> None:
        self.store = store
        self.jobs = jobs
        self.clock = clock
        self._seen: dict[str, bool | None] = {}  # target -> whether it looked there last time
        self._not_before = 0.0  # monotonic: the run lock was taken, wait a little

    def note(self, deliveries: Sequence[Delivery]) -> None:
        """What a real-time backup did: files sent wait no more, files that failed wait."""
        now = self.clock.now()
        for d in deliveries:
            if d.sent:
                self.store.backup_sent(d.target, d.sent)
            if d.failed:
                self.store.backup_failed(d.target, d.failed, d.error, now, lambda n: next_try(now, n))
                when = self.store.retry_times().get(d.target)
                log.warning(
                    "real-time backup of %d files to %s failed (%s): tried again at %s, or as soon "
                    "as the target is back",
                    len(d.failed),
                    d.target,
                    d.error,
                    f"{when:%H:%M:%S}" if when else "the next start",
                )

    def reached(self, target: str) -> None:
        """A scheduled run reached ``target``: it holds every file now."""
        self.store.backup_sent(target)

    def due(self) -> list[str]:
        """The targets whose waiting files are to be tried now: their time has come, or the
        target has just come back."""
        if self.clock.monotonic() < self._not_before:
            return []
        now = self.clock.now()
        out: list[str] = []
        for target, when in self.store.retry_times().items():
            there = self.jobs.reachable(target)
            back = there is True and self._seen.get(target) is False
            self._seen[target] = there
            if back:
                log.info("target %s is back: the files waiting for it are sent now", target)
            if back or when <= now:
                out.append(target)
        return out

    def run(self, targets: Sequence[str]) -> int:
        """Try the waiting files of ``targets`` again; how many reached their target."""
        sent = 0
        for target in targets:
            paths = self.store.waiting_for(target)
            if not paths:
                continue
            try:
                done = self.jobs.retry(target, paths)
            except Busy:
                self._not_before = self.clock.monotonic() + BUSY_RETRY
                return sent
            except (KeepmarkError, OSError) as exc:
                done = Delivery(target, [], paths, str(exc))
            if done.sent:
                log.info("real-time backup: %d waiting files reached %s", len(done.sent), target)
            sent += len(done.sent)
            self.note([done])
        return sent
