"""The perceptual index: every enrolled window pHash of every photo, searched by an exact
brute-force Hamming scan (numpy popcount over 64-bit codes).

It is built from the ``match_hashes`` table and kept as a file next to the inventory database
(``inventory.match-index``), so a query does not read millions of rows from SQLite. When the
table has grown since the file was written, the new rows are appended and the file rewritten;
when it does not match the table at all (another database, rows gone), it is rebuilt. The file
format is in docs/design.md, section "Matching".
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise, repeat
from pathlib import Path
from typing import Any

import numpy as np

from inventory.match_hashes import WINDOWS

MAGIC = b"KMINDEX1"
FORMAT_VERSION = 1
# Rows scanned per numpy call: large enough to amortise the call, small enough to stay in cache.
CHUNK = 1 << 16
# The scan runs in this many threads at most (no more than the machine's processors).
THREADS = 2
_HEADER_LEN = struct.Struct("<I")


@dataclass(frozen=True)
class Hit:
    """One enrolled window within the searched distance of one query code."""

    row: int  # match_hashes.id
    distance: int
    query: int  # index of the query code that found it


def _nearest(slices: list[tuple[Any, Any]], code: int, max_distance: int, k: int) -> tuple[Any, Any]:
    """The k nearest codes (distances, rows) of ``slices`` to ``code``, within max_distance."""
    buf = np.empty(CHUNK, dtype=np.uint64)
    counts = np.empty(CHUNK, dtype=np.uint8)
    q = np.uint64(code)
    limit = max_distance
    best_d = np.empty(0, dtype=np.uint8)
    best_r = np.empty(0, dtype=np.int64)
    for codes, rows in slices:
        for start in range(0, len(codes), CHUNK):
            part = codes[start : start + CHUNK]
            n = len(part)
            np.bitwise_xor(part, q, out=buf[:n])
            np.bitwise_count(buf[:n], out=counts[:n])
            if int(counts[:n].min()) > limit:
                continue
            idx = np.flatnonzero(counts[:n] <= limit)
            best_d = np.concatenate([best_d, counts[idx]])
            best_r = np.concatenate([best_r, rows[start + idx]])
            if len(best_d) > k:
                limit = int(np.partition(best_d, k - 1)[k - 1])
                keep = best_d <= limit
                best_d, best_r = best_d[keep], best_r[keep]
    return best_d, best_r


def index_path(db_path: str | os.PathLike[str]) -> Path:
    p = Path(db_path)
    return p.with_name(p.stem + ".match-index")


class MatchIndex:
    """Window codes grouped by window name: ``codes[name]`` (uint64) and ``rows[name]``
    (int64, the ``match_hashes`` ids), in the same order."""

    def __init__(self, codes: dict[str, Any], rows: dict[str, Any], last_id: int, db_created: str) -> None:
        self.codes = codes
        self.rows = rows
        self.last_id = last_id
        self.db_created = db_created

    def __len__(self) -> int:
        return sum(len(c) for c in self.codes.values())

    # -- searching -------------------------------------------------------------------------

    def search(self, queries: Sequence[tuple[int, Sequence[str]]], max_distance: int, k: int) -> list[Hit]:
        """For each query (a code and the window names it is compared with), its ``k``
        nearest enrolled codes within ``max_distance`` bits (ties at the k-th distance kept).

        The scan is split in ``THREADS`` parts run at once (numpy releases the GIL)."""
        from concurrent.futures import ThreadPoolExecutor

        hits: list[Hit] = []
        parts = max(1, min(THREADS, os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="match-index") as pool:
            for qi, (code, windows) in enumerate(queries):
                slices: list[tuple[Any, Any]] = []
                for name in windows:
                    codes, rows = self.codes.get(name), self.rows.get(name)
                    if codes is None or rows is None or len(codes) == 0:
                        continue
                    bounds = np.linspace(0, len(codes), parts + 1).astype(int).tolist()
                    slices.extend((codes[a:b], rows[a:b]) for a, b in pairwise(bounds))
                shares = [slices[i::parts] for i in range(parts)]
                done = list(pool.map(_nearest, shares, repeat(code), repeat(max_distance), repeat(k)))
                best_d = np.concatenate([d for d, _ in done])
                best_r = np.concatenate([r for _, r in done])
                if len(best_d) > k:
                    limit = int(np.partition(best_d, k - 1)[k - 1])
                    keep = best_d <= limit
                    best_d, best_r = best_d[keep], best_r[keep]
                hits.extend(
                    Hit(int(r), int(d), qi) for r, d in zip(best_r.tolist(), best_d.tolist(), strict=True)
                )
        return hits

    # -- building and storing ---------------------------------------------------------------

    @classmethod
    def empty(cls, db_created: str) -> MatchIndex:
        codes = {n: np.empty(0, dtype=np.uint64) for n in WINDOWS}
        rows = {n: np.empty(0, dtype=np.int64) for n in WINDOWS}
        return cls(codes, rows, 0, db_created)

    def extend(self, conn: sqlite3.Connection) -> int:
        """Append the table's rows added since ``last_id``; return how many."""
        added = 0
        for name in WINDOWS:
            got = conn.execute(
                "SELECT id, phash FROM match_hashes WHERE id > ? AND name = ? ORDER BY id",
                (self.last_id, name),
            ).fetchall()
            if not got:
                continue
            arr = np.array(got, dtype=np.int64)
            self.rows[name] = np.concatenate([self.rows[name], arr[:, 0]])
            self.codes[name] = np.concatenate([self.codes[name], arr[:, 1].view(np.uint64)])
            added += len(got)
        row = conn.execute("SELECT max(id) FROM match_hashes").fetchone()
        self.last_id = int(row[0] or 0)
        return added

    def save(self, path: Path) -> None:
        """Write the index atomically: a temporary file, fsynced, renamed over ``path``."""
        layout = {name: len(self.codes[name]) for name in WINDOWS}
        header = json.dumps(
            {
                "version": FORMAT_VERSION,
                "last_id": self.last_id,
                "db_created": self.db_created,
                "windows": layout,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        head = MAGIC + _HEADER_LEN.pack(len(header)) + header
        head += b"\0" * (-len(head) % 8)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(head)
                for name in WINDOWS:
                    f.write(self.codes[name].astype("<u8", copy=False).tobytes())
                    f.write(self.rows[name].astype("<i8", copy=False).tobytes())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    @classmethod
    def load(cls, path: Path) -> MatchIndex | None:
        """The index stored at ``path``, or None when there is none or it cannot be used."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        if data[:8] != MAGIC or len(data) < 12:
            return None
        (length,) = _HEADER_LEN.unpack_from(data, 8)
        try:
            header = json.loads(data[12 : 12 + length])
        except ValueError:
            return None
        if header.get("version") != FORMAT_VERSION:
            return None
        offset = 12 + length
        offset += -offset % 8
        codes: dict[str, Any] = {}
        rows: dict[str, Any] = {}
        layout = header.get("windows", {})
        for name in WINDOWS:
            n = int(layout.get(name, 0))
            if offset + 16 * n > len(data):
                return None
            codes[name] = np.frombuffer(data, dtype="<u8", count=n, offset=offset)
            offset += 8 * n
            rows[name] = np.frombuffer(data, dtype="<i8", count=n, offset=offset)
            offset += 8 * n
        return cls(codes, rows, int(header["last_id"]), str(header["db_created"]))


# The index last opened for each file, reused by later queries in the same process while the
# table has not grown.
_LOADED: dict[str, MatchIndex] = {}


def open_index(conn: sqlite3.Connection, db_path: str | os.PathLike[str]) -> MatchIndex:
    """The index for this inventory, brought up to date with its ``match_hashes`` table (and
    saved when it changed). A file that belongs to another database is rebuilt."""
    created_row = conn.execute("SELECT value FROM meta WHERE key = 'created'").fetchone()
    created = str(created_row[0]) if created_row else ""
    # Rows are only ever added (with growing ids), so the last id says whether the file is
    # current; it is read from the primary key, without counting millions of rows.
    (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM match_hashes").fetchone()
    path = index_path(db_path)
    cached = _LOADED.get(str(path))
    if cached is not None and cached.db_created == created and cached.last_id == last:
        return cached
    index = MatchIndex.load(path)
    if index is not None and index.db_created == created and index.last_id == last:
        _LOADED[str(path)] = index
        return index
    if index is None or index.db_created != created or index.last_id > last:
        index = MatchIndex.empty(created)
    index.extend(conn)
    try:
        index.save(path)
    except OSError:
        pass  # a read-only state folder: the index works from memory this time
    _LOADED[str(path)] = index
    return index
