"""``backup restore``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, leaf, out, warn
from backup.errors import EXIT_FAILED
from backup.humanize import size as human_size

DESCRIPTION = """\
Restore files from a target's snapshot (the latest unless --snapshot ID) into DIR, byte for
byte: everything, or what --include GLOB matches. Paths are as in the snapshot,
<source folder name>/<path>; a glob that names a folder takes everything in it:

  backup restore --target drive --to ~/Restored
  backup restore --target drive --include 'Shoots/2026/*' --to ~/Restored
  backup restore --target s3 --include 'Shoots/2026/IMG_0042.HEIC' --to .
  backup restore --target s3 --include IMG_0042.HEIC --to .

A name without a folder that matches no path is a file name, found in any folder: the one file
of that name (when several folders hold one, each is listed and nothing is restored, exit 2;
give its path), or with * ? [ every file whose name matches ('IMG_*.HEIC').

Each file's SHA-256 is checked against the snapshot before it takes its name. An existing file
is never replaced unless --overwrite (identical ones count as restored). A snapshot path that
would land outside DIR ('..', absolute) is refused. Exit 1 if any file was not restored.
"""


def register(sub: Any) -> None:
    p = leaf(sub, "restore", "restore files from a snapshot, byte for byte", DESCRIPTION, run)
    p.add_argument("--target", metavar="NAME", required=True, help="the target to restore from")
    p.add_argument(
        "--snapshot", metavar="ID", help="this snapshot (an id or its start) instead of the latest"
    )
    p.add_argument(
        "--include",
        metavar="GLOB",
        action="append",
        default=[],
        help="only paths matching, or a file name in any folder (repeatable)",
    )
    p.add_argument("--to", metavar="DIR", required=True, help="restore into this folder (created if needed)")
    p.add_argument("--overwrite", action="store_true", help="replace files that exist in DIR")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from backup.app.maintenance import restore
    from backup.app.profiles import load
    from backup.cli.bars import progress

    done = restore(
        load(args.profile),
        args.target,
        Path(args.to),
        snapshot=args.snapshot,
        include=args.include,
        overwrite=args.overwrite,
        progress=progress(not args.json),
    )
    result = done.report
    if args.json:
        emit_json(done.as_dict())
    elif result.error is None:
        out(
            f"restored {result.restored} files ({human_size(result.bytes)}) from snapshot {result.snapshot} "
            f"of {result.target} into {result.to}; {result.already} already there, "
            f"{len(result.skipped)} skipped, {len(result.failed)} failed"
        )
    for item in result.skipped + result.failed:
        warn(f"error: {item['path']}: {item['error']}")
    if result.error:
        warn(f"error: {result.target}: {result.error}")
    return 0 if done.ok else EXIT_FAILED
