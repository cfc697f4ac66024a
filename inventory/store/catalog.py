"""The backup catalog's tables: what Keepmark knows it has stored on each target
(``<state>/<profile>/backups.sqlite``; the file and what it means are in docs/design.md, "The
backup catalog"; ``backup.runs.catalog`` opens it for the backup runs).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from inventory.store.db import Database, connect_state
from inventory.store.rows import InventoryCopy, Listing, StoredObject, StoredRow
from inventory.timeutil import utc_now

__all__ = ["SCHEMA", "CatalogStore", "InventoryCopy", "Listing", "StoredObject", "StoredRow"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS targets (
    name      TEXT PRIMARY KEY,
    identity  TEXT NOT NULL,
    first_run TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stored (
    target   TEXT NOT NULL,
    key      TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    PRIMARY KEY (target, key)
) WITHOUT ROWID;
-- Which targets hold a content (a file's page; the library's "on every target" filter).
CREATE INDEX IF NOT EXISTS stored_sha256 ON stored (sha256, target);
CREATE TABLE IF NOT EXISTS inventory_copies (
    target      TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS manifests (
    target TEXT PRIMARY KEY,
    basis  TEXT NOT NULL,
    files  INTEGER NOT NULL,
    bytes  INTEGER NOT NULL,
    body   BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id        INTEGER PRIMARY KEY,
    target    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    started   TEXT NOT NULL,
    finished  TEXT NOT NULL,
    status    TEXT NOT NULL,
    files     INTEGER NOT NULL,
    bytes     INTEGER NOT NULL,
    snapshot  TEXT,
    error     TEXT
);
"""

_RUN_COLUMNS = ("target", "kind", "started", "finished", "status", "files", "bytes", "snapshot", "error")


