"""The inventory database: one SQLite file per profile, in WAL mode; and the connection rules
of the other state databases (the backup catalog, the daemon's queue).

The schema is described in docs/design.md; ``SCHEMA_VERSION`` names it and is stored in the
``meta`` table. A database of an older version is brought up to this one when it is opened (the
tables it lacks are created); one written by a newer Keepmark is refused, not guessed at.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inventory.errors import DatabaseError
from inventory.timeutil import utc_now

SCHEMA_VERSION = 4

# Indexes added within a schema version: an older Keepmark reads a database that has them as it
# reads one without (an index changes no answer), so they need no new version.
# The library (newest photos and videos first) reads a page of content_pictures, not every
# content. A new database gets them with the rest of SCHEMA, an existing one when it is opened.
LATER_INDEXES = {
    "content_pictures": "CREATE INDEX IF NOT EXISTS content_pictures ON content "
    "(coalesce(capture_time, first_seen), sha256) WHERE kind IN ('image', 'video')",
    # The entries of one type (the publications, the snapshots) without reading the whole ledger.
    "ledger_type": "CREATE INDEX IF NOT EXISTS ledger_type ON ledger (type)",
    # The entries about one content (a file's page, `inventory show`, a proof): by the SHA-256
    # their data names, as `sha256` or (a stamped copy's entry) as `source`.
    "ledger_sha256": "CREATE INDEX IF NOT EXISTS ledger_sha256 ON ledger (json_extract(data, '$.sha256'))",
    "ledger_source": "CREATE INDEX IF NOT EXISTS ledger_source ON ledger (json_extract(data, '$.source')) "
    "WHERE json_extract(data, '$.source') IS NOT NULL",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS content (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('image', 'video', 'other')),
    format       TEXT NOT NULL,
    first_seen   TEXT NOT NULL,
    width        INTEGER,
    height       INTEGER,
    duration_ms  INTEGER,
    capture_time TEXT,
    phash        TEXT,
    dhash        TEXT,
    frame_hashes TEXT,
    hash_params  TEXT,
    details      TEXT,
    decode_error TEXT
);
CREATE TABLE IF NOT EXISTS paths (
    path          TEXT PRIMARY KEY,
    root          TEXT NOT NULL,
    relpath       TEXT NOT NULL,
    sha256        TEXT NOT NULL REFERENCES content (sha256),
    size          INTEGER NOT NULL,
    mtime_ns      INTEGER NOT NULL,
    inode         INTEGER NOT NULL,
    first_seen    TEXT NOT NULL,
    last_hashed   TEXT NOT NULL,
    missing_since TEXT
);
CREATE INDEX IF NOT EXISTS paths_sha256 ON paths (sha256);
-- Covers the quick check, so a no-change scan reads one index and no table rows.
CREATE INDEX IF NOT EXISTS paths_quick ON paths (root, path, size, mtime_ns, inode, missing_since);
CREATE TABLE IF NOT EXISTS sightings (
    sha256     TEXT NOT NULL,
    path       TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (sha256, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger (
    seq  INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS derivatives (
    id       INTEGER PRIMARY KEY,
    sha256   TEXT NOT NULL,
    source   TEXT NOT NULL REFERENCES content (sha256),
    style    TEXT NOT NULL,
    path     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    created  TEXT NOT NULL,
    UNIQUE (source, style, path)
);
CREATE INDEX IF NOT EXISTS derivatives_sha256 ON derivatives (sha256);
-- Matching (schema 3): the pHash of every enrolled crop window of a photo, and a video's
-- frame pHashes at a fixed rate. See "Matching" in docs/design.md.
CREATE TABLE IF NOT EXISTS match_hashes (
    id     INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES content (sha256),
    name   TEXT NOT NULL,
    phash  INTEGER NOT NULL,
    UNIQUE (sha256, name)
);
CREATE TABLE IF NOT EXISTS frame_sequences (
    sha256 TEXT PRIMARY KEY REFERENCES content (sha256),
    rate   REAL NOT NULL,
    hashes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scans (
    id        INTEGER PRIMARY KEY,
    started   TEXT NOT NULL,
    finished  TEXT NOT NULL,
    roots     TEXT NOT NULL,
    new       INTEGER NOT NULL,
    changed   INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    errors    INTEGER NOT NULL
);
-- Damage found on the backup targets (schema 4): a copy that verify, or a full run's
-- read-back, found missing, cut or altered, until a full run or `backup repair` replaces it.
-- See "Damaged copies and repair" in docs/design.md.
CREATE TABLE IF NOT EXISTS damaged (
    target     TEXT NOT NULL,
    key        TEXT NOT NULL,
    path       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    problem    TEXT NOT NULL,
    found      TEXT NOT NULL,
    found_by   TEXT NOT NULL,
    resolved   TEXT,
    resolution TEXT,
    PRIMARY KEY (target, key, found)
);
-- The name each source folder is filed under on the targets and in the output folder
-- (schema 4): given once, kept. See "Source folders that share a name" in docs/design.md.
CREATE TABLE IF NOT EXISTS source_labels (
    root  TEXT PRIMARY KEY,
    label TEXT NOT NULL UNIQUE COLLATE NOCASE,
    given TEXT NOT NULL
);
"""
SCHEMA += "".join(f"{statement};\n" for statement in LATER_INDEXES.values())


def connect(path: str | os.PathLike[str], *, create: bool = True) -> sqlite3.Connection:
    """Open (and if needed create) an inventory database, checking its schema version."""
    db_path = Path(path)
    if not create and not db_path.exists():
        raise DatabaseError(f"{db_path}: no inventory yet (run a scan first)")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(db_path), isolation_level=None, timeout=30.0, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise DatabaseError(f"{db_path}: cannot switch to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, db_path)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{db_path}: {exc}") from exc
    except OSError as exc:
        raise DatabaseError(f"{db_path}: {exc.strerror or exc}") from exc
    return conn


def connect_state(path: Path, schema: str, what: str, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A SQLite database of the state folder other than the inventory (the backup catalog, the
    daemon's queue): WAL, autocommit, usable from several threads, with ``schema`` created.
    ``DatabaseError`` naming ``what`` if it cannot be opened."""
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.executescript(schema)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise DatabaseError(f"{path}: cannot open {what} ({exc})") from exc
    return conn


def _migrate(conn: sqlite3.Connection, db_path: Path) -> None:
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    if has_meta:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"{db_path}: written by a newer Keepmark (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade Keepmark"
            )
        if version == SCHEMA_VERSION:
            _add_indexes(conn)
            return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?)", (utc_now(),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _add_indexes(conn: sqlite3.Connection) -> None:
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    for name, statement in LATER_INDEXES.items():
        if name not in have:
            try:
                conn.execute(statement)
            except sqlite3.OperationalError:  # read-only, or busy: the next open adds it
                pass


def read_meta(conn: sqlite3.Connection, *keys: str) -> dict[str, str]:
    """The ``meta`` values of ``keys`` that are set, in one read."""
    marks = ", ".join("?" for _ in keys)
    return dict(conn.execute(f"SELECT key, value FROM meta WHERE key IN ({marks})", keys).fetchall())


def write_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set one ``meta`` value (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


class Database:
    """An open SQLite connection: a context manager, with write transactions."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: everything in it commits together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
