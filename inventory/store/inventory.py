"""The inventory API: one class that the scanner, the stamper, the backup runs, the proof and
the daemon all use. It opens the profile's database, records what a read of a file taught it
(and appends the matching ledger entries in the same transaction), and answers questions with
typed rows (``inventory.store.rows``).

Its methods live in modules by job: ``recording`` (what a scan read), ``derivatives`` (stamped
copies), ``ledger`` (the ledger's entries), ``matching`` (the matching tables); this module
opens it and answers the questions that read across them.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from inventory.errors import Ambiguous, NotFound
from inventory.ledger.chain import VerifyReport
from inventory.store.db import SCHEMA_VERSION, connect, read_meta
from inventory.store.derivatives import DerivativeStore
from inventory.store.findings import FindingsStore
from inventory.store.labels import SourceLabelStore
from inventory.store.ledger import LedgerStore
from inventory.store.matching import MatchingStore, add_match_hashes
from inventory.store.recording import PATHS_GENERATION, WALK_MEMO, RecordingStore
from inventory.store.rows import DatedFile, FileRow, Known, MediaFile, Recorded

# Kept importable from here: the names callers have always used.
__all__ = [
    "LIST_FIELDS",
    "PATHS_GENERATION",
    "WALK_MEMO",
    "DatedFile",
    "FileRow",
    "Inventory",
    "Known",
    "MediaFile",
    "Recorded",
    "add_match_hashes",
]

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

_CONTENT = (
    "sha256",
    "size",
    "kind",
    "format",
    "first_seen",
    "width",
    "height",
    "duration_ms",
    "capture_time",
    "phash",
    "dhash",
    "frame_hashes",
    "hash_params",
    "details",
    "decode_error",
)

_FILE_ROW = "root, relpath, path, sha256, size, mtime_ns"


def is_bare_name(ref: str) -> bool:
    """A file name alone (``IMG_0042.HEIC``), no folder: looked up in every folder."""
    return bool(ref) and ref not in (".", "..") and "/" not in ref and os.sep not in ref


class Inventory(RecordingStore, DerivativeStore, MatchingStore, LedgerStore, FindingsStore, SourceLabelStore):
    """A profile's content inventory. Use as a context manager, or call ``close()``.
    ``transaction()`` commits the ledger and the records together or not at all."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        super().__init__(conn)
        self.path = path
        self.paths_writes = 0

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True) -> Inventory:
        return cls(connect(path, create=create), os.fspath(path))

    def __enter__(self) -> Inventory:
        return self

    # -- files -------------------------------------------------------------------------------

    def list_files(
        self, *, include_missing: bool = False, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """One entry per file path (``LIST_FIELDS``), with its current content's facts, in path
        order; with ``offset``/``limit`` only that page of them (read as a page, not sliced)."""
        where = "" if include_missing else "WHERE missing_since IS NULL"
        # The page's paths first, from the path index alone; then their rows and contents (the
        # rows skipped by the offset are never joined).
        rows = self.conn.execute(
            "SELECT c.sha256, p.path, c.size, c.kind, c.format, c.first_seen, c.capture_time, "
            "c.width, c.height, c.duration_ms, c.phash, c.dhash, c.decode_error, p.root, p.relpath, "
            "p.first_seen, p.missing_since "
            f"FROM (SELECT path FROM paths {where} ORDER BY path LIMIT ? OFFSET ?) page "
            "JOIN paths p ON p.path = page.path JOIN content c ON c.sha256 = p.sha256 ORDER BY p.path",
            (-1 if limit is None else limit, offset),
        )
        return [dict(zip(LIST_FIELDS, r, strict=True)) for r in rows]

    def count_files(self, *, include_missing: bool = False) -> int:
        where = "" if include_missing else "WHERE missing_since IS NULL"
        return int(self.conn.execute(f"SELECT count(*) FROM paths {where}").fetchone()[0])

    def export_rows(self) -> list[dict[str, Any]]:
        """Every path ever recorded (present or not), with its content's facts."""
        return self.list_files(include_missing=True)

    def current_files(self, paths: Iterable[str] | None = None) -> list[FileRow]:
        """Every file present at the last scan (or those of ``paths``), ordered by path."""
        sql = f"SELECT {_FILE_ROW} FROM paths WHERE missing_since IS NULL"
        if paths is None:
            rows = list(map(FileRow._make, self.conn.execute(sql)))
        else:
            wanted, rows = sorted(set(paths)), []
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ", ".join("?" for _ in part)
                rows += map(FileRow._make, self.conn.execute(f"{sql} AND path IN ({marks})", part))
        rows.sort(key=itemgetter(2))  # in Python: SQLite would look up every row through an index
        return rows

    def files_of(self, sha256: str) -> list[FileRow]:
        """Every path whose current content is ``sha256``, present or marked missing, by path."""
        rows = self.conn.execute(f"SELECT {_FILE_ROW} FROM paths WHERE sha256 = ? ORDER BY path", (sha256,))
        return list(map(FileRow._make, rows))

    def current_files_dated(self) -> list[DatedFile]:
        """Every file present at the last scan, with when its path was first recorded,
        ordered by path."""
        rows = self.conn.execute(
            f"SELECT {_FILE_ROW}, first_seen FROM paths WHERE missing_since IS NULL ORDER BY path"
        ).fetchall()
        return [DatedFile(FileRow._make(r[:6]), r[6]) for r in rows]

    def pictures(
        self,
        *,
        offset: int = 0,
        limit: int = 60,
        kind: str | None = None,
        root: str | None = None,
        month: str | None = None,
        stamped: bool | None = None,
        name: str | None = None,
        published: bool | None = None,
        backed_up: tuple[bool, str | None, Sequence[str]] | None = None,
        count: bool = False,
        after: tuple[str, str] | None = None,
    ) -> tuple[list[dict[str, Any]], bool, int | None]:
        """The photos and videos present at the last scan, newest first (capture time, else when
        first recorded; the ``content_pictures`` index, read a page at a time), one entry per
        content with its first present path; with the filters: ``kind`` (image or video), the
        source folder ``root``, ``month`` (YYYY-MM), ``stamped`` (has a stamped copy, or has
        none), ``name`` (in the file's path within its folder, any case), ``published`` (a
        publication is recorded for it, or none is), ``backed_up`` ((wanted, the backup
        catalog's path or None when there is none yet, the target names): each of the targets
        holds the content, as the catalog knows, or some does not). The page, whether more
        follow it, and (with ``count``: it reads every match) how many match in all. ``after``:
        the (``sort_time``, ``sha256``) of the last item of the page before, to go on from it
        without counting the items before (scrolling: a page costs the same however deep)."""
        where = ["c.kind IN ('image', 'video')"]
        args: list[Any] = []
        present = ["p.sha256 = c.sha256", "p.missing_since IS NULL"]
        present_args: list[Any] = []
        if kind is not None:
            where.append("c.kind = ?")
            args.append(kind)
        if month is not None:
            where.append("substr(coalesce(c.capture_time, c.first_seen), 1, 7) = ?")
            args.append(month)
        if stamped is not None:
            exists = "EXISTS (SELECT 1 FROM derivatives d WHERE d.source = c.sha256)"
            where.append(exists if stamped else f"NOT {exists}")
        if published is not None:
            where.append(
                f"c.sha256 {'' if published else 'NOT '}IN (SELECT json_extract(l.data, '$.sha256') "
                "FROM ledger l WHERE l.type = 'publication')"
            )
        attached = False
        if backed_up is not None:
            wanted, catalog, targets = backed_up
            if catalog is None or not targets:
                where.append("0" if wanted else "1")  # nothing is known to be on a target yet
            else:
                self._want_targets(catalog, targets)
                attached = True
                every = (
                    "NOT EXISTS (SELECT 1 FROM want_targets t WHERE NOT EXISTS (SELECT 1 FROM "
                    "cat.stored s WHERE s.sha256 = c.sha256 AND s.target = t.name))"
                )
                where.append(every if wanted else f"NOT {every}")
        if root is not None:
            present.append("p.root = ?")
            present_args.append(root)
        if name:
            escaped = name.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
            present.append("lower(p.relpath) LIKE ? ESCAPE '!'")
            present_args.append(f"%{escaped}%")
        first_path = f"(SELECT min(p.path) FROM paths p WHERE {' AND '.join(present)})"
        body = f"FROM content c WHERE {' AND '.join(where)} AND {first_path} IS NOT NULL"
        page_args = list(args)
        page_body = body
        if after is not None:
            page_body += " AND (coalesce(c.capture_time, c.first_seen), c.sha256) < (?, ?)"
        total = None
        try:
            if count:
                counted = self.conn.execute(f"SELECT count(*) {body}", [*args, *present_args])
                total = int(counted.fetchone()[0])
            rows = self.conn.execute(
                "SELECT c.sha256, c.kind, c.format, c.capture_time, c.first_seen, c.width, c.height, "
                f"c.duration_ms, c.size, {first_path}, coalesce(c.capture_time, c.first_seen) {page_body} "
                "ORDER BY coalesce(c.capture_time, c.first_seen) DESC, c.sha256 DESC LIMIT ? OFFSET ?",
                [*present_args, *page_args, *present_args, *(after or ()), limit + 1, offset],
            ).fetchall()
        finally:
            if attached:
                self.conn.execute("DETACH DATABASE cat")
        names = ("sha256", "kind", "format", "capture_time", "first_seen", "width", "height", "duration_ms")
        names2 = (*names, "size", "path", "sort_time")
        return [dict(zip(names2, r, strict=True)) for r in rows[:limit]], len(rows) > limit, total

    def picture_of(self, sha256: str) -> tuple[str, int | None, list[FileRow]] | None:
        """A content's kind and duration, and the files present at the last scan that hold it
        (by path); None when no content has this SHA-256."""
        row = self.conn.execute(
            "SELECT kind, duration_ms FROM content WHERE sha256 = ?", (sha256,)
        ).fetchone()
        if row is None:
            return None
        files = self.conn.execute(
            f"SELECT {_FILE_ROW} FROM paths WHERE sha256 = ? AND missing_since IS NULL ORDER BY path",
            (sha256,),
        )
        return str(row[0]), row[1], list(map(FileRow._make, files))

    def present_roots(self) -> list[str]:
        """The source folders of the files present at the last scan."""
        rows = self.conn.execute("SELECT DISTINCT root FROM paths WHERE missing_since IS NULL")
        return sorted(r[0] for r in rows)

    def lacking_on(
        self, catalog: str, targets: Sequence[str], prefixes: Mapping[str, str]
    ) -> list[tuple[str, str, list[str]]]:
        """The files present at the last scan that some of ``targets`` does not hold, as the
        backup catalog at ``catalog`` knows (no object there under ``prefixes[root] + relpath``
        with the file's content): (path, first_seen of the path, the targets lacking it, in the
        order given), by path. Worked out inside SQLite with the catalog attached, so a large
        inventory is never loaded row by row."""
        c = self.conn
        c.execute("CREATE TEMP TABLE IF NOT EXISTS want_prefixes (root TEXT PRIMARY KEY, prefix TEXT)")
        self._want_targets(catalog, targets)
        try:
            c.execute("DELETE FROM want_prefixes")
            c.executemany("INSERT INTO want_prefixes VALUES (?, ?)", prefixes.items())
            rows = c.execute(
                "SELECT p.path, p.first_seen, t.name FROM paths p "
                "JOIN want_prefixes w ON w.root = p.root CROSS JOIN want_targets t "
                "WHERE p.missing_since IS NULL AND NOT EXISTS (SELECT 1 FROM cat.stored s "
                "WHERE s.target = t.name AND s.key = w.prefix || p.relpath AND s.sha256 = p.sha256) "
                "ORDER BY p.path, t.pos"
            ).fetchall()
        finally:
            c.execute("DETACH DATABASE cat")
        out: list[tuple[str, str, list[str]]] = []
        for path, first_seen, target in rows:
            if out and out[-1][0] == path:
                out[-1][2].append(target)
            else:
                out.append((path, first_seen, [target]))
        return out

    def _want_targets(self, catalog: str, targets: Sequence[str]) -> None:
        """The backup catalog at ``catalog`` attached as ``cat``, and ``targets`` in the temporary
        table ``want_targets`` (pos, name); the caller detaches ``cat``."""
        c = self.conn
        c.execute("CREATE TEMP TABLE IF NOT EXISTS want_targets (pos INTEGER PRIMARY KEY, name TEXT)")
        c.execute("DELETE FROM want_targets")
        c.executemany("INSERT INTO want_targets VALUES (?, ?)", enumerate(targets))
        c.execute("ATTACH DATABASE ? AS cat", (catalog,))

    def current_media(self) -> list[MediaFile]:
        """Every photo and video present at the last scan (by its content's kind), ordered by
        path: what the stamper plans from."""
        rows = self.conn.execute(
            "SELECT p.path, p.root, p.relpath, c.sha256, c.kind, c.format, c.capture_time, c.first_seen "
            "FROM paths p JOIN content c ON c.sha256 = p.sha256 "
            "WHERE p.missing_since IS NULL AND c.kind IN ('image', 'video') ORDER BY p.path"
        ).fetchall()
        return list(map(MediaFile._make, rows))

    # -- contents ----------------------------------------------------------------------------

    def has_content(self, sha256: str) -> bool:
        """Whether a content with this SHA-256 is recorded."""
        return self.conn.execute("SELECT 1 FROM content WHERE sha256 = ?", (sha256,)).fetchone() is not None

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
        bare = is_bare_name(ref)
        if os.path.isfile(path):
            from inventory.record.examine import examine

            facts, _ = examine(path)
            if self.has_content(facts.sha256):
                return facts.sha256
            if not (bare and self.paths_named(ref)):
                raise NotFound(f"{ref}: this file's content (SHA-256 {facts.sha256}) is not in the inventory")
        if bare:
            named = self.paths_named(ref)
            contents = {sha for _, sha in named}
            if len(contents) == 1:
                return contents.pop()
            if named:
                raise Ambiguous(
                    f"{ref}: {len(named)} recorded files have this name; give the path of one",
                    [p for p, _ in named],
                )
        raise NotFound(f"{ref}: no record with this SHA-256, path or file name")

    def paths_named(self, name: str) -> list[tuple[str, str]]:
        """The recorded paths (present ones, or if there are none, those no longer found)
        whose file name is ``name``, in any folder: (path, SHA-256), by path."""
        pattern = "%/" + name.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        rows = self.conn.execute(
            "SELECT path, sha256, relpath, missing_since FROM paths "
            "WHERE relpath = ? OR relpath LIKE ? ESCAPE '!' ORDER BY path",
            (name, pattern),
        ).fetchall()
        exact = [r for r in rows if r[2].rsplit("/", 1)[-1] == name]
        present = [r for r in exact if r[3] is None]
        return [(str(r[0]), str(r[1])) for r in present or exact]

    def show(self, ref: str) -> dict[str, Any]:
        """Everything the inventory knows about one content: facts, paths and ledger entries."""
        sha = self.resolve(ref)
        row = self.conn.execute(
            f"SELECT {', '.join(_CONTENT)} FROM content WHERE sha256 = ?", (sha,)
        ).fetchone()
        record = dict(zip(_CONTENT, row, strict=True))
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
        record["ledger"] = [e.as_dict() for e in self.ledger_entries_for(sha)]
        return record

    def held_spans(self, sha256: str) -> list[tuple[str, str, str, str | None]]:
        """When each file held this content: (root, relpath, from, until) per path it was seen
        at, ``until`` being when another content was first seen there or the path went missing
        (None: it still holds it). ISO 8601 UTC times."""
        rows = self.conn.execute(
            "SELECT p.root, p.relpath, s.first_seen, CASE WHEN p.sha256 = s.sha256 THEN p.missing_since "
            "ELSE coalesce((SELECT min(o.first_seen) FROM sightings o WHERE o.path = s.path "
            "AND o.first_seen > s.first_seen), p.missing_since) END "
            "FROM sightings s JOIN paths p ON p.path = s.path WHERE s.sha256 = ? ORDER BY s.first_seen",
            (sha256,),
        )
        return [(str(r), str(rel), str(a), b) for r, rel, a, b in rows]

    # -- the whole database ------------------------------------------------------------------

    def fingerprint(self, ignore_types: Sequence[str] = ()) -> str:
        """A short digest that changes whenever the records change: the ledger's head (leaving
        out entries of ``ignore_types``), the count of writes to ``paths`` (every change of a
        file's size, time or presence is one) and when the database was created. Two copies
        of the database with the same fingerprint hold the same record of ownership. It reads
        a few rows, not the files' table."""
        import hashlib

        head = self.ledger_head(ignore_types)
        meta = read_meta(self.conn, "created", PATHS_GENERATION)
        copies = (self.derivative_count(),)
        head_row = None if head is None else tuple(head)
        text = json.dumps([SCHEMA_VERSION, head_row, meta.get("created"), meta.get(PATHS_GENERATION), copies])
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

    def verify_ledger(self) -> VerifyReport:
        """Recompute the hash chain, then check every row a proof, report or status relies on
        (contents, sightings, paths, stamped copies) against the entries that recorded it
        (``inventory.ledger.truth``): a row edited outside the ledger, or entries cut from the
        end of the ledger, leave a row that the entries do not bear out. One pass over the
        entries, then one over each table with dict lookups: linear in the inventory's size."""
        report, index = self.verify_and_index()
        if not report.ok:
            return report
        found = self.records_disagree(index)
        if found is not None:
            report.ok = False
            report.problem = found.line()
            report.disagreement = found.as_dict()
        return report
