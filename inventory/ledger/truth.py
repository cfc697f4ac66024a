"""The ledger is the source of truth; the tables are an index over it.

Every row that a proof, a report or a status relies on was written in the same transaction as a
ledger entry stating the same facts: a ``content`` row with its ``original`` entry, a
``sightings`` row with the ``original`` or ``path`` entry of that content at that path, a
``paths`` row with the sightings at its path, a ``derivatives`` row with its newest
``derivative`` entry. An edit made to a table outside Keepmark (``sqlite3 inventory.sqlite
"update content set first_seen = ..."``) leaves the chain intact but the row no longer agrees
with its entry: this module finds the first such row.

``LedgerIndex`` is filled in one pass over the entries while the chain is recomputed (dicts keyed
the way the rows are looked up); each row is then compared with one lookup, so checking a whole
inventory is linear in its entries and rows. The SQL that reads the rows is in
``inventory.store.ledger``; this module is the rule alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from inventory.errors import InventoryError
from inventory.store.rows import ContentFacts, DerivativeRow, PathRow, SightingRow

# The content columns an 'original' entry states, in the table's order. An entry leaves out a
# key with no value: the column is then NULL.
CONTENT_KEYS = (
    "size",
    "kind",
    "format",
    "width",
    "height",
    "duration_ms",
    "capture_time",
    "phash",
    "dhash",
    "frame_hashes",
    "decode_error",
)


class Stated(NamedTuple):
    """What one ledger entry says: its seq, time and data."""

    seq: int
    time: str
    data: dict[str, Any]


class Disagreement(NamedTuple):
    """A row of a table that its ledger entry does not bear out."""

    table: str
    key: str  # the row: a SHA-256, a path, or "SHA-256 at path"
    column: str
    row_value: Any
    entry: int | None  # the entry it disagrees with; None when no entry records the row
    entry_value: Any
    why: str = "the table was edited outside the ledger"

    def line(self) -> str:
        if self.entry is None:
            return f"{self.table} row {self.key}: {self.entry_value}"
        return (
            f"{self.table} row {self.key}: {self.column} is {self.row_value!r} but ledger entry "
            f"{self.entry} says {self.entry_value!r}: {self.why}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row": self.key,
            "column": self.column,
            "row_value": self.row_value,
            "entry": self.entry,
            "entry_value": self.entry_value,
        }


class RecordsDisagree(InventoryError):
    """A row of the inventory's tables disagrees with the ledger entry that recorded it (or the
    ledger itself does not verify): nothing is stated from it."""

    def __init__(self, problem: str, disagreement: Disagreement | None = None) -> None:
        super().__init__(problem)
        self.disagreement = disagreement


class LedgerIndex:
    """The facts the entries state, keyed the way the tables' rows are looked up."""

    def __init__(self) -> None:
        self.originals: dict[str, Stated] = {}
        self.sightings: dict[tuple[str, str], Stated] = {}
        self.first_at_path: dict[str, Stated] = {}
        self.derivatives: dict[tuple[str, str, str], Stated] = {}
        self.sighting_entries = 0

    def add(self, seq: int, time: str, type_: str, data: Any) -> None:
        """Take one entry in (in ``seq`` order, after the chain rule held for it)."""
        if not isinstance(data, dict):
            return
        stated = Stated(seq, time, data)
        sha, path = data.get("sha256"), data.get("path")
        if type_ in ("original", "path") and isinstance(sha, str) and isinstance(path, str):
            self.sighting_entries += 1
            if type_ == "original":
                self.originals.setdefault(sha, stated)
            self.sightings.setdefault((sha, path), stated)
            self.first_at_path.setdefault(path, stated)
        elif type_ == "derivative":
            source, style = str(data.get("source")), str(data.get("style"))
            moved_from = data.get("moved_from")
            if isinstance(moved_from, str):
                # A copy renamed with its original: it was made when the copy it moved from
                # was, and is no longer at the old path.
                before = self.derivatives.pop((source, style, moved_from), None)
                made = data.get("created") or (before.time if before is not None else time)
                stated = Stated(seq, str(made), data)
            key = (source, style, str(data.get("path")))
            self.derivatives[key] = stated  # the newest: a copy made again (--force) is updated

    # -- what a proof states, from the entries alone ------------------------------------------

    def paths_of(self, sha256: str) -> list[str]:
        """Every path the entries saw this content at, in the order they were first seen."""
        seen = [(s.seq, p) for (sha, p), s in self.sightings.items() if sha == sha256]
        return [p for _, p in sorted(seen)]  # by seq: the 'original' entry's path first

    def derivatives_of(self, source: str) -> list[Stated]:
        """The newest ``derivative`` entry of every copy made from ``source``, oldest first."""
        return sorted(
            (s for (src, _, _), s in self.derivatives.items() if src == source), key=lambda s: s.seq
        )