class CatalogStore(Database):
    """The backup catalog's tables. ``originals``: the key prefix of the originals on a target
    (a new one stored there ends the shortcut of ``manifest()``)."""

    def __init__(self, path: Path, *, originals: str) -> None:
        super().__init__(connect_state(path, SCHEMA, "the backup catalog"))
        self.originals = originals

    def __enter__(self) -> CatalogStore:
        return self

    # -- targets ----------------------------------------------------------------------------

    def known_target(self, name: str, identity: str) -> bool:
        """Whether a run has used this target (at this place) before."""
        row = self.conn.execute("SELECT identity FROM targets WHERE name = ?", (name,)).fetchone()
        return bool(row) and row[0] == identity

    def remember_target(self, name: str, identity: str) -> None:
        if self.known_target(name, identity):
            return
        with self.transaction() as c:
            row = c.execute("SELECT identity FROM targets WHERE name = ?", (name,)).fetchone()
            if row and row[0] != identity:  # a new place: forget what the old one held
                _forget(c, name)
            c.execute(
                "INSERT INTO targets (name, identity, first_run) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET identity = excluded.identity",
                (name, identity, utc_now()),
            )

    def forget(self, name: str) -> None:
        with self.transaction() as c:
            _forget(c, name)

    # -- stored objects ---------------------------------------------------------------------

    def stored(self, target: str) -> dict[str, str]:
        """{key: sha256} of what the target holds, as far as Keepmark knows."""
        return dict(self.conn.execute("SELECT key, sha256 FROM stored WHERE target = ?", (target,)))

    def stored_row(self, target: str, key: str) -> StoredObject | None:
        """What the target holds under ``key``."""
        row = self.conn.execute(
            "SELECT sha256, size, mtime_ns FROM stored WHERE target = ? AND key = ?", (target, key)
        ).fetchone()
        return StoredObject._make(row) if row else None

    def stored_under(self, target: str, prefix: str) -> dict[str, StoredObject]:
        """{key: what the target holds there} of every key under ``prefix``."""
        rows = self.conn.execute(
            "SELECT key, sha256, size, mtime_ns FROM stored WHERE target = ? AND key >= ? AND key < ?",
            (target, prefix, prefix + "\U0010ffff"),
        )
        return {key: StoredObject(sha, size, mtime) for key, sha, size, mtime in rows}

    def record(self, target: str, rows: Iterable[StoredRow]) -> None:
        """Note objects now durable on the target. A new original there ends the shortcut of
        ``manifest()``; the inventory's own files (``inventory/``) do not bear on it."""
        rows_ = list(rows)
        todo = [(target, *r) for r in rows_]
        if todo:
            with self.transaction() as c:
                c.executemany(
                    "INSERT OR REPLACE INTO stored (target, key, sha256, size, mtime_ns) "
                    "VALUES (?, ?, ?, ?, ?)",
                    todo,
                )
                if any(row[0].startswith(self.originals) for row in rows_):
                    c.execute("DELETE FROM manifests WHERE target = ?", (target,))

    def holding(self, sha256: str) -> dict[str, list[str]]:
        """{target: [keys]} of the objects known to hold this content."""
        out: dict[str, list[str]] = {}
        for target, key in self.conn.execute(
            "SELECT target, key FROM stored WHERE sha256 = ? ORDER BY target, key", (sha256,)
        ):
            out.setdefault(target, []).append(key)
        return out

    def has_any(self, target: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM stored WHERE target = ? LIMIT 1", (target,)).fetchone()
            is not None
        )

    # -- inventory copies -------------------------------------------------------------------

    def inventory_copy(self, target: str) -> InventoryCopy | None:
        """The inventory copy the target holds."""
        row = self.conn.execute(
            "SELECT fingerprint, sha256, size FROM inventory_copies WHERE target = ?", (target,)
        ).fetchone()
        return InventoryCopy._make(row) if row else None

    def remember_inventory_copy(self, target: str, fingerprint: str, sha256: str, size: int) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO inventory_copies (target, fingerprint, sha256, size) "
                "VALUES (?, ?, ?, ?)",
                (target, fingerprint, sha256, size),
            )

    # -- the last manifest ------------------------------------------------------------------

    def manifest(self, target: str, basis: str) -> Listing | None:
        """The originals of the last snapshot written to the target, if it was
        made on this ``basis`` (the inventory's fingerprint) and nothing was stored since."""
        row = self.conn.execute(
            "SELECT files, bytes, body FROM manifests WHERE target = ? AND basis = ?", (target, basis)
        ).fetchone()
        return Listing(int(row[0]), int(row[1]), bytes(row[2])) if row else None

    def remember_manifest(self, target: str, basis: str, listing: Listing) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO manifests (target, basis, files, bytes, body) VALUES (?, ?, ?, ?, ?)",
                (target, basis, listing.files, listing.bytes, listing.section),
            )

    # -- runs -------------------------------------------------------------------------------

    def log_run(self, target: str, kind: str, started: str, status: str, **fields: Any) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO runs (target, kind, started, finished, status, files, bytes, snapshot, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    target,
                    kind,
                    started,
                    utc_now(),
                    status,
                    int(fields.get("files", 0)),
                    int(fields.get("bytes", 0)),
                    fields.get("snapshot"),
                    fields.get("error"),
                ),
            )

    def last_starts(self, kind: str, statuses: Sequence[str]) -> dict[str, str]:
        """{target: when its newest run of ``kind`` that ended in one of ``statuses`` started}."""
        marks = ", ".join("?" for _ in statuses)
        rows = self.conn.execute(
            f"SELECT target, max(started) FROM runs WHERE kind = ? AND status IN ({marks}) GROUP BY target",
            (kind, *statuses),
        ).fetchall()
        return {str(target): str(started) for target, started in rows}

    def count_runs(self, target: str, kind: str, statuses: Sequence[str]) -> int:
        """How many runs of ``kind`` on ``target`` ended in one of ``statuses``."""
        marks = ", ".join("?" for _ in statuses)
        row = self.conn.execute(
            f"SELECT count(*) FROM runs WHERE target = ? AND kind = ? AND status IN ({marks})",
            (target, kind, *statuses),
        ).fetchone()
        return int(row[0])

    def runs(self) -> list[dict[str, Any]]:
        """Every run logged, newest first: {"target", "kind", "started", "finished", "status",
        "files", "bytes", "snapshot", "error"}."""
        rows = self.conn.execute(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs ORDER BY id DESC")
        return [dict(zip(_RUN_COLUMNS, r, strict=True)) for r in rows]

    def stored_totals(self) -> dict[str, tuple[int, int]]:
        """Per target, the originals it holds as far as this catalog knows: (files, bytes)."""
        rows = self.conn.execute(
            "SELECT target, count(*), coalesce(sum(size), 0) FROM stored "
            "WHERE key >= 'originals/' AND key < 'originals0' GROUP BY target"
        )
        return {str(t): (int(n), int(b)) for t, n, b in rows}

    def last_runs(self) -> list[dict[str, Any]]:
        """The newest run of each target and kind (``incremental``, ``full``, ``verify``...)."""
        rows = self.conn.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs "
            "WHERE id IN (SELECT max(id) FROM runs GROUP BY target, kind) ORDER BY target, kind"
        )
        return [dict(zip(_RUN_COLUMNS, r, strict=True)) for r in rows]


def _forget(c: sqlite3.Connection, name: str) -> None:
    for table in ("stored", "inventory_copies", "manifests"):
        c.execute(f"DELETE FROM {table} WHERE target = ?", (name,))
