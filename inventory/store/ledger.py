"""The ``ledger`` table: appending entries and reading them back.

The chain rule (how an entry's hash is made, what verifying checks) is in
``inventory.ledger.chain``; this module is where its rows are stored and found.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from inventory.ledger.chain import GENESIS, Entry, VerifyReport, canonical_json, entry_hash, verify_rows
from inventory.ledger.truth import Disagreement, LedgerIndex, first_disagreement
from inventory.store.db import Database
from inventory.store.rows import ContentFacts, DerivativeRow, LedgerHead, PathRow, SightingRow
from inventory.timeutil import utc_now

_COLUMNS = "seq, time, type, data, prev, hash"
_CONTENT_FACTS = ", ".join(ContentFacts._fields)
_PATH_ROW = ", ".join(PathRow._fields)
_DERIVATIVE_ROW = ", ".join(DerivativeRow._fields)


def append_entry(conn: sqlite3.Connection, type_: str, data: dict[str, Any], time: str) -> Entry:
    """Append one entry. Call inside a write transaction (``BEGIN IMMEDIATE``)."""
    row = conn.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
    digest = entry_hash(prev, seq, time, type_, data)
    conn.execute(
        f"INSERT INTO ledger ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        (seq, time, type_, canonical_json(data), prev, digest),
    )
    return Entry(seq, time, type_, data, prev, digest)


def _entries(rows: Iterable[tuple[Any, ...]]) -> list[Entry]:
    return [Entry(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]


def _marks(values: Sequence[str]) -> str:
    return ",".join("?" for _ in values)


class LedgerStore(Database):
    """The inventory's questions and writes about its ledger (a part of ``Inventory``)."""

    def note(self, type_: str, data: dict[str, Any]) -> Entry:
        """Append one entry of ``type_`` (such as ``snapshot``) to the ledger."""
        with self.transaction() as conn:
            return append_entry(conn, type_, data, utc_now())

    def ledger_rows(self) -> Iterator[tuple[Any, ...]]:
        """Every entry as stored (seq, time, type, data as JSON text, prev, hash), in order."""
        yield from self.conn.execute(f"SELECT {_COLUMNS} FROM ledger ORDER BY seq")

    def verify_chain(self) -> VerifyReport:
        """Recompute the hash chain from the first entry (the rows alone, not the records)."""
        return verify_rows(self.ledger_rows())

    def ledger_head(self, ignore_types: Sequence[str] = ()) -> LedgerHead | None:
        """The newest entry (leaving out those of ``ignore_types``), or None if there is none."""
        where = f"WHERE type NOT IN ({_marks(ignore_types)})" if ignore_types else ""
        row = self.conn.execute(
            f"SELECT seq, hash FROM ledger {where} ORDER BY seq DESC LIMIT 1", tuple(ignore_types)
        ).fetchone()
        return None if row is None else LedgerHead(int(row[0]), str(row[1]))

    def ledger_length(self) -> int:
        """How many entries the ledger holds."""
        return int(self.conn.execute("SELECT count(*) FROM ledger").fetchone()[0])

    def ledger_hash(self, seq: int) -> str | None:
        """The stored hash of entry ``seq``, or None if there is no such entry."""
        row = self.conn.execute("SELECT hash FROM ledger WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else str(row[0])

    def ledger_entries(self, first: int, last: int) -> list[Entry]:
        """Entries ``first`` to ``last`` (both included), in order."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM ledger WHERE seq BETWEEN ? AND ? ORDER BY seq", (first, last)
        )
        return _entries(rows)

    def ledger_entries_for(self, sha256: str) -> list[Entry]:
        """Every entry whose data names this SHA-256 (as ``sha256`` or as ``source``), in order."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM ledger WHERE json_extract(data, '$.sha256') = ? "
            "OR json_extract(data, '$.source') = ? ORDER BY seq",
            (sha256, sha256),
        )
        return _entries(rows)

    def ledger_entries_of(self, type_: str, sha256: str) -> list[Entry]:
        """The entries of ``type_`` whose data's ``sha256`` is this one, in order."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM ledger WHERE type = ? AND json_extract(data, '$.sha256') = ? "
            "ORDER BY seq",
            (type_, sha256),
        )
        return _entries(rows)

    def ledger_entries_typed(self, type_: str) -> list[Entry]:
        """Every entry of ``type_``, in order."""
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM ledger WHERE type = ? ORDER BY seq", (type_,))
        return _entries(rows)

    def ledger_has_entries_after(self, seq: int, *, except_types: Sequence[str] = ()) -> bool:
        """Whether the ledger has entries after entry ``seq`` of other types than ``except_types``."""
        where = f"AND type NOT IN ({_marks(except_types)})" if except_types else ""
        sql = f"SELECT 1 FROM ledger WHERE seq > ? {where} LIMIT 1"
        return self.conn.execute(sql, (seq, *except_types)).fetchone() is not None

    def ledger_type_counts(self) -> dict[str, int]:
        """{entry type: how many entries of it}."""
        rows = self.conn.execute("SELECT type, count(*) FROM ledger GROUP BY type")
        return {str(t): int(n) for t, n in rows}

    # -- the tables against the ledger (inventory.ledger.truth) -------------------------------

    def verify_and_index(self) -> tuple[VerifyReport, LedgerIndex]:
        """Recompute the chain and, in the same pass, index what every entry that held states."""
        index = LedgerIndex()
        return verify_rows(self.ledger_rows(), on_entry=index.add), index

    def content_facts(self, sha256: str | None = None) -> Iterator[ContentFacts]:
        """Every ``content`` row (or the one of ``sha256``), as its ``original`` entry states it."""
        if sha256 is None:
            rows = self.conn.execute(f"SELECT {_CONTENT_FACTS} FROM content")
        else:
            rows = self.conn.execute(f"SELECT {_CONTENT_FACTS} FROM content WHERE sha256 = ?", (sha256,))
        return map(ContentFacts._make, rows)

    def sighting_rows(self, sha256: str | None = None) -> Iterator[SightingRow]:
        """Every ``sightings`` row (or those of ``sha256``, by its primary key)."""
        sql = "SELECT sha256, path, first_seen FROM sightings"
        rows = (
            self.conn.execute(sql)
            if sha256 is None
            else self.conn.execute(f"{sql} WHERE sha256 = ?", (sha256,))
        )
        return map(SightingRow._make, rows)

    def path_rows(self, sha256: str | None = None) -> Iterator[PathRow]:
        """Every ``paths`` row (or those holding ``sha256`` now, by the ``paths_sha256`` index)."""
        sql = f"SELECT {_PATH_ROW} FROM paths"
        rows = (
            self.conn.execute(sql)
            if sha256 is None
            else self.conn.execute(f"{sql} WHERE sha256 = ?", (sha256,))
        )
        return map(PathRow._make, rows)

    def derivative_rows(self, source: str | None = None) -> Iterator[DerivativeRow]:
        """Every ``derivatives`` row (or the copies of the original ``source``, by its unique index)."""
        sql = f"SELECT {_DERIVATIVE_ROW} FROM derivatives"
        rows = (
            self.conn.execute(sql)
            if source is None
            else self.conn.execute(f"{sql} WHERE source = ?", (source,))
        )
        return map(DerivativeRow._make, rows)

    def records_disagree(self, index: LedgerIndex, sha256: str | None = None) -> Disagreement | None:
        """The first row that the ledger (indexed in ``index``) does not bear out: of every table,
        or only the rows about one content (its content row, sightings, paths, copies)."""
        if sha256 is None:
            return first_disagreement(
                index, self.content_facts(), self.sighting_rows(), self.path_rows(), self.derivative_rows()
            )
        from inventory.ledger import truth

        checks = (
            *(truth.check_content(r, index) for r in self.content_facts(sha256)),
            *(truth.check_sighting(r, index) for r in self.sighting_rows(sha256)),
            *(truth.check_path(r, index) for r in self.path_rows(sha256)),
            *(truth.check_derivative(r, index) for r in self.derivative_rows(sha256)),
        )
        return next((c for c in checks if c is not None), None)
