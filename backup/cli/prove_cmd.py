"""``backup prove FILE [--out DIR] [--url URL] [--zip] [--lang zh|en]`` and
``backup prove --verify PATH``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from backup.cli.common import add_json, add_profile, command, emit_json, out, warn
from backup.errors import EXIT_FAILED

DESCRIPTION = """\
Find the original behind FILE (a repost, a screenshot, a cut clip) in the inventory.
Exit 0 and the best match (method exact, perceptual, features or video, its distance or
score and a confidence); exit 1 when nothing in the inventory is close enough.

With --out DIR, also write the evidence bundle into DIR (a new or empty folder; missing
parent folders are made): evidence.json, report.html (printable), notice.txt (a copyright
notice to fill in and sign), VERIFY.txt (the openssl commands that check the bundle without
Keepmark, in Chinese and English), SHA256SUMS and its signature, a copy of FILE, and the signed
checkpoint and timestamp files with the original's own ledger entries and their Merkle audit
paths (no entry about any other file). --zip writes the bundle as one zip instead (DIR.zip, or
DIR itself when it ends in .zip), holding one folder. --lang zh|en: the language of the report,
the notice and VERIFY.txt's first half (default: the profile's account.language).
What a bundle states of the original (first recorded, size, paths, stamped copies) comes from
the verified ledger entries; when the ledger does not verify or the inventory's tables
disagree with it, nothing is stated and one line names the row (exit 2).

--verify PATH re-checks a bundle (its folder, its evidence.json or its zip) offline: the sealed
files' hashes, the suspect's copy, the ledger entries and their inclusion in the signed
checkpoints, the checkpoint signatures and the timestamps.
notice.txt is not sealed: it is the creator's to fill in and sign, and editing it never fails
verification. Exit 0 if it holds; exit 1 naming what does not.
"""


def register(sub: Any) -> None:
    p = command(sub, "prove", "find the original behind a repost; write or check evidence", DESCRIPTION)
    add_profile(p)
    add_json(p)
    p.add_argument("file", nargs="?", metavar="FILE", help="the suspect photo or video")
    p.add_argument("--out", metavar="DIR", type=Path, help="write the evidence bundle into DIR")
    p.add_argument("--url", metavar="URL", help="where the suspect was found (goes into the notice)")
    p.add_argument("--zip", action="store_true", help="write the bundle as one zip (with --out)")
    p.add_argument(
        "--lang",
        metavar="LANG",
        help="language of the report, notice and VERIFY.txt: zh or en (default: the profile's)",
    )
    p.add_argument("--verify", metavar="PATH", type=Path, help="re-check an evidence bundle offline")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from backup.errors import UsageError

    if args.verify is not None:
        if args.file or args.out or args.url or args.zip or args.lang:
            raise UsageError("--verify takes only the bundle: backup prove --verify PATH")
        return run_verify(args)
    if not args.file:
        raise UsageError("give the suspect FILE (or --verify PATH to check a bundle)")
    return run_prove(args)


def run_prove(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.prove import prove

    proved = prove(load(args.profile), args.file, out=args.out, url=args.url, lang=args.lang, zipped=args.zip)
    result, m = proved.result, proved.result.match
    if args.json:
        emit_json(proved.as_dict())
    elif m is None:
        out(f"No match: nothing in {proved.profile}'s inventory is close enough to {args.file}")
    else:
        score = f"distance {m.distance}" if m.distance is not None else f"score {m.score:g}"
        out(f"Match ({m.method}, {score}, confidence {m.confidence:.0%}): {m.path}")
        out(f"  SHA-256 {m.sha256}")
        if "derivative" in m.details:
            out(f"  the suspect is the stamped copy {m.details['derivative']['path']}, byte for byte")
        if "time_range" in m.details:
            start, end = m.details["time_range"]
            out(f"  from {start:.1f} s to {end:.1f} s of the original")
        if result.bundle is not None:
            out(f"Evidence written to {result.bundle}: report.html, notice.txt, VERIFY.txt, evidence.json")
    if m is None and args.out is not None and not args.json:
        warn("no evidence bundle written: there is no match")
    return 0 if m is not None else EXIT_FAILED


def run_verify(args: argparse.Namespace) -> int:
    from backup.app.prove import verify_bundle

    report = verify_bundle(args.verify)
    if args.json:
        emit_json(report.as_dict())
    elif report.ok:
        out(f"Evidence holds: {args.verify}")
        for line in report.checked:
            out(f"  ok: {line}")
    notice = report.notice_line()
    if notice and not args.json:
        out(f"  {notice}")
    for p in report.problems:
        warn(f"evidence does not hold: {p}")
    return 0 if report.ok else EXIT_FAILED
