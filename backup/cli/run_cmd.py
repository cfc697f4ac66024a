"""``backup incremental`` and ``backup full``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import add_targets, emit_json, leaf, out, warn
from backup.errors import EXIT_FAILED
from backup.humanize import count
from backup.humanize import size as human_size

INCREMENTAL = """\
The weekly job: back up new and changed originals to every target, then write a snapshot.

It scans the source folders first (unchanged files are not re-read), uploads what a target does
not have yet (an earlier content of a changed file is kept under versions/), copies the
inventory and its ledger to the target, and writes the snapshot last: a snapshot exists only if
its run finished. A deletion on this computer never deletes anything on a target.

A target that fails (drive not mounted, bad credentials, bucket missing, disk full) is reported
and the others go on (exit 1). Run it again at any time: it picks up where it stopped.
"""

FULL = """\
The monthly job, also run by hand: every original is checked against every target by its
SHA-256 (the hash the target stores, or by reading the copy back) and anything missing or
different is uploaded; then a full snapshot. Otherwise as `backup incremental`.
"""


def register(sub: Any) -> None:
    for name, summary, desc in (
        ("incremental", "back up new and changed originals to every target", INCREMENTAL),
        ("full", "check every original on every target and upload what is missing", FULL),
    ):
        p = leaf(
            sub,
            name,
            summary,
            desc,
            run,
            json_help="print per target: name, status, files, bytes, "
            "snapshot, error (one JSON document on stdout)",
        )
        add_targets(p)
        p.set_defaults(kind=name)


def run(args: argparse.Namespace) -> int:
    from backup.app import backups
    from backup.app.profiles import load
    from backup.cli.bars import progress

    job = backups.full if args.kind == "full" else backups.incremental
    done = job(load(args.profile), only=args.target, progress=progress(not args.json))
    report = done.report
    if args.json:
        emit_json(done.as_dict())
    else:
        scan = report.scan
        unread = len(scan.get("errors", []))
        out(
            f"scanned {scan['files']} files: {scan['new']} new, {scan['changed']} changed"
            + (f", {count(unread, 'file')} could not be read (not backed up)" if unread else "")
        )
        for t in report.targets:
            if t.status == "failed":
                out(f"{t.name}: FAILED: {t.error}")
                continue
            partial = f"PARTIAL, {count(len(t.failed), 'file')} failed; " if t.failed else ""
            out(
                f"{t.name}: {partial}{t.files} files uploaded ({human_size(t.bytes)}), {t.unchanged} already "
                f"there, {t.versions} earlier versions kept; snapshot {t.snapshot} "
                f"({t.total_files} files, {human_size(t.total_bytes)})"
            )
    for item in report.scan.get("errors", []):
        warn(f"error: {item.get('path')}: {item.get('error')}")
    for t in report.targets:
        for item in t.failed:
            warn(f"error: {t.name}: {item['path']}: {item['error']}")
        if t.status == "failed":
            warn(f"error: {t.name}: {t.error}")
    return 0 if report.ok else EXIT_FAILED