def check_content(row: ContentFacts, index: LedgerIndex) -> Disagreement | None:
    """A ``content`` row against its ``original`` entry."""
    stated = index.originals.get(row.sha256)
    if stated is None:
        return Disagreement(
            "content",
            row.sha256,
            "sha256",
            row.sha256,
            None,
            "in the inventory but no ledger entry records it: ledger entries were removed from the "
            "end, or the row was added outside the ledger",
        )
    if row.first_seen != stated.time:
        return Disagreement("content", row.sha256, "first_seen", row.first_seen, stated.seq, stated.time)
    values = row._asdict()
    if values["frame_hashes"] is not None:
        try:
            values["frame_hashes"] = json.loads(values["frame_hashes"])
        except ValueError:
            pass
    for key in CONTENT_KEYS:
        if values[key] != stated.data.get(key):
            return Disagreement("content", row.sha256, key, values[key], stated.seq, stated.data.get(key))
    return None


def check_sighting(row: SightingRow, index: LedgerIndex) -> Disagreement | None:
    """A ``sightings`` row against the entry of that content at that path."""
    key = f"{row.sha256} at {row.path}"
    stated = index.sightings.get((row.sha256, row.path))
    if stated is None:
        return Disagreement(
            "sightings",
            key,
            "path",
            row.path,
            None,
            "no ledger entry records this sighting: ledger entries were removed from the end, or "
            "the row was added outside the ledger",
        )
    if row.first_seen != stated.time:
        return Disagreement("sightings", key, "first_seen", row.first_seen, stated.seq, stated.time)
    return None


def check_path(row: PathRow, index: LedgerIndex) -> Disagreement | None:
    """A ``paths`` row: its content was seen there, its size is that content's, and its first
    sighting is the first entry at that path."""
    stated = index.sightings.get((row.sha256, row.path))
    if stated is None:
        return Disagreement(
            "paths",
            row.path,
            "sha256",
            row.sha256,
            None,
            f"no ledger entry records content {row.sha256} at this path: the table was edited "
            "outside the ledger",
        )
    original = index.originals.get(row.sha256)
    if original is not None and row.size != original.data.get("size"):
        return Disagreement("paths", row.path, "size", row.size, original.seq, original.data.get("size"))
    first = index.first_at_path.get(row.path, stated)
    if row.first_seen != first.time:
        return Disagreement("paths", row.path, "first_seen", row.first_seen, first.seq, first.time)
    return None


def check_derivative(row: DerivativeRow, index: LedgerIndex) -> Disagreement | None:
    """A ``derivatives`` row against the newest ``derivative`` entry of that copy."""
    stated = index.derivatives.get((row.source, row.style, row.path))
    if stated is None:
        return Disagreement(
            "derivatives",
            row.path,
            "path",
            row.path,
            None,
            f"the stamped copy {row.path} has no ledger entry: entries were removed, or the row was "
            "added outside the ledger",
        )
    for column, value, said in (
        ("sha256", row.sha256, stated.data.get("sha256")),
        ("size", row.size, stated.data.get("size")),
        ("kind", row.kind, stated.data.get("kind")),
        ("created", row.created, stated.time),
    ):
        if value != said:
            return Disagreement("derivatives", row.path, column, value, stated.seq, said)
    return None


def first_disagreement(
    index: LedgerIndex,
    contents: Iterable[ContentFacts],
    sightings: Iterable[SightingRow],
    paths: Iterable[PathRow],
    derivatives: Iterable[DerivativeRow],
) -> Disagreement | None:
    """The first row, table by table (content, sightings, paths, derivatives), that its entry
    does not bear out; None when every row agrees."""
    for row in contents:
        if found := check_content(row, index):
            return found
    count = 0
    for srow in sightings:
        count += 1
        if found := check_sighting(srow, index):
            return found
    if count != index.sighting_entries:
        return Disagreement(
            "sightings",
            "(all)",
            "count",
            count,
            None,
            f"the inventory records {count} sightings of files but the ledger has "
            f"{index.sighting_entries} entries for them: rows were removed outside the ledger",
        )
    for prow in paths:
        if found := check_path(prow, index):
            return found
    for drow in derivatives:
        if found := check_derivative(drow, index):
            return found
    return None
