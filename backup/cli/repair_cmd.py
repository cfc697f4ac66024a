"""``backup repair``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import add_targets, emit_json, leaf, out, warn
from backup.errors import EXIT_FAILED

DESCRIPTION = """\
Upload again every copy found damaged on the targets, and nothing else: no scan, no snapshot.

`backup verify` (with --read-data or --sample) and the full run's read-back record what they
find missing, cut or altered. This command copies each such file again from the source
folders, replacing the damaged copy (which is not kept as an earlier version), and records the
repair in the ledger. `backup full` does the same as part of its run. A file that is no longer
in the source folders, or changed since it was scanned, is left and named (exit 1).
"""


def register(sub: Any) -> None:
    p = leaf(
        sub,
        "repair",
        "upload again what verify found damaged on the targets",
        DESCRIPTION,
        run,
        json_help="print per target: name, status, repaired, left, error (one JSON document on stdout)",
    )
    add_targets(p)


def run(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.repair import repair
    from backup.cli.bars import progress

    done = repair(load(args.profile), only=args.target, progress=progress(not args.json))
    if args.json:
        emit_json(done.as_dict())
    else:
        for t in done.targets:
            if t.status == "failed":
                out(f"{t.name}: FAILED: {t.error}")
            elif not t.repaired and not t.left:
                out(f"{t.name}: nothing found damaged")
            else:
                out(f"{t.name}: {len(t.repaired)} damaged copies uploaded again, {len(t.left)} left")
                for item in t.repaired:
                    out(f"  repaired {item['path']} ({item['problem']})")
    for t in done.targets:
        for item in t.left:
            warn(f"error: {t.name}: {item['path']}: {item['problem']}: not repaired: {item['why']}")
        if t.status == "failed":
            warn(f"error: {t.name}: {t.error}")
    return 0 if done.ok else EXIT_FAILED
