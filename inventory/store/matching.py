"""The matching tables: ``match_hashes`` (the window pHashes of every enrolled photo) and
``frame_sequences`` (a video's frame pHashes at a fixed rate), and the questions a match asks
of the records (docs/design.md, "Matching")."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from inventory.store.db import Database, read_meta, write_meta
from inventory.store.rows import FrameSequence

if TYPE_CHECKING:
    from inventory.record.facts import MediaFacts

# The ``meta`` key set once every record made before enrolment existed has been enrolled.
MATCH_ENROLLED = "match_enrolled"


def _signed(code: int) -> int:
    """A 64-bit hash as SQLite stores it (a signed INTEGER: the same bits)."""
    return code - (1 << 64) if code >= 1 << 63 else code


def add_match_hashes(conn: sqlite3.Connection, sha256: str, m: MediaFacts) -> None:
    """Enrol a content's matching hashes: its window pHashes, or its video frame sequence
    (inside the caller's transaction)."""
    if m.window_hashes:
        conn.executemany(
            "INSERT OR IGNORE INTO match_hashes (sha256, name, phash) VALUES (?, ?, ?)",
            [(sha256, name, _signed(int(h, 16))) for name, h in m.window_hashes.items()],
        )
    if m.frame_sequence:
        from inventory.match.params import SEQUENCE_RATE

        conn.execute(
            "INSERT OR IGNORE INTO frame_sequences (sha256, rate, hashes) VALUES (?, ?, ?)",
            (sha256, SEQUENCE_RATE, json.dumps(m.frame_sequence, separators=(",", ":"))),
        )


class MatchingStore(Database):
    """The inventory's matching tables and questions (a part of ``Inventory``)."""

    def created(self) -> str:
        """When the database was created (``meta.created``); "" if it does not say."""
        return read_meta(self.conn, "created").get("created", "")

    # -- enrolling records made before matching existed --------------------------------------

    def match_enrolled(self) -> bool:
        """Whether every record made before enrolment existed has been enrolled."""
        return MATCH_ENROLLED in read_meta(self.conn, MATCH_ENROLLED)

    def note_match_enrolled(self) -> None:
        with self.transaction() as conn:
            write_meta(conn, MATCH_ENROLLED, "1")

    def unenrolled_media(self) -> list[str]:
        """The SHA-256 of every photo and video with perceptual hashes but no matching hashes, sorted."""
        rows = self.conn.execute(
            "SELECT c.sha256 FROM content c WHERE c.kind IN ('image', 'video') AND c.phash IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM match_hashes m WHERE m.sha256 = c.sha256) "
            "AND NOT EXISTS (SELECT 1 FROM frame_sequences f WHERE f.sha256 = c.sha256) ORDER BY c.sha256"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def enrol(self, sha256: str, media: MediaFacts) -> None:
        """Store a recorded content's matching hashes (read again from one of its files)."""
        with self.transaction() as conn:
            add_match_hashes(conn, sha256, media)

    def load_match_hashes(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """Bulk-load (sha256, window name, signed pHash) rows with no ``content`` rows behind
        them and without syncing: for benchmarks and tests of the match index only."""
        self.conn.execute("PRAGMA foreign_keys = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        try:
            with self.transaction() as conn:
                conn.executemany("INSERT INTO match_hashes (sha256, name, phash) VALUES (?, ?, ?)", rows)
        finally:
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA synchronous = FULL")

    # -- what the match index and a query read -----------------------------------------------

    def last_match_id(self) -> int:
        """The highest ``match_hashes.id`` (0 when empty): rows are only ever added, with
        growing ids, so it tells whether an index built from the table is current."""
        return int(self.conn.execute("SELECT coalesce(max(id), 0) FROM match_hashes").fetchone()[0])

    def match_codes(self, name: str, after_id: int = 0) -> list[tuple[int, int]]:
        """(id, signed pHash) of the window ``name`` of every row with an id above ``after_id``,
        in id order."""
        return self.conn.execute(
            "SELECT id, phash FROM match_hashes WHERE id > ? AND name = ? ORDER BY id", (after_id, name)
        ).fetchall()

    def match_windows(self, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """{row id: (sha256, window name)} of these ``match_hashes`` rows."""
        out: dict[int, tuple[str, str]] = {}
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            for rid, sha, window in self.conn.execute(
                f"SELECT id, sha256, name FROM match_hashes WHERE id IN ({marks})", part
            ):
                out[int(rid)] = (str(sha), str(window))
        return out

    def frame_sequences(self) -> list[FrameSequence]:
        """Every enrolled video's frame sequence, with its duration."""
        rows = self.conn.execute(
            "SELECT f.sha256, f.rate, f.hashes, c.duration_ms FROM frame_sequences f "
            "JOIN content c ON c.sha256 = f.sha256"
        )
        return [FrameSequence(sha, rate, json.loads(text), duration) for sha, rate, text, duration in rows]

    # -- where an original is ----------------------------------------------------------------

    def paths_of(self, sha256: str) -> list[str]:
        """Every path recorded with this content as its current one: present ones first, each
        group in path order."""
        rows = self.conn.execute(
            "SELECT path FROM paths WHERE sha256 = ? ORDER BY missing_since IS NOT NULL, path", (sha256,)
        ).fetchall()
        return [str(r[0]) for r in rows]

    def last_path_of(self, sha256: str) -> str:
        """A current path of the content, else the last path it was seen at; "" if none."""
        row = self.conn.execute(
            "SELECT path FROM paths WHERE sha256 = ? ORDER BY missing_since IS NOT NULL, path LIMIT 1",
            (sha256,),
        ).fetchone()
        if row is None:
            row = self.conn.execute(
                "SELECT path FROM sightings WHERE sha256 = ? ORDER BY first_seen DESC LIMIT 1", (sha256,)
            ).fetchone()
        return str(row[0]) if row else ""
