"""What Keepmark knows it has stored on each target: ``<state>/<profile>/backups.sqlite``.

It lets an incremental run upload only what is new or changed without asking the target about
every file. It is a cache of the targets' truth, never the truth itself: a row is written only
after its object is durable on the target, a full run rebuilds it from the target's listing,
and losing it costs a full comparison, never a backup. Schema in docs/design.md.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from backup.errors import StateError
from backup.runs.layout import ORIGINALS
from inventory.store.db import Database
from inventory.timeutil import utc_now

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

StoredRow = tuple[str, str, int, int]  # key, sha256, size, mtime_ns


_Utf8 = bytes  # (inside Listing, ``bytes`` names its field)


class Listing(NamedTuple):
    """The originals of a snapshot: how many, their bytes, and the manifest's ``files``
    section as written."""

    files: int
    bytes: int
    section: _Utf8


def connect_state(path: Path, schema: str, what: str, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A SQLite database of the state folder (WAL, autocommit, usable from several threads),
    with ``schema`` created; ``StateError`` naming ``what`` if it cannot be opened."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.executescript(schema)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise StateError(f"{path}: cannot open {what} ({exc})") from exc
    return conn


class Catalog(Database):
    def __init__(self, path: Path) -> None:
        super().__init__(connect_state(path, SCHEMA, "the backup catalog"))

    def __enter__(self) -> Catalog:
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

    def stored_row(self, target: str, key: str) -> tuple[str, int, int] | None:
        """(sha256, size, mtime_ns) of what the target holds under ``key``."""
        row = self.conn.execute(
            "SELECT sha256, size, mtime_ns FROM stored WHERE target = ? AND key = ?", (target, key)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def stored_under(self, target: str, prefix: str) -> dict[str, tuple[str, int, int]]:
        """{key: (sha256, size, mtime_ns)} of what the target holds under ``prefix``."""
        rows = self.conn.execute(
            "SELECT key, sha256, size, mtime_ns FROM stored WHERE target = ? AND key >= ? AND key < ?",
            (target, prefix, prefix + "\U0010ffff"),
        )
        return {key: (sha, size, mtime) for key, sha, size, mtime in rows}

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
                if any(row[0].startswith(ORIGINALS) for row in rows_):
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

    def inventory_copy(self, target: str) -> tuple[str, str, int] | None:
        """(fingerprint, sha256, size) of the inventory copy the target holds."""
        row = self.conn.execute(
            "SELECT fingerprint, sha256, size FROM inventory_copies WHERE target = ?", (target,)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

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
        return Listing(row[0], row[1], bytes(row[2])) if row else None

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

    def last_runs(self) -> list[dict[str, Any]]:
        """The newest run of each target and kind (``incremental``, ``full``, ``verify``...)."""
        rows = self.conn.execute(
            "SELECT target, kind, started, finished, status, files, bytes, snapshot, error FROM runs "
            "WHERE id IN (SELECT max(id) FROM runs GROUP BY target, kind) ORDER BY target, kind"
        )
        cols = ("target", "kind", "started", "finished", "status", "files", "bytes", "snapshot", "error")
        return [dict(zip(cols, r, strict=True)) for r in rows]


def _forget(c: sqlite3.Connection, name: str) -> None:
    for table in ("stored", "inventory_copies", "manifests"):
        c.execute(f"DELETE FROM {table} WHERE target = ?", (name,))


def catalog_path(state_dir: Path) -> Path:
    return state_dir / "backups.sqlite"
