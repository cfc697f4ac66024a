"""``backup status``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, leaf, out
from backup.humanize import when

DESCRIPTION = """\
Where you stand, from this computer's records (no target is contacted): whether the daemon
(`backup watch`) is running and how many files wait in its queue; for the incremental and the
full schedule the last run (time, result; a `backup full` or `backup incremental` run by hand
counts too) and when the next is due; for each target its newest snapshot and how old it is;
and how many originals are not yet on every target. Times are local (UTC in --json).
"""


def register(sub: Any) -> None:
    leaf(
        sub,
        "status",
        "daemon, queue, last and next runs, snapshots",
        DESCRIPTION,
        run,
        json_help="print daemon, queue, schedules, targets and not_on_every_target as one JSON document",
    )


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "no snapshot yet"
    if seconds < 3600:
        return f"{seconds // 60} min old"
    if seconds < 86400 * 2:
        return f"{seconds // 3600} h old"
    return f"{seconds // 86400} days old"


def _last(last: dict[str, Any] | None, everywhere: set[str]) -> str:
    if last is None:
        return "never"
    how = last["result"] or "running"
    if last.get("by") == "hand":
        how += ", by hand"
        if set(last["targets"]) != everywhere:
            how += f", {', '.join(last['targets'])} only"
    return f"{when(last['started'])} ({how})"


def _next(moment: str | None) -> str:
    if moment is None:
        return "off"
    return moment if moment == "now" else when(moment)


def run(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.status import status

    doc = status(load(args.profile)).as_dict()
    if args.json:
        emit_json(doc)
        return 0
    d = doc["daemon"]
    out(f"profile {doc['profile']}")
    if d["running"]:
        out(f"daemon: running (pid {d['pid']})")
    else:
        out("daemon: not running (start it: backup watch, or backup service install)")
    out(
        f"queue: {doc['queue']} files waiting"
        + (f", {len(doc['stuck'])} failed 3 times" if doc["stuck"] else "")
    )
    if doc["waiting"]:
        out(f"waiting: {doc['waiting']}")
    everywhere = {t["name"] for t in doc["targets"]}
    for s in doc["schedules"]:
        out(f"{s['kind']} ({s['schedule']}): last {_last(s['last'], everywhere)}; next {_next(s['next'])}")
    for t in doc["targets"]:
        out(f"target {t['name']}: {t['snapshot'] or '-'} ({_age(t['age_seconds'])})")
    n = doc["not_on_every_target"]
    out(f"{n} originals not yet on every target" if n else "every original is on every target")
    for path in doc["not_on_every_target_files"]:
        out(f"  {path}")
    return 0
