"""``backup watch``: the daemon for one profile, and the jobs it runs.

The daemon (``backup/daemon``) decides when: a file has settled, a schedule slot has come, a run
has just ended. What happens then is decided here, by the same use cases the CLI calls:

- settled files (``process``): recorded, stamped, and those under an important folder backed up
  to every target at once, without a snapshot (the next scheduled run lists them). Each step
  skips what is done (an unchanged file is not read again, a copy already made with the same
  style is not made again, a target that holds the file is not sent it again), so a file run
  through twice, after a kill, changes nothing;
- a schedule slot (``backup``): ``backup incremental`` or ``backup full``;
- after a run (``health``): ``backup check``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from backup.app.backups import back_up_files, run_backup
from backup.app.check import check_profile
from backup.app.facts import missing_on, served
from backup.app.stamp import record_and_stamp
from backup.app.workspace import excluded_folders, ignore_globs, open_inventory, source_labels
from backup.daemon import logs
from backup.daemon.clock import Clock
from backup.daemon.daemon import REWATCH, SCHEDULE_TICK, Daemon
from backup.daemon.filters import PathFilter
from backup.daemon.jobs import BatchResult, DaemonSettings, Delivery
from backup.home import state_dir
from backup.profile.model import Profile
from backup.runs.catalog import Catalog, catalog_path
from backup.runs.lock import Busy
from backup.runs.plan import wanted_files
from backup.runs.results import RunReport, TargetResult
from backup.targets import identity
from backup.targets.local import MARKER, mount_point_needed
from inventory.progress import Progress
from inventory.record.examine import Observed
from inventory.record.facts import FileFacts
from inventory.record.scan import STILL_WRITTEN
from inventory.record.walk import Found
from inventory.store.rows import FileRow

_log = logging.getLogger("keepmark.daemon")


def settings_for(profile: Profile, *, polling: bool | None = None) -> DaemonSettings:
    """What the daemon watches and how, from the profile (``polling`` overrides its
    ``[watch] polling``)."""
    folders = tuple(os.path.abspath(f) for f in profile.sources.folders)
    watch = profile.watch if polling is None else profile.watch._replace(polling=polling)
    return DaemonSettings(
        name=profile.name,
        state_dir=state_dir(profile.name),
        folders=folders,
        filter=PathFilter(folders, excluded=excluded_folders(profile), ignore=ignore_globs(profile)),
        watch=watch,
        schedule=profile.schedule,
        follow_symlinks=profile.sources.follow_symlinks,
        has_targets=bool(profile.targets),
    )


class ProfileJobs:
    """The daemon's jobs for one profile (``backup.daemon.jobs.Jobs``). Each job takes the
    profile as its file says now: a change made while the daemon runs (the app's watermark
    designer, a timestamp authority chosen, a target added, an edit by hand) applies from the
    next file or run. A file that no longer reads as a valid profile leaves the last good one
    in use, said once in the log. The folders watched and the schedule are the daemon's own,
    taken when it starts: a change to them is logged as waiting for a restart."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._seen = _file_state(profile.file)
        self._used: dict[str, bool] = {}  # target -> whether the catalog knows it (for reachable)

    @property
    def profile(self) -> Profile:
        now = _file_state(self._profile.file)
        if now == self._seen:
            return self._profile
        self._seen = now
        from backup.errors import KeepmarkError
        from backup.profile.load import load

        name = self._profile.name
        try:
            fresh = load(str(self._profile.file))
        except KeepmarkError as exc:
            _log.error("profile %s changed but does not read (%s); still using it as it was", name, exc)
            return self._profile
        if _daemons_own(fresh) != _daemons_own(self._profile):
            _log.warning(
                "profile %s: the folders watched or the schedule changed: restart backup watch", name
            )
        _log.info("profile %s changed; read again", name)
        self._used.clear()  # the targets may be others now
        self._profile = fresh
        return fresh

    def send_timestamps(self) -> tuple[list[int], list[int], list[str]]:
        """Send the profile's waiting timestamp requests (the daemon asks every few minutes):
        (sent, still pending, errors)."""
        from backup.app.timestamps import send_timestamps

        r = send_timestamps(self.profile)
        return r.sent, r.pending, r.errors

    def process(self, paths: Sequence[str] | None, progress: Progress, *, settle_ns: int) -> BatchResult:
        profile = self.profile
        result = BatchResult()
        chosen = paths if paths is None else [p for p in paths if os.path.lexists(p)]
        if chosen is not None and not chosen:
            return result
        wait_ns = int(profile.watch.decode_wait_seconds * 1e9)

        def hold(found: Found, facts: FileFacts, seen: Observed) -> bool:
            """A photo or video that does not decode while it may still be being written
            (changed less than ``decode_wait_seconds`` ago) is held, not recorded."""
            if facts.decode_error is None:
                return False
            left = min(seen.mtime_ns + wait_ns - time.time_ns(), wait_ns)
            if left <= 0:
                return False
            result.held[found.path] = left / 1e9
            return True

        done = record_and_stamp(
            profile,
            chosen or (),
            progress=progress,
            skip_newer=time.time_ns() - settle_ns if paths is None else None,
            hold=hold,
        )
        scan, report = done.scan, done.stamp
        result.unsettled = [s["path"] for s in scan.skipped if s["reason"] == STILL_WRITTEN]
        for item in scan.errors:
            result.failed.append({"source": item["path"], "error": item["error"]})
        result.stamped = report.stamped
        # A held photo's copy could not be made either: not a failure while it is held.
        result.failed.extend(f for f in report.failed if f["source"] not in result.held)
        progress.check()
        if profile.targets and profile.sources.important:
            rows = self.important(chosen, profile)
            if paths is None:
                rows = [row for row, lacking in zip(rows, missing_on(profile, rows), strict=True) if lacking]
            if rows:
                result.waiting = [r.path for r in rows]
                try:
                    results = back_up_files(profile, rows)
                except Busy:
                    return result  # another run holds the lock: tried again shortly
                result.waiting = []
                result.backed_up = [r.as_dict() for r in results]
                result.deliveries = deliveries(rows, results, source_labels(profile, keep=False))
        return result

    def retry(self, target: str, paths: Sequence[str]) -> Delivery:
        profile = self.profile
        rows = self.important(paths, profile)
        gone = sorted(set(paths) - {r.path for r in rows})  # deleted, or no longer important
        if not rows:
            return Delivery(target, gone, [], "")
        (done,) = deliveries(
            rows, back_up_files(profile, rows, only=[target]), source_labels(profile, keep=False)
        )
        return done._replace(sent=done.sent + gone)

    def reachable(self, target: str) -> bool | None:
        profile = self.profile
        cfg = next((t for t in profile.targets if t.name == target), None)
        if cfg is None or cfg.type != "local" or cfg.path is None:
            return None  # only an attempt tells whether a remote answers
        base = Path(os.path.abspath(os.path.expanduser(cfg.path)))
        if (base / MARKER).is_file():
            return True
        if self._used.get(target) is None:
            with Catalog(catalog_path(state_dir(profile.name))) as catalog:
                self._used[target] = catalog.known_target(cfg.name, identity(cfg))
        if self._used[target]:
            return False  # used before: its marker says the drive is back
        point = mount_point_needed(base)
        return (point is None or os.path.ismount(point)) and base.parent.is_dir()

    def important(self, paths: Sequence[str] | None, profile: Profile) -> list[FileRow]:
        """The recorded files under ``profile``'s important folders (those of ``paths`` only,
        if given): the job's profile, taken once for all of the job."""
        folders = [os.path.abspath(f) for f in profile.sources.important]
        if not folders:
            return []
        with open_inventory(profile) as inv:
            rows = inv.current_files(paths)
        return [
            row
            for row in rows
            if any(row.path == f or row.path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)
        ]

    def backup(self, kind: str, progress: Progress) -> RunReport:
        return run_backup(self.profile, kind, progress=progress)

    def health(self) -> tuple[str, str]:
        report = check_profile(self.profile)
        return report.grade, report.findings[0]["problem"] if report.findings else ""

    def served(self) -> dict[str, datetime]:
        return served(self.profile)


