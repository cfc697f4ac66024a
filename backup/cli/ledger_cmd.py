"""``backup ledger verify|checkpoint``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, group, leaf, out, warn
from backup.errors import EXIT_FAILED


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
        "Recompute the ledger's hash chain from the first entry, then check every signed checkpoint:\n"
        "its signature, that the ledger still holds the head it signed, and its timestamp token.\n"
        "Exit 0 if all holds; exit 1 naming the first entry that does not match (an edited, removed\n"
        "or reordered row) or each checkpoint or timestamp that fails.",
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
        if report.ok:
            out(f"Ledger intact: {report.entries:,} entries, head {report.head}")
        good = [c for c in verdict.checkpoints if c.get("ok")]
        if good:
            stamped = [c for c in good if isinstance(c["timestamp"], dict)]
            waiting = sum(1 for c in good if c["timestamp"] == "pending")
            line = f"{len(good)} signed checkpoint(s) hold, {len(stamped)} timestamped"
            if stamped:
                last = stamped[-1]["timestamp"]
                line += f" (latest by {last['authority']} at {last['time']})"
            if waiting:
                line += f"; {waiting} timestamp request(s) waiting to be sent"
            out(line)
    if not report.ok:
        warn(f"ledger broken: {report.problem}")
    for p in verdict.problems:
        warn(f"checkpoint failed: {p}")
    return 0 if verdict.ok else EXIT_FAILED


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
