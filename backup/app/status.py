"""``backup status``: where the creator stands. Read from the state directory only (no target
is contacted): whether the daemon runs, its queue, the real-time backups that failed and wait to
be tried again (and why), each schedule's last and next run, each target's newest snapshot and
its age, and the originals not yet on every target."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from backup.app.facts import newest_snapshot, parse_time, runs_by_target, served, unprotected
from backup.app.profiles import drive_away
from backup.daemon.clock import Clock
from backup.daemon.schedule import KINDS, due_runs, next_slot
from backup.daemon.store import DaemonStore, daemon_db_path, daemon_lock_path
from backup.home import state_dir
from backup.profile.model import Profile
from backup.profile.schedule import parse_slot
from backup.runs.catalog import Catalog, catalog_path
from backup.runs.lock import holder
from backup.runs.snapshot import parse_time as moment

SHOWN = 20  # unprotected files listed by name (all are counted)


@dataclass
class Status:
    """Where the creator stands (see the module's docstring); ``doc`` is the ``backup status
    --json`` document."""

    doc: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.doc


def status(profile: Profile, now: datetime | None = None) -> Status:
    return Status(profile_status(profile, now))


def profile_status(profile: Profile, now: datetime | None = None) -> dict[str, Any]:
    clock = Clock.from_env()
    logged = logged_runs(profile)
    # Runs made without the daemon count too, when their times can be compared with ours.
    done = served(profile) if now is None and clock.real else {}
    now = now or clock.now()
    folder = state_dir(profile.name)
    pid = holder(daemon_lock_path(folder))
    doc: dict[str, Any] = {
        "profile": profile.name,
        "daemon": {"running": pid is not None, "pid": pid if pid and pid > 0 else None},
        "queue": 0,
        "stuck": [],
        "waiting": None,
        "backups_waiting": [],
        "schedules": [],
        "targets": [],
    }
    db = daemon_db_path(folder)
    store = DaemonStore(db) if db.exists() else None
    try:
        if store is not None:
            doc["queue"] = store.queue_length()
            doc["stuck"] = store.stuck()
            doc["waiting"] = store.meta("waiting") or None
            doc["backups_waiting"] = store.backups_waiting()
            pending = due_runs(profile.schedule, store, now, done) if store.meta("created") else {}
        else:
            pending = {}
        for kind in KINDS:
            spec = getattr(profile.schedule, kind)
            last = last_run(store.last_run(kind) if store is not None else None, logged.get(kind), clock.real)
            is_due = pending.get(kind)
            slot = parse_slot(spec)
            if slot.every == "off":
                next_run = None
            elif is_due is not None or (store is None and kind == "full" and kind not in done):
                next_run = "now"
            else:
                upcoming = next_slot(slot, now)
                next_run = upcoming.isoformat(timespec="minutes") if upcoming else None
            doc["schedules"].append(
                {
                    "kind": kind,
                    "schedule": spec,
                    "last": last,
                    "next": next_run,
                }
            )
    finally:
        if store is not None:
            store.close()
    runs = runs_by_target(profile)
    totals = stored_totals(profile)
    for t in profile.targets:
        snap = newest_snapshot(runs.get(t.name, []))
        finished = parse_time(snap["finished"]) if snap else None
        doc["targets"].append(
            {
                "name": t.name,
                "type": t.type,
                "snapshot": snap["snapshot"] if snap else None,
                "snapshot_time": snap["finished"] if snap else None,
                "age_seconds": round((now - finished).total_seconds()) if finished else None,
                "last_read_back": last_read_back(runs.get(t.name, [])),
                "away": t.type == "local" and t.path is not None and drive_away(t.path) is not None,
                "files": totals.get(t.name, (0, 0))[0],
                "bytes": totals.get(t.name, (0, 0))[1],
            }
        )
    lacking = still_there(unprotected(profile))
    doc["not_on_every_target"] = len(lacking)
    doc["not_on_every_target_files"] = [item["path"] for item in lacking[:SHOWN]]
    return doc


RUN_GAP = 60  # seconds: the targets of one run start together (their parts are made at once)


def logged_runs(profile: Profile) -> dict[str, dict[str, Any]]:
    """For each kind of run, the newest the backup catalog logged (it logs every run, by hand
    or by the daemon): its targets' rows that started together, as one run whose result is
    ``ok`` if every target's was, ``failed`` if none went well, else ``partial``."""
    path = catalog_path(state_dir(profile.name))
    if not path.exists():
        return {}
    with Catalog(path) as catalog:
        rows = catalog.last_runs()
    out: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        mine = [r for r in rows if r["kind"] == kind and r["started"]]
        if not mine:
            continue
        newest = max(moment(r["started"]) for r in mine)
        run = [r for r in mine if (newest - moment(r["started"])).total_seconds() <= RUN_GAP]
        results = {r["status"] for r in run}
        result = (
            next(iter(results))
            if len(results) == 1
            else ("interrupted" if "interrupted" in results else "partial")
        )
        out[kind] = {
            "started": min(r["started"] for r in run),
            "finished": max((r["finished"] for r in run if r["finished"]), default=None),
            "result": result,
            "by": "hand",
            "targets": sorted(r["target"] for r in run),
        }
    return out


def last_run(
    daemon: dict[str, Any] | None, logged: dict[str, Any] | None, comparable: bool
) -> dict[str, Any] | None:
    """The last run of a kind: the daemon's, or one made by hand (``backup full``,
    ``backup incremental``) after it. The daemon's runs are in the catalog too; a logged run
    that started after the daemon's last one finished is another, made without it. With a test
    clock (not ``comparable``), the daemon's times cannot be set against the catalog's."""
    mine = None
    if daemon is not None:
        mine = {k: daemon[k] for k in ("started", "finished", "result")} | {"by": "daemon"}
    if logged is None or (mine is not None and not comparable):
        return mine
    if mine is None:
        return logged
    ended = parse_time(mine["finished"])
    begun = parse_time(logged["started"])
    return logged if ended is not None and begun is not None and begun > ended else mine


READ_BACKS = {"read-back": "full", "verify-read": "verify"}  # catalog run kinds that read data back


def last_read_back(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest completed read-back of a target's data (a full run's share, or ``backup
    verify --read-data``/``--sample``): when it ended, by what, how much it read, and how many
    copies it found damaged."""
    run = next((r for r in runs if r["kind"] in READ_BACKS and r["status"] in ("ok", "damaged")), None)
    if run is None:
        return None
    found = str(run["error"] or "0").split()[0]
    return {
        "when": run["finished"],
        "by": READ_BACKS[run["kind"]],
        "files": run["files"],
        "bytes": run["bytes"],
        "damaged": int(found) if found.isdigit() else 0,
    }


def still_there(lacking: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The unprotected files still on the disk: a path renamed or deleted since the last whole
    scan (the daemon records a renamed file at its new path only) cannot be backed up, and is
    not listed as waiting for it."""
    return [item for item in lacking if os.path.lexists(item["path"])]


def activity_log(profile_name: str) -> Path:
    """The daemon's log as JSON lines (``backup/daemon/logs.py``): what the app's activity feed
    follows."""
    from backup.daemon.logs import ACTIVITY_NAME

    return state_dir(profile_name) / ACTIVITY_NAME


def daemon_state(profile: Profile) -> dict[str, Any]:
    """What the app polls while a page is open, cheaply: whether the daemon runs, whether it is
    busy, how many files wait in its queue and how many passes it has made."""
    folder = state_dir(profile.name)
    pid = holder(daemon_lock_path(folder))
    doc: dict[str, Any] = {"running": pid is not None, "pid": pid if pid and pid > 0 else None}
    doc.update(state=None, queue=0, batches=0)
    db = daemon_db_path(folder)
    if db.exists():
        with DaemonStore(db) as store:
            doc["state"] = (store.meta("state") or None) if pid is not None else None
            doc["queue"] = store.queue_length()
            doc["batches"] = int(store.meta("batches") or 0)
    return doc


def stored_totals(profile: Profile) -> dict[str, tuple[int, int]]:
    """Per target, the originals it holds as the backup catalog knows: (files, bytes)."""
    path = catalog_path(state_dir(profile.name))
    if not path.exists():
        return {}
    with Catalog(path) as catalog:
        return catalog.stored_totals()
