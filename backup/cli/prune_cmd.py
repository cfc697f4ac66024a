"""``backup prune``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, leaf, out, warn
from backup.errors import EXIT_FAILED

DESCRIPTION = """\
Apply the profile's [retention] to each target: keep the newest snapshot, the newest of each
of the last `weekly` weeks and of each of the last `monthly` months; remove the other snapshot
manifests, then the earlier versions (under versions/) that no kept snapshot refers to.
Originals are never removed. An object under a retention lock (S3 Object Lock) is left and
reported, not an error. --dry-run shows what would go.
"""


def register(sub: Any) -> None:
    p = leaf(sub, "prune", "remove old snapshots and versions by [retention]", DESCRIPTION, run)
    p.add_argument(
        "--target", metavar="NAME", action="append", default=[], help="this target only (repeatable)"
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")


def run(args: argparse.Namespace) -> int:
    from backup.app.maintenance import prune
    from backup.app.profiles import load

    pruned = prune(load(args.profile), args.target, dry_run=args.dry_run)
    if args.json:
        emit_json(pruned.as_dict())
    else:
        verb = "would remove" if args.dry_run else "removed"
        for r in pruned.targets:
            if r.status == "failed":
                out(f"{r.name}: FAILED: {r.error}")
                continue
            out(
                f"{r.name}: kept {len(r.kept)} snapshots; {verb} {len(r.removed_snapshots)} snapshots and "
                f"{len(r.removed_versions)} earlier versions; {len(r.locked)} locked, left in place"
            )
            for item in r.locked:
                out(f"  locked until {item['until']}: {item['key']}")
    for r in pruned.targets:
        if r.error:
            warn(f"error: {r.name}: {r.error}")
    return 0 if pruned.ok else EXIT_FAILED
