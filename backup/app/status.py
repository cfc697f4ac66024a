"""``backup status``: where the creator stands. Read from the state directory only (no target
is contacted): whether the daemon runs, its queue, each schedule's last and next run, each
target's newest snapshot and its age, and the originals not yet on every target."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backup.app.facts import newest_snapshot, parse_time, runs_by_target, served, unprotected
from backup.daemon.clock import Clock
from backup.daemon.daemon import daemon_lock_path
from backup.daemon.schedule import KINDS, due_runs, next_slot
from backup.daemon.store import DaemonStore, daemon_db_path
from backup.home import state_dir
from backup.profile.model import Profile
from backup.profile.schedule import parse_slot
from backup.runs.lock import holder

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
            pending = due_runs(profile.schedule, store, now, done) if store.meta("created") else {}
        else:
            pending = {}
        for kind in KINDS:
            spec = getattr(profile.schedule, kind)
            last = store.last_run(kind) if store is not None else None
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
                    "last": None
                    if last is None
                    else {"started": last["started"], "finished": last["finished"], "result": last["result"]},
                    "next": next_run,
                }
            )
    finally:
        if store is not None:
            store.close()
    runs = runs_by_target(profile)
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
            }
        )
    lacking = still_there(unprotected(profile))
    doc["not_on_every_target"] = len(lacking)
    doc["not_on_every_target_files"] = [item["path"] for item in lacking[:SHOWN]]
    return doc


def still_there(lacking: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The unprotected files still on the disk: a path renamed or deleted since the last whole
    scan (the daemon records a renamed file at its new path only) cannot be backed up, and is
    not listed as waiting for it."""
    return [item for item in lacking if os.path.lexists(item["path"])]
