"""The inventory API: one class that the scanner, the stamper, the backup runs and the daemon
all use. It opens the profile's database, records what a read of a file taught it (and appends
the matching ledger entries in the same transaction), and answers questions."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from inventory.errors import Ambiguous, NotFound
from inventory.ledger import chain as ledger
from inventory.match.hashes import to_signed
from inventory.record.walk import Found
from inventory.store.db import SCHEMA_VERSION, Database, connect
from inventory.timeutil import utc_now

if TYPE_CHECKING:
    from inventory.record.examine import Observed
    from inventory.record.facts import FileFacts, MediaFacts

LIST_FIELDS = (
    "sha256",
    "path",
    "size",
    "kind",
    "format",
    "first_seen",
    "capture_time",
    "width",
    "height",
    "duration_ms",
    "phash",
    "dhash",
    "decode_error",
    "root",
    "relpath",
    "path_first_seen",
    "missing_since",
)


# What the inventory last saw at a path, enough for the quick check:
# (path, size, mtime_ns, inode, missing_since). Plain tuples: a no-change scan reads one per file.
Known = tuple[str, int, int, int, "str | None"]


# A present file as the backup runs see it: (root, relpath, path, sha256, size, mtime_ns).
FileRow = tuple[str, str, str, str, int, int]


PATHS_GENERATION = "paths_generation"
# The digest of the last whole walk that the ``paths`` table was brought to match, and the
# generation it matches (see ``inventory.record.walk_memo``).
WALK_MEMO = "walk_memo"


def _meta(conn: sqlite3.Connection, *keys: str) -> dict[str, str]:
    """The ``meta`` values of ``keys`` that are set, in one read."""
    marks = ", ".join("?" for _ in keys)
    return dict(conn.execute(f"SELECT key, value FROM meta WHERE key IN ({marks})", keys).fetchall())


class Recorded(NamedTuple):
    """The outcome of recording one file: ``new`` path, ``changed`` content, ``unchanged``,
    or ``failed`` (with ``error``; the rest of the batch is recorded all the same)."""

    path: str
    sha256: str
    status: str
    new_content: bool
    error: str | None = None


def _hash_file(path: str) -> tuple[str, int]:
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def add_match_hashes(conn: sqlite3.Connection, sha256: str, m: MediaFacts) -> None:
    """Enrol a content's matching hashes: its window pHashes, or its video frame sequence."""
    if m.window_hashes:
        conn.executemany(
            "INSERT OR IGNORE INTO match_hashes (sha256, name, phash) VALUES (?, ?, ?)",
            [(sha256, name, to_signed(int(h, 16))) for name, h in m.window_hashes.items()],
        )
    if m.frame_sequence:
        from inventory.match.params import SEQUENCE_RATE

        conn.execute(
            "INSERT OR IGNORE INTO frame_sequences (sha256, rate, hashes) VALUES (?, ?, ?)",
            (sha256, SEQUENCE_RATE, json.dumps(m.frame_sequence, separators=(",", ":"))),
        )


