"""``backup snapshots``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, leaf, out, warn
from backup.errors import EXIT_FAILED
from backup.humanize import size as human_size
from backup.humanize import when

DESCRIPTION = """\
List the snapshots on each target (or --target NAME), oldest first: id, kind (incremental or
full), time (local; UTC in --json), files and bytes. A snapshot exists only for a run that finished.
"""


def register(sub: Any) -> None:
    p = leaf(sub, "snapshots", "list the snapshots on the targets", DESCRIPTION, run)
    p.add_argument(
        "--target", metavar="NAME", action="append", default=[], help="this target only (repeatable)"
    )


def run(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.snapshots import list_snapshots

    listed = list_snapshots(load(args.profile), args.target)
    if args.json:
        emit_json(listed.as_dict())
    else:
        for entry in listed.targets:
            out(f"{entry.name}:" + ("" if entry.snapshots or entry.error else " no snapshots yet"))
            for s in entry.snapshots:
                out(
                    f"  {s['id']}  {s['kind']:<11}  {when(s['time'], seconds=True)}  {s['files']:>7} files  "
                    f"{human_size(s['bytes'])}"
                )
    for entry in listed.targets:
        for d in entry.damaged:
            warn(f"error: {entry.name}: {d}")
        if entry.error:
            warn(f"error: {entry.name}: {entry.error}")
    return 0 if listed.ok else EXIT_FAILED
