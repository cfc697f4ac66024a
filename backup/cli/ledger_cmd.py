"""``backup ledger verify``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, group, leaf, out, warn
from backup.errors import EXIT_FAILED


def register(sub: Any) -> None:
    inner = group(
        sub,
        "ledger",
        "verify the tamper-evident ledger",
        "The append-only, hash-chained record of everything the inventory learned.",
    )
    leaf(
        inner,
        "verify",
        "recompute the ledger's hash chain",
        "Recompute the ledger's hash chain from the first entry. Exit 0 if it holds; exit 1 naming\n"
        "the first entry that does not match (an edited, removed or reordered row).",
        run_verify,
    )


def run_verify(args: argparse.Namespace) -> int:
    from backup.profile.load import load
    from backup.workspace import open_inventory

    profile = load(args.profile)
    with open_inventory(profile, create=False) as inv:
        report = inv.verify_ledger()
    if args.json:
        emit_json({"profile": profile.name, **report.as_dict()})
    elif report.ok:
        out(f"Ledger intact: {report.entries:,} entries, head {report.head}")
    if not report.ok:
        warn(f"ledger broken: {report.problem}")
        return EXIT_FAILED
    return 0
