"""``backup verify``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, leaf, out, warn
from backup.errors import EXIT_FAILED

DESCRIPTION = """\
Check the latest snapshot (or --snapshot ID) against each target: every file present with the
right size. With --read-data every byte is read back and its SHA-256 compared with the
snapshot; with --sample PERCENT a random share of the files is. A missing, cut or altered file
is reported by its path (exit 1). Reading back costs download traffic on cloud targets.

What it finds missing, cut or altered is recorded in the inventory: the next `backup full`, or
`backup repair`, uploads it again (a damaged copy is never kept as an earlier version).
"""


def register(sub: Any) -> None:
    p = leaf(sub, "verify", "check that the targets still hold the latest snapshot", DESCRIPTION, run)
    p.add_argument(
        "--target", metavar="NAME", action="append", default=[], help="this target only (repeatable)"
    )
    p.add_argument(
        "--snapshot", metavar="ID", help="this snapshot (an id or its start) instead of the latest"
    )
    how = p.add_mutually_exclusive_group()
    how.add_argument("--read-data", action="store_true", help="read every file back and compare its SHA-256")
    how.add_argument("--sample", metavar="PERCENT", type=float, help="read back this share of files")


def run(args: argparse.Namespace) -> int:
    from backup.app.maintenance import verify
    from backup.app.profiles import load
    from backup.cli.bars import progress

    verified = verify(
        load(args.profile),
        args.target,
        snapshot=args.snapshot,
        read_data=args.read_data,
        sample=args.sample,
        progress=progress(not args.json),
    )
    if args.json:
        emit_json(verified.as_dict())
    else:
        for r in verified.targets:
            if r.status == "failed":
                out(f"{r.name}: FAILED: {r.error}")
            else:
                out(
                    f"{r.name}: snapshot {r.snapshot}: {r.checked} files checked ({verified.mode}), "
                    f"{r.read} read back, {len(r.problems)} problems"
                )
    for r in verified.targets:
        for p in r.problems:
            warn(f"error: {r.name}: {p['path']}: {p['problem']}")
        if r.error:
            warn(f"error: {r.name}: {r.error}")
    return 0 if verified.ok else EXIT_FAILED