class Inventory(Database):
    """A profile's content inventory. Use as a context manager, or call ``close()``.
    ``transaction()`` commits the ledger and the records together or not at all."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        super().__init__(conn)
        self.path = path
        # Transactions of this connection that changed ``paths``: a scan compares it with the
        # generation to tell whether anyone else wrote meanwhile.
        self.paths_writes = 0

    def _paths_changed(self, conn: sqlite3.Connection) -> None:
        """Count a write to the ``paths`` table (in the writer's transaction), so that the
        fingerprint, and whether a remembered walk still holds, follow every change of a
        path."""
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (PATHS_GENERATION,),
        )
        self.paths_writes += 1

    def paths_state(self) -> tuple[int, str | None]:
        """The paths generation, and the remembered walk digest if it matches that generation
        (nothing has written ``paths`` since the walk it describes), in one read."""
        values = _meta(self.conn, PATHS_GENERATION, WALK_MEMO)
        generation = int(values.get(PATHS_GENERATION) or 0)
        try:
            memo = json.loads(values[WALK_MEMO]) if WALK_MEMO in values else None
        except ValueError:
            memo = None
        if isinstance(memo, dict) and memo.get("generation") == generation:
            digest = memo.get("digest")
            return generation, digest if isinstance(digest, str) else None
        return generation, None

    def remember_walk(self, digest: str, generation: int) -> bool:
        """Remember that the ``paths`` table matches the walk with this digest, if the
        generation is still ``generation`` (nobody else wrote since); return whether it was."""
        with self.transaction() as conn:
            if int(_meta(conn, PATHS_GENERATION).get(PATHS_GENERATION) or 0) != generation:
                return False
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (WALK_MEMO, json.dumps({"digest": digest, "generation": generation})),
            )
        return True

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True) -> Inventory:
        return cls(connect(path, create=create), os.fspath(path))

    def __enter__(self) -> Inventory:
        return self

    # -- recording -------------------------------------------------------------------------

    def known_paths(self, roots: Iterable[str]) -> dict[str, Known]:
        known: dict[str, Known] = {}
        for root in set(roots):
            rows = self.conn.execute(
                "SELECT path, size, mtime_ns, inode, missing_since FROM paths WHERE root = ?",
                (root,),
            ).fetchall()
            # Loops in C: a no-change scan does this once per file.
            known.update(zip(map(itemgetter(0), rows), rows, strict=True))
        return known

    def record_many(self, items: Sequence[tuple[Found, FileFacts, Observed]]) -> list[Recorded]:
        """Record files that were just read, in one transaction."""
        out: list[Recorded] = []
        with self.transaction() as conn:
            now = utc_now()  # taken under the write lock, so ledger times never go backwards
            for found, facts, observed in items:
                conn.execute("SAVEPOINT one_file")
                try:
                    out.append(self._record(conn, found, facts, observed, now))
                except (sqlite3.Error, ValueError) as exc:
                    conn.execute("ROLLBACK TO one_file")
                    out.append(Recorded(found.path, facts.sha256, "failed", False, f"cannot record: {exc}"))
                conn.execute("RELEASE one_file")
            self._paths_changed(conn)
        return out

    def record(self, found: Found, facts: FileFacts, observed: Observed) -> Recorded:
        return self.record_many([(found, facts, observed)])[0]

    def _record(
        self, conn: sqlite3.Connection, found: Found, facts: FileFacts, observed: Observed, now: str
    ) -> Recorded:
        row = conn.execute("SELECT sha256 FROM paths WHERE path = ?", (found.path,)).fetchone()
        new_content = self._add_content(conn, facts, found.path, now)
        # The walk's inode is stored: on Windows fstat and scandir disagree about it.
        conn.execute(
            "INSERT INTO paths (path, root, relpath, sha256, size, mtime_ns, inode, first_seen, "
            "last_hashed, missing_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) "
            "ON CONFLICT (path) DO UPDATE SET root = excluded.root, relpath = excluded.relpath, "
            "sha256 = excluded.sha256, size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "inode = excluded.inode, last_hashed = excluded.last_hashed, missing_since = NULL",
            (
                found.path,
                found.root,
                found.relpath,
                facts.sha256,
                observed.size,
                observed.mtime_ns,
                found.inode,
                now,
                now,
            ),
        )
        seen = conn.execute(
            "SELECT 1 FROM sightings WHERE sha256 = ? AND path = ?", (facts.sha256, found.path)
        ).fetchone()
        if not seen:
            conn.execute(
                "INSERT INTO sightings (sha256, path, first_seen) VALUES (?, ?, ?)",
                (facts.sha256, found.path, now),
            )
            if not new_content:
                ledger.append(conn, "path", {"sha256": facts.sha256, "path": found.path}, now)
        if row is None:
            status = "new"
        elif row[0] != facts.sha256:
            status = "changed"
        else:
            status = "unchanged"
        return Recorded(found.path, facts.sha256, status, new_content)

    def _add_content(self, conn: sqlite3.Connection, facts: FileFacts, path: str, now: str) -> bool:
        if conn.execute("SELECT 1 FROM content WHERE sha256 = ?", (facts.sha256,)).fetchone():
            return False
        m = facts.media
        conn.execute(
            "INSERT INTO content (sha256, size, kind, format, first_seen, width, height, duration_ms, "
            "capture_time, phash, dhash, frame_hashes, hash_params, details, decode_error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                facts.sha256,
                facts.size,
                facts.kind,
                facts.format,
                now,
                m.width,
                m.height,
                m.duration_ms,
                m.capture_time,
                m.phash,
                m.dhash,
                json.dumps(m.frame_hashes) if m.frame_hashes else None,
                m.hash_params,
                json.dumps(m.details, sort_keys=True, ensure_ascii=False) if m.details else None,
                m.decode_error,
            ),
        )
        add_match_hashes(conn, facts.sha256, m)
        data: dict[str, Any] = {
            "sha256": facts.sha256,
            "size": facts.size,
            "kind": facts.kind,
            "format": facts.format,
            "path": path,
        }
        optional = {
            "capture_time": m.capture_time,
            "width": m.width,
            "height": m.height,
            "duration_ms": m.duration_ms,
            "phash": m.phash,
            "dhash": m.dhash,
            "frame_hashes": m.frame_hashes,
            "decode_error": m.decode_error,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        ledger.append(conn, "original", data, now)
        return True

    # -- derivatives (stamped copies) -----------------------------------------------------

    def derivative(self, source: str, style: str, path: str) -> dict[str, Any] | None:
        """The recorded copy of ``source`` made with ``style`` at ``path``, if any."""
        row = self.conn.execute(
            "SELECT sha256, size, created FROM derivatives WHERE source = ? AND style = ? AND path = ?",
            (source, style, path),
        ).fetchone()
        return None if row is None else {"sha256": row[0], "size": row[1], "created": row[2]}

    def record_derivative(
        self,
        source: str,
        path: str,
        *,
        style: str,
        kind: str = "stamped",
        sha256: str | None = None,
        size: int | None = None,
    ) -> str:
        """Record a file made from the original ``source`` (a SHA-256 in the inventory) and
        append a ``derivative`` ledger entry. The file is hashed unless its ``sha256`` and
        ``size`` are given (the stamper knows them: it hashed the bytes it wrote)."""
        return self.record_derivatives([(source, path, style, kind, sha256, size)])[0]

    def record_derivatives(
        self, items: Sequence[tuple[str, str, str, str, str | None, int | None]]
    ) -> list[str]:
        """``record_derivative`` for many (source, path, style, kind, sha256, size), in one
        transaction."""
        prepared = []
        for source, path, style, kind, sha, size in items:
            if sha is None or size is None:
                sha, size = _hash_file(path)
            prepared.append((source, path, style, kind, sha, size))
        with self.transaction() as conn:
            now = utc_now()
            for source, path, style, kind, sha, size in prepared:
                if not conn.execute("SELECT 1 FROM content WHERE sha256 = ?", (source,)).fetchone():
                    raise NotFound(f"{source}: not in the inventory; record the original first")
                conn.execute(
                    "INSERT INTO derivatives (sha256, source, style, path, size, kind, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, style, path) DO UPDATE SET "
                    "sha256 = excluded.sha256, size = excluded.size, created = excluded.created",
                    (sha, source, style, path, size, kind, now),
                )
                data = {
                    "sha256": sha,
                    "source": source,
                    "kind": kind,
                    "style": style,
                    "path": path,
                    "size": size,
                }
                ledger.append(conn, "derivative", data, now)
        return [p[4] for p in prepared]

    def derivatives_of(self, source: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT sha256, style, path, size, kind, created FROM derivatives "
            "WHERE source = ? ORDER BY created",
            (source,),
        )
        return [
            dict(zip(("sha256", "style", "path", "size", "kind", "created"), r, strict=True)) for r in rows
        ]

    def mark_missing(self, paths: Iterable[str]) -> int:
        """Note that these paths were not found by a complete scan of their folder."""
        now = utc_now()
        todo = [(now, p) for p in paths]
        if not todo:
            return 0
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE paths SET missing_since = ? WHERE path = ? AND missing_since IS NULL", todo
            )
            self._paths_changed(conn)
        return len(todo)

    def mark_present(self, paths: Iterable[str]) -> None:
        todo = [(p,) for p in paths]
        if todo:
            with self.transaction() as conn:
                conn.executemany("UPDATE paths SET missing_since = NULL WHERE path = ?", todo)
                self._paths_changed(conn)

    def log_scan(self, started: str, roots: Sequence[str], counts: dict[str, int]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO scans (started, finished, roots, new, changed, unchanged, errors) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    started,
                    utc_now(),
                    json.dumps(list(roots), ensure_ascii=False),
                    counts.get("new", 0),
                    counts.get("changed", 0),
                    counts.get("unchanged", 0),
                    counts.get("errors", 0),
                ),
            )

    # -- questions -------------------------------------------------------------------------

    def list_files(self, *, include_missing: bool = False) -> list[dict[str, Any]]:
        """One entry per file path, with its current content's facts."""
        where = "" if include_missing else "WHERE p.missing_since IS NULL"
        rows = self.conn.execute(
            "SELECT c.sha256, p.path, c.size, c.kind, c.format, c.first_seen, c.capture_time, "
            "c.width, c.height, c.duration_ms, c.phash, c.dhash, c.decode_error, p.root, p.relpath, "
            f"p.first_seen, p.missing_since FROM paths p JOIN content c ON c.sha256 = p.sha256 {where} "
            "ORDER BY p.path"
        )
        return [dict(zip(LIST_FIELDS, r, strict=True)) for r in rows]

    def current_files(self, paths: Iterable[str] | None = None) -> list[FileRow]:
        """Every file present at the last scan (or those of ``paths``), as plain tuples (cheap
        for 100,000 files): (root, relpath, path, sha256, size, mtime_ns), ordered by path."""
        sql = "SELECT root, relpath, path, sha256, size, mtime_ns FROM paths WHERE missing_since IS NULL"
        if paths is None:
            rows = self.conn.execute(sql).fetchall()
        else:
            wanted, rows = sorted(set(paths)), []
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ", ".join("?" for _ in part)
                rows += self.conn.execute(f"{sql} AND path IN ({marks})", part).fetchall()
        rows.sort(key=itemgetter(2))  # in Python: SQLite would look up every row through an index
        return rows

    def note(self, type_: str, data: dict[str, Any]) -> ledger.Entry:
        """Append one entry of ``type_`` (such as ``snapshot``) to the ledger."""
        with self.transaction() as conn:
            return ledger.append(conn, type_, data, utc_now())

    def fingerprint(self, ignore_types: Sequence[str] = ()) -> str:
        """A short digest that changes whenever the records change: the ledger's head (leaving
        out entries of ``ignore_types``), the count of writes to ``paths`` (every change of a
        file's size, time or presence is one) and when the database was created. Two copies
        of the database with the same fingerprint hold the same record of ownership. It reads
        a few rows, not the files' table."""
        import hashlib

        marks = ",".join("?" for _ in ignore_types)
        where = f"WHERE type NOT IN ({marks})" if ignore_types else ""
        head = self.conn.execute(
            f"SELECT seq, hash FROM ledger {where} ORDER BY seq DESC LIMIT 1", tuple(ignore_types)
        ).fetchone()
        meta = _meta(self.conn, "created", PATHS_GENERATION)
        copies = self.conn.execute("SELECT count(*) FROM derivatives").fetchone()
        text = json.dumps([SCHEMA_VERSION, head, meta.get("created"), meta.get(PATHS_GENERATION), copies])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def copy_to(self, dest: str | os.PathLike[str], *, sync: bool = True) -> None:
        """A consistent copy of the whole database (records and ledger) at ``dest``, made with
        SQLite's online backup API while others may be writing; fsynced unless ``sync`` is
        False."""
        target = sqlite3.connect(os.fspath(dest))
        try:
            self.conn.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        if sync:
            with open(dest, "rb+") as f:
                os.fsync(f.fileno())

    def counts(self) -> dict[str, int]:
        c = self.conn
        return {
            "contents": c.execute("SELECT count(*) FROM content").fetchone()[0],
            "paths": c.execute("SELECT count(*) FROM paths WHERE missing_since IS NULL").fetchone()[0],
            "ledger_entries": c.execute("SELECT count(*) FROM ledger").fetchone()[0],
        }

    def resolve(self, ref: str) -> str:
        """A full SHA-256 from a SHA-256, a unique prefix of one (6+ hex digits) or a path."""
        text = ref.strip().lower()
        if len(text) >= 6 and all(ch in "0123456789abcdef" for ch in text):
            rows = self.conn.execute(
                "SELECT sha256 FROM content WHERE sha256 >= ? AND sha256 < ? LIMIT 2",
                (text, text + "g"),
            ).fetchall()
            if len(rows) == 1:
                return str(rows[0][0])
            if len(rows) > 1:
                raise Ambiguous(f"{ref}: more than one record starts with this; give more digits")
        path = os.path.abspath(ref)
        row = self.conn.execute("SELECT sha256 FROM paths WHERE path = ?", (path,)).fetchone()
        if row:
            return str(row[0])
        if os.path.isfile(path):
            from inventory.record.examine import examine

            facts, _ = examine(path)
            if self.conn.execute("SELECT 1 FROM content WHERE sha256 = ?", (facts.sha256,)).fetchone():
                return facts.sha256
            raise NotFound(f"{ref}: this file's content (SHA-256 {facts.sha256}) is not in the inventory")
        raise NotFound(f"{ref}: no record with this SHA-256 or path")

    def show(self, ref: str) -> dict[str, Any]:
        """Everything the inventory knows about one content: facts, paths and ledger entries."""
        sha = self.resolve(ref)
        cols = (
            "sha256, size, kind, format, first_seen, width, height, duration_ms, capture_time, "
            "phash, dhash, frame_hashes, hash_params, details, decode_error"
        )
        row = self.conn.execute(f"SELECT {cols} FROM content WHERE sha256 = ?", (sha,)).fetchone()
        record = dict(zip([c.strip() for c in cols.split(",")], row, strict=True))
        for key in ("frame_hashes", "hash_params", "details"):
            if record[key]:
                record[key] = json.loads(record[key])
        record["paths"] = [
            {"path": p, "first_seen": first, "current": cur == sha, "missing_since": missing}
            for p, first, cur, missing in self.conn.execute(
                "SELECT s.path, s.first_seen, p.sha256, p.missing_since FROM sightings s "
                "LEFT JOIN paths p ON p.path = s.path WHERE s.sha256 = ? ORDER BY s.first_seen, s.path",
                (sha,),
            )
        ]
        record["derivatives"] = self.derivatives_of(sha)
        record["ledger"] = [e.as_dict() for e in ledger.entries_for(self.conn, sha)]
        return record

    def export_rows(self) -> list[dict[str, Any]]:
        """Every path ever recorded (present or not), with its content's facts."""
        return self.list_files(include_missing=True)

    def verify_ledger(self) -> ledger.VerifyReport:
        report = ledger.verify(self.conn)
        if not report.ok:
            return report
        # Every content row has its 'original' entry, and every sighting (a content seen at a
        # path) exactly one entry: 'original' for the first, 'path' for the others. Entries
        # cut from the end of the ledger leave records that nothing in the ledger covers.
        orphan = self.conn.execute(
            "SELECT c.sha256 FROM content c WHERE NOT EXISTS (SELECT 1 FROM ledger l "
            "WHERE l.type = 'original' AND json_extract(l.data, '$.sha256') = c.sha256) LIMIT 1"
        ).fetchone()
        if orphan:
            report.ok = False
            report.problem = (
                f"content {orphan[0]} is in the inventory but no ledger entry records it: "
                "ledger entries were removed from the end"
            )
            return report
        unrecorded = self.conn.execute(
            "SELECT d.path FROM derivatives d WHERE NOT EXISTS (SELECT 1 FROM ledger l "
            "WHERE l.type = 'derivative' AND json_extract(l.data, '$.sha256') = d.sha256 "
            "AND json_extract(l.data, '$.path') = d.path) LIMIT 1"
        ).fetchone()
        if unrecorded:
            report.ok = False
            report.problem = f"the stamped copy {unrecorded[0]} has no ledger entry: entries were removed"
            return report
        sightings = self.conn.execute("SELECT count(*) FROM sightings").fetchone()[0]
        entries = self.conn.execute(
            "SELECT count(*) FROM ledger WHERE type IN ('original', 'path')"
        ).fetchone()[0]
        if sightings != entries:
            report.ok = False
            report.problem = (
                f"the inventory records {sightings} sightings of files but the ledger has {entries} "
                "entries for them: ledger entries were removed from the end"
            )
        return report
