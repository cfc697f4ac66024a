"""``backup appeal-kit [--out DIR] [--lang zh|en]``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from backup.cli.common import emit_json, leaf, out

DESCRIPTION = """\
Write what a platform asks of a creator whose account was stolen or banned, as one folder
(DIR, new or empty; default ./appeal-kit-PROFILE-DATE) and the same folder zipped beside it
(DIR.zip), to attach to an appeal:
  account.json      the account's facts: name, handle, contact, how many originals are on
                    record and since when, the platforms published on, the targets
  inventory.csv     every file recorded, with its SHA-256 and facts (opens in Excel)
  publications.csv  the publications recorded (`backup publish add|import`)
  timeline.csv      when each original was first recorded and each post published
  proof/            the ledger's public key, the signed checkpoints and their trusted
                    timestamps (each checkpoint that has one, and the newest)
  VERIFY.txt        the openssl commands that check all of it without Keepmark, in Chinese
                    and English: the folder's signed SHA256SUMS, each checkpoint's
                    signature and each timestamp
  letter.txt        a short appeal letter to adapt, sign and send (outside the seal)
--lang zh|en: the language of the letter and the timeline, and which half of VERIFY.txt comes
first (default: the profile's account.language).

exit status: 0 written; 1 nothing to write yet (no signed checkpoint: run `backup inventory
scan` first); 2 DIR or DIR.zip exists, or a bad --lang."""


def register(sub: Any) -> None:
    p = leaf(
        sub,
        "appeal-kit",
        "write an account appeal kit: records, publications, signed proof",
        DESCRIPTION,
        run,
        json_help="print profile, folder, zip, lang, originals, publications, checkpoints, "
        "timestamped and files as one JSON document",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="the folder to write (default ./appeal-kit-PROFILE-DATE)"
    )
    p.add_argument("--lang", metavar="zh|en", help="the language of the letter (default: the profile's)")


def run(args: argparse.Namespace) -> int:
    from backup.app.appeal import appeal_kit
    from backup.app.profiles import load

    kit = appeal_kit(load(args.profile), args.out, lang=args.lang)
    if args.json:
        emit_json(kit.as_dict())
        return 0
    out(f"Appeal kit written to {kit.folder} (and {kit.zip})")
    out(f"  {kit.originals} originals, {kit.publications} publications on record")
    out(f"  {kit.checkpoints} signed checkpoints, {kit.timestamped} with a trusted timestamp")
    out("  check it anywhere with the commands in VERIFY.txt; fill in and sign letter.txt")
    return 0
