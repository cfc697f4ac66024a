"""``backup stamp``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, leaf, out, warn
from backup.errors import EXIT_FAILED

DESCRIPTION = """\
Write watermarked copies of photos and videos for publishing (default: every photo and video of
the profile's source folders) to the profile's [watermark] output folder, mirroring the source
tree. Originals are never modified. A copy already made with the same style is skipped; --force
makes it again. Each copy is recorded in the inventory as a derivative of its original.

Photos: JPEG, PNG, WebP, TIFF, HEIC/HEIF, animated GIF/WebP. Videos: MP4 and MOV (H.264, HEVC).
A file that cannot be stamped is reported on one line and the batch goes on (exit 1).
"""


def register(sub: Any) -> None:
    p = leaf(sub, "stamp", "write watermarked copies for publishing", DESCRIPTION, run)
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders inside the source folders")
    p.add_argument("--out", metavar="DIR", help="write the copies here instead of [watermark] output")
    p.add_argument("--force", action="store_true", help="stamp again even what is already stamped")


def run(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.stamp import stamp
    from backup.cli.bars import progress

    done = stamp(
        load(args.profile), args.paths, out=args.out, force=args.force, progress=progress(not args.json)
    )
    report = done.report
    if args.json:
        emit_json(done.as_dict())
    else:
        for item in report.stamped:
            out(f"stamped {item['source']} -> {item['output']}")
        for item in report.moved:
            out(f"moved {item['from']} -> {item['output']} (its original was renamed)")
        moved = f"{len(report.moved)} moved, " if report.moved else ""
        out(
            f"{len(report.stamped)} stamped, {moved}{len(report.skipped)} already stamped, "
            f"{len(report.failed)} failed; copies in {report.output}"
        )
    for item in report.failed:
        warn(f"error: {item['source']}: {item['error']}")
    return 0 if done.ok else EXIT_FAILED
