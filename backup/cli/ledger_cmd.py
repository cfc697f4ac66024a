"""``backup ledger verify|checkpoint``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from backup.cli.common import emit_json, group, leaf, out, warn
from backup.errors import EXIT_FAILED
from backup.humanize import when

if TYPE_CHECKING:
    from backup.app.ledger import LedgerVerdict


def register(sub: Any) -> None:
    inner = group(
        sub,
        "ledger",
        "verify the tamper-evident ledger; sign checkpoints",
        "The append-only, hash-chained record of everything the inventory learned, and the signed,\n"
        "timestamped checkpoints of it.",
    )
    leaf(
        inner,
        "verify",
        "recompute the ledger's hash chain; check checkpoints and timestamps",
        "Recompute the ledger's hash chain from the first entry; check every record a proof, report\n"
        "or status relies on (contents, first seen, sizes, paths, stamped copies) against the ledger\n"
        "entries that recorded it; then check every signed checkpoint: its signature, that the\n"
        "ledger still holds the head it signed, and its timestamp token. Exit 0 if all holds; exit 1\n"
        "naming the first entry that does not match (an edited, removed or reordered row), the first\n"
        "record that disagrees with its entry (a table edited outside the ledger), or each\n"
        "checkpoint or timestamp that fails (a chain rewritten and re-hashed).",
        run_verify,
    )
    leaf(
        inner,
        "checkpoint",
        "sign the ledger's head now; send waiting timestamp requests",
        "Sign a checkpoint of the ledger (entry count, head hash, time) with the profile's key,\n"
        "created on first use, unless the newest checkpoint already covers the head. With\n"
        "[proof] tsa_url set, the checkpoint is sent to the timestamp authority; requests that\n"
        "could not be sent (offline) are sent now. Exit 1 if a request is still waiting.",
        run_checkpoint,
    )


def run_verify(args: argparse.Namespace) -> int:
    from backup.app.ledger import verify
    from backup.app.profiles import load

    verdict = verify(load(args.profile))
    report = verdict.chain
    if args.json:
        emit_json(verdict.as_dict())
    else:
        for line in summary(verdict):
            out(line)
    if not report.ok:
        warn(f"ledger broken: {report.problem}")
    for p in verdict.problems:
        warn(f"checkpoint failed: {p}")
    return 0 if verdict.ok else EXIT_FAILED


def summary(verdict: LedgerVerdict) -> list[str]:
    """What ``ledger verify`` prints on stdout: intact or not, and why (each failure's details
    follow on stderr). A chain that recomputes is not called intact when a record disagrees
    with it or a signed checkpoint no longer matches it (a chain rewritten and re-hashed)."""
    report, lines = verdict.chain, []
    if verdict.ok:
        lines.append(f"Ledger intact: {report.entries:,} entries, head {report.head}")
    elif report.bad_seq is not None:
        lines.append(f"Ledger NOT intact: {report.problem}")
    elif not report.ok:
        lines.append(
            f"Ledger NOT intact: the chain holds ({report.entries:,} entries) but the inventory's "
            f"records disagree with it: {report.problem}"
        )
    if verdict.problems:
        failed = sum(1 for c in verdict.checkpoints if not c.get("ok")) or len(verdict.problems)
        lead = (
            f"Ledger NOT intact: the chain recomputes ({report.entries:,} entries, head "
            f"{report.head[:12]}...) but"
            if report.ok
            else "And"
        )
        lines.append(
            f"{lead} {failed} of {len(verdict.checkpoints)} signed checkpoint(s) no longer match "
            "the ledger: it was rewritten or cut since they were signed, or a checkpoint was altered"
        )
    good = [c for c in verdict.checkpoints if c.get("ok")]
    if good:
        stamped = [c for c in good if isinstance(c["timestamp"], dict)]
        waiting = sum(1 for c in good if c["timestamp"] == "pending")
        line = f"{len(good)} signed checkpoint(s) hold, {len(stamped)} timestamped"
        if stamped:
            last = stamped[-1]["timestamp"]
            line += f" (latest by {last['authority']} at {when(last['time'], seconds=True)})"
        if waiting:
            line += f"; {waiting} timestamp request(s) waiting to be sent"
        lines.append(line)
    return lines


def run_checkpoint(args: argparse.Namespace) -> int:
    from backup.app.ledger import checkpoint
    from backup.app.profiles import load

    done = checkpoint(load(args.profile))
    result, ts = done.result, done.result.timestamps
    if args.json:
        emit_json(done.as_dict())
    elif result.checkpoint is not None:
        cp = result.checkpoint
        what = "Signed checkpoint" if result.new else "Newest checkpoint already covers the head"
        out(f"{what}: {cp.entries:,} entries, head {cp.head}, {cp.time} (key {cp.key_id})")
        if ts.sent:
            out(f"Timestamped: checkpoint(s) {', '.join(map(str, ts.sent))}")
    for e in ts.errors:
        warn(f"timestamp: {e}")
    if ts.pending:
        warn(f"{len(ts.pending)} timestamp request(s) waiting; they are sent at the next checkpoint or scan")
    return 0 if done.ok else EXIT_FAILED
