"""The append-only, hash-chained ledger of everything the inventory learns.

Each entry is a row of the ``ledger`` table: ``seq`` (1, 2, 3, ...), ``time`` (UTC),
``type`` (``original``, ``path``, later ``derivative`` and ``publication``), ``data`` (the
entry's facts as canonical JSON), ``prev`` (the previous entry's hash; 64 zeros for the first)
and ``hash``::

    hash = SHA-256( prev + "\\n" + canonical_json({"data": data, "seq": seq,
                                                  "time": time, "type": type}) )

where canonical JSON has sorted keys, no spaces (``","`` and ``":"``), UTF-8 without
escaping. Changing any row, removing one or reordering them breaks the chain at that entry.
Nothing ever updates or deletes a ledger row. The rows are stored and read by
``inventory.store.ledger``; this module is the rule alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_text(prev: str, seq: int, time: str, type_: str, data: Any) -> str:
    """The exact text an entry's hash is the SHA-256 of (its UTF-8 bytes)."""
    return prev + "\n" + canonical_json({"data": data, "seq": seq, "time": time, "type": type_})


def entry_hash(prev: str, seq: int, time: str, type_: str, data: Any) -> str:
    import hashlib

    return hashlib.sha256(entry_text(prev, seq, time, type_, data).encode("utf-8")).hexdigest()


class Entry(NamedTuple):
    seq: int
    time: str
    type: str
    data: dict[str, Any]
    prev: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "type": self.type,
            "data": self.data,
            "prev": self.prev,
            "hash": self.hash,
        }


class VerifyReport:
    """The outcome of recomputing the chain: ``ok``, how many entries held, and if not, the
    first entry that does not match and why."""

    def __init__(
        self, ok: bool, entries: int, head: str, bad_seq: int | None = None, problem: str | None = None
    ) -> None:
        self.ok = ok
        self.entries = entries
        self.head = head
        self.bad_seq = bad_seq
        self.problem = problem
        # A table row the entries do not bear out (inventory.ledger.truth), when the chain held.
        self.disagreement: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "bad_entry": self.bad_seq,
            "problem": self.problem,
            "disagreement": self.disagreement,
        }


def verify_rows(
    rows: Iterable[tuple[Any, ...]], on_entry: Callable[[int, str, str, Any], None] | None = None
) -> VerifyReport:
    """Recompute the chain from the first entry; stop at the first that does not match.
    ``rows``: the ledger's rows in ``seq`` order, as stored (seq, time, type, data as JSON
    text, prev, hash). ``on_entry(seq, time, type, data)`` is called for every entry that held,
    in order: one pass both verifies and indexes the ledger."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for seq, time, type_, data_text, stored_prev, stored_hash in rows:
        if seq != expected_seq:
            missing = (
                f"entry {expected_seq}" if seq == expected_seq + 1 else f"entries {expected_seq}-{seq - 1}"
            )
            return VerifyReport(False, count, prev, expected_seq, f"{missing} missing: the ledger was cut")
        try:
            data = json.loads(data_text)
        except (TypeError, ValueError):
            return VerifyReport(False, count, prev, seq, f"entry {seq}: data is not valid JSON")
        if stored_prev != prev:
            return VerifyReport(
                False, count, prev, seq, f"entry {seq}: its link to entry {seq - 1} does not match"
            )
        recomputed = entry_hash(prev, seq, str(time), str(type_), data)
        if recomputed != stored_hash:
            return VerifyReport(
                False,
                count,
                prev,
                seq,
                f"entry {seq}: its content does not match its hash (stored {str(stored_hash)[:12]}..., "
                f"recomputed {recomputed[:12]}...)",
            )
        if on_entry is not None:
            on_entry(seq, str(time), str(type_), data)
        prev = stored_hash
        expected_seq += 1
        count += 1
    return VerifyReport(True, count, prev)