def _daemons_own(profile: Profile) -> tuple[Any, ...]:
    """What of a profile the daemon took when it started (``settings_for``)."""
    src = profile.sources
    return (src.folders, src.ignore, src.follow_symlinks, profile.schedule, profile.watch)


def _file_state(path: Path) -> tuple[int, int] | None:
    """What tells a changed file: its modification time and size (None: not there)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def deliveries(
    rows: Sequence[FileRow], results: Sequence[TargetResult], labels: Mapping[str, str]
) -> list[Delivery]:
    """Each target's real-time backup of ``rows``, file by file."""
    by_label = {want.path: want.src for want in wanted_files(rows, labels)}
    everything = [r.path for r in rows]
    out: list[Delivery] = []
    for t in results:
        if t.status == "ok":
            out.append(Delivery(t.name, everything, [], ""))
            continue
        failed = {by_label.get(f["path"], f["path"]) for f in t.failed}
        if t.status != "partial":
            failed = set(everything)  # the target could not be used, or the run was cut short
        first = t.failed[0]["error"] if t.failed else ""
        out.append(
            Delivery(
                t.name,
                [p for p in everything if p not in failed],
                sorted(failed & set(everything)),
                t.error or first or t.status,
            )
        )
    return out


@dataclass
class Watched:
    """What a daemon did while it ran (``backup watch --json`` prints it when it stops)."""

    profile: str
    summary: dict[str, Any]
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, **self.summary}


def daemon_for(
    profile: Profile,
    *,
    polling: bool | None = None,
    clock: Clock | None = None,
    schedule_tick: float = SCHEDULE_TICK,
    rewatch: float = REWATCH,
) -> Daemon:
    """The daemon of ``profile``, ready to ``run()`` (and to ``stop()`` from a signal);
    ``schedule_tick`` and ``rewatch``: how often it looks at the schedule and for source folders
    that were away (tests make them short)."""
    return Daemon(
        settings_for(profile, polling=polling),
        ProfileJobs(profile),
        clock=clock or Clock.from_env(),
        schedule_tick=schedule_tick,
        rewatch=rewatch,
    )


def watch(daemon: Daemon, *, foreground: bool = False) -> Watched:
    """Run ``daemon`` until it is stopped, logging to its state folder's ``daemon.log`` (and,
    ``foreground``, to stderr too); what it did."""
    logs.setup(daemon.settings.state_dir, foreground=foreground)
    try:
        daemon.run()
    finally:
        logs.close()
    return Watched(daemon.settings.name, daemon.summary(), daemon.error)
