"""Recording what a scan read: the ``content``, ``paths``, ``sightings`` and ``scans`` tables,
and the ledger entries that go with them, written in the same transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from inventory.store.db import Database, read_meta, write_meta
from inventory.store.ledger import append_entry
from inventory.store.matching import add_match_hashes
from inventory.store.rows import Known, Recorded
from inventory.timeutil import utc_now

if TYPE_CHECKING:
    from inventory.record.examine import Observed
    from inventory.record.facts import FileFacts
    from inventory.record.walk import Found

PATHS_GENERATION = "paths_generation"
# The digest of the last whole walk that the ``paths`` table was brought to match, and the
# generation it matches (see ``inventory.record.walk_memo``).
WALK_MEMO = "walk_memo"


class RecordingStore(Database):
    """The inventory's writes of what was read (a part of ``Inventory``)."""

    # Transactions of this connection that changed ``paths``: a scan compares it with the
    # generation to tell whether anyone else wrote meanwhile. (Set by ``Inventory``.)
    paths_writes: int

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
        values = read_meta(self.conn, PATHS_GENERATION, WALK_MEMO)
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
            if int(read_meta(conn, PATHS_GENERATION).get(PATHS_GENERATION) or 0) != generation:
                return False
            write_meta(conn, WALK_MEMO, json.dumps({"digest": digest, "generation": generation}))
        return True

    def known_paths(self, roots: Iterable[str]) -> dict[str, Known]:
        """What the inventory last saw at every path under these source folders, for the quick
        check: {path: (path, size, mtime_ns, inode, missing_since)}."""
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
                append_entry(conn, "path", {"sha256": facts.sha256, "path": found.path}, now)
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
        append_entry(conn, "original", data, now)
        return True

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
