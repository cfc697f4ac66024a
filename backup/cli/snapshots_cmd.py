"""``backup snapshots``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, leaf, out, warn
from backup.errors import EXIT_FAILED
from backup.humanize import size as human_size

DESCRIPTION = """\
List the snapshots on each target (or --target NAME), oldest first: id, kind (incremental or
full), time (UTC), files and bytes. A snapshot exists only for a run that finished.
"""


def register(sub: Any) -> None:
    p = leaf(sub, "snapshots", "list the snapshots on the targets", DESCRIPTION, run)
    p.add_argument(
        "--target", metavar="NAME", action="append", default=[], help="this target only (repeatable)"
    )


def run(args: argparse.Namespace) -> int:
    from backup.app.backups import targets_for
    from backup.profile.load import load
    from backup.runs.snapshot import BadManifest, load_all

    profile = load(args.profile)
    doc: list[dict[str, Any]] = []
    failed = False
    for cfg, target in targets_for(profile, args.target):
        entry: dict[str, Any] = {"name": cfg.name, "snapshots": [], "error": None}
        doc.append(entry)
        if isinstance(target, Exception):
            entry["error"] = str(target)
            failed = True
            continue
        try:
            target.open_session()
            for snap in load_all(target):
                if isinstance(snap, BadManifest):
                    entry.setdefault("damaged", []).append(str(snap))
                    failed = True
                else:
                    entry["snapshots"].append(snap.summary())
        except Exception as exc:  # a target error: report it, go on with the others
            from backup.targets.base import ObjectError, TargetError

            if not isinstance(exc, (TargetError, ObjectError, OSError)):
                raise
            entry["error"] = str(exc)
            failed = True
        finally:
            target.close()
    if args.json:
        emit_json({"profile": profile.name, "targets": doc})
    else:
        for entry in doc:
            out(f"{entry['name']}:" + ("" if entry["snapshots"] or entry["error"] else " no snapshots yet"))
            for s in entry["snapshots"]:
                out(
                    f"  {s['id']}  {s['kind']:<11}  {s['time'][:19]}Z  {s['files']:>7} files  "
                    f"{human_size(s['bytes'])}"
                )
    for entry in doc:
        for d in entry.get("damaged", []):
            warn(f"error: {entry['name']}: {d}")
        if entry["error"]:
            warn(f"error: {entry['name']}: {entry['error']}")
    return EXIT_FAILED if failed else 0
