"""``backup demo``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import add_json, command, emit_json, out
from backup.errors import EXIT_FAILED

DESCRIPTION = """\
Run Keepmark on built-in samples: photos (JPEG, PNG, HEIC), a short video, captions,
subtitles and a data export, all generated on the spot.

Builds a sample workspace in FOLDER (default: a new temporary folder) with its own Keepmark
home, writes a profile with a sample backup drive (a folder in the workspace), scans the
samples into the inventory, writes watermarked copies of the photos and the video, backs
everything up (a full run), reads the backup back and checks every byte, verifies the ledger,
lists what was recorded, and finally proves that a resized and recompressed copy of one sample
photo (as a thief would repost it) belongs to the account, writing an evidence bundle. Your own
profiles are not touched.
"""


def register(sub: Any) -> None:
    p = command(sub, "demo", "run Keepmark on built-in samples", DESCRIPTION)
    p.add_argument("folder", nargs="?", metavar="FOLDER", help="a new or empty folder for the workspace")
    p.add_argument(
        "-p", "--profile", default="demo", metavar="NAME", help="name of the demo profile (default: demo)"
    )
    add_json(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from backup.app.demo import new_workspace, run_demo
    from backup.cli.bars import progress
    from backup.errors import UsageError
    from backup.humanize import size

    folder = Path(args.folder) if args.folder else None
    if folder is not None and folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} is not an empty folder: give a new or empty one")
    result = run_demo(folder or new_workspace(), args.profile, progress=progress(not args.json))
    if args.json:
        emit_json(
            {
                "workspace": str(result.workspace),
                "keepmark_home": str(result.home),
                "profile": str(result.profile_file),
                "scan": result.scan.as_dict(),
                "files": result.files,
                "stamp": result.stamp.as_dict(),
                "backup": result.backup.as_dict(),
                "verify": [v.as_dict() for v in result.verify],
                "ledger": {"ok": result.ledger_ok, "entries": result.ledger_entries},
                "prove": result.proof.as_dict() if result.proof else None,
            }
        )
    else:
        s = result.scan
        out(f"Sample workspace: {result.workspace}")
        out(f"  source folder:  {result.sources}")
        out(f"  profile:        {result.profile_file}")
        out(f"Scanned {s.files} files: {s.new} new, {s.changed} changed, {s.unchanged} unchanged")
        out("Inventory:")
        for r in result.files:
            detail = f"{r['width']}x{r['height']}" if r["width"] else ""
            if r["duration_ms"]:
                detail += f", {r['duration_ms'] / 1000:.1f} s"
            if r["capture_time"]:
                detail += f", taken {r['capture_time']}"
            note = f"  ({detail.strip(', ')})" if detail else ""
            out(
                f"  {r['sha256'][:12]}  {r['kind']:<5} {r['format']:<4} {size(r['size']):>8}  "
                f"{r['relpath']}{note}"
            )
        st = result.stamp
        out(f"Stamped {len(st.stamped)} watermarked copies for publishing into {st.output}")
        for item in st.failed:
            out(f"  could not stamp {item['source']}: {item['error']}")
        for t in result.backup.targets:
            if t.status == "failed":
                out(f"Backup to {t.name} FAILED: {t.error}")
            else:
                out(
                    f"Backed up {t.total_files} originals ({size(t.total_bytes)}) to {result.drive}: "
                    f"snapshot {t.snapshot}"
                )
        for v in result.verify:
            verdict = (
                "every byte matches" if v.status == "ok" else f"{v.status.upper()} {v.error or v.problems}"
            )
            out(f"Verified {v.name}: read {v.read} files back ({size(v.bytes_read)}), {verdict}")
        out(f"Ledger {'intact' if result.ledger_ok else 'BROKEN'}: {result.ledger_entries} entries")
        proof = result.proof
        if proof is not None and proof.match is not None:
            m = proof.match
            out(
                f"Proved: {result.repost} (resized to half, JPEG quality 45) is the account's "
                f"{m.path} ({m.method} match, confidence {m.confidence:.2f})"
            )
            out(f"  evidence bundle: {proof.bundle} (report.html, evidence.json, notice.txt)")
        elif result.repost is not None:
            out(f"Prove FAILED: no original found for {result.repost}")
        out("Explore it:")
        out(f"  export KEEPMARK_HOME='{result.home}'")
        out("  backup inventory list; backup inventory show <sha256>; backup ledger verify")
        if proof is not None and proof.bundle is not None:
            out(f"  backup prove --verify '{proof.bundle}'")
        out("  backup status; backup check; backup snapshots; backup watch")
    return 0 if result.ok else EXIT_FAILED
