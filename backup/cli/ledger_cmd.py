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
    from backup.app.workspace import open_inventory
    from backup.profile.load import load
    from backup.proof.store import ProofStore

    profile = load(args.profile)
    with open_inventory(profile, create=False) as inv:
        report = inv.verify_ledger()
        checkpoints, problems = ProofStore.for_profile(profile).verify(inv)
    ok = report.ok and not problems
    if args.json:
        emit_json(
            {
                "profile": profile.name,
                **report.as_dict(),
                "ok": ok,
                "checkpoints": checkpoints,
                "problems": problems,
            }
        )
    else:
        if report.ok:
            out(f"Ledger intact: {report.entries:,} entries, head {report.head}")
        good = [c for c in checkpoints if c.get("ok")]
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
    for p in problems:
        warn(f"checkpoint failed: {p}")
    return 0 if ok else EXIT_FAILED


def run_checkpoint(args: argparse.Namespace) -> int:
    from backup.app.workspace import open_inventory
    from backup.errors import NothingFound
    from backup.profile.load import load
    from backup.proof.store import ProofStore

    profile = load(args.profile)
    with open_inventory(profile, create=False) as inv:
        result = ProofStore.for_profile(profile).checkpoint(inv)
    if result.checkpoint is None:
        raise NothingFound("the ledger is empty: nothing to sign yet (run `backup inventory scan` first)")
    ts = result.timestamps
    if args.json:
        emit_json({"profile": profile.name, **result.as_dict()})
    else:
        cp = result.checkpoint
        what = "Signed checkpoint" if result.new else "Newest checkpoint already covers the head"
        out(f"{what}: {cp.entries:,} entries, head {cp.head}, {cp.time} (key {cp.key_id})")
        if ts.sent:
            out(f"Timestamped: checkpoint(s) {', '.join(map(str, ts.sent))}")
    for e in ts.errors:
        warn(f"timestamp: {e}")
    if ts.pending:
        warn(f"{len(ts.pending)} timestamp request(s) waiting; they are sent at the next checkpoint or scan")
        return EXIT_FAILED
    return 0
