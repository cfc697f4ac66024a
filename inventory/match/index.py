"""The perceptual index: every enrolled window pHash of every photo, searched exactly for
the k nearest to a query code: through a multi-index of 16-bit substrings
(``inventory.match.mih``) when that reads fewer codes, else by a brute-force Hamming scan (numpy
popcount over 64-bit codes).

It is built from the ``match_hashes`` table and kept as a file next to the inventory database
(``inventory.match-index``), so a query does not read millions of rows from SQLite. When the
table has grown since the file was written, the new rows are appended and the file rewritten;
when it does not match the table at all (another database, rows gone), it is rebuilt. The file
format is in docs/design.md, section "Matching".
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inventory.atomic import atomic_path
from inventory.match import mih
from inventory.match.params import WINDOW_IDS, WINDOWS

if TYPE_CHECKING:
    from inventory.store.inventory import Inventory

MAGIC = b"KMINDEX1"
FORMAT_VERSION = 2
# Rows compared per numpy call: large enough to amortise the call, small enough that a chunk
# of codes and its XOR buffer stay in the L2 cache while every query code that searches the
# window is compared with it.
CHUNK = 1 << 15
_HEADER_LEN = struct.Struct("<I")


@dataclass(frozen=True)
class Hit:
    """One enrolled window within the searched distance of one query code."""

    row: int  # match_hashes.id
    distance: int
    query: int  # index of the query code that found it


# One window's codes and rows, and who searches it: (query, position of the window in that
# query's list, code as a numpy uint64) for each.
_Work = tuple[Any, Any, list[tuple[int, int, Any]]]


def _nearest(work: list[_Work], limits: list[int], k: int) -> list[tuple[Any, Any]]:
    """For each query, its k nearest codes in ``work`` within its limit (ties at the k-th
    distance kept): (distances, rows), in the order of its windows, then of the rows. A limit
    below the query's ``max_distance`` must be one no code among its k nearest is beyond.

    Each chunk of codes is read from memory once and compared with every query code that
    searches it while it is in the cache."""
    buf = np.empty(CHUNK, dtype=np.uint64)
    counts = np.empty(CHUNK, dtype=np.uint8)
    smallest = np.minimum.reduce
    # Per query: the distance limit, how many codes found so far are within it, how many were
    # found at each distance, and what was found: (window position, distances, rows).
    limit = list(limits)
    within = [0] * len(limit)
    tally = [np.zeros(max(lim + 1, 0), dtype=np.int64) for lim in limit]
    found: list[list[tuple[int, Any, Any]]] = [[] for _ in limit]
    for codes, rows, searchers in work:
        for start in range(0, len(codes), CHUNK):
            part = codes[start : start + CHUNK]
            n = len(part)
            x, c = buf[:n], counts[:n]
            for qi, wi, q in searchers:
                np.bitwise_xor(part, q, out=x)
                np.bitwise_count(x, out=c)
                lim = limit[qi]
                if smallest(c) > lim:
                    continue
                idx = (c <= lim).nonzero()[0]
                d = c[idx]
                found[qi].append((wi, d, rows[start:][idx]))
                tally[qi] += np.bincount(d, minlength=len(tally[qi]))
                limit[qi], within[qi] = mih.lower_limit(tally[qi], within[qi] + len(d), lim, k)
    nearest = []
    for lim, runs in zip(limit, found, strict=True):
        runs.sort(key=lambda run: run[0])  # stable: rows stay in order within a window
        d = np.concatenate([np.empty(0, dtype=np.uint8), *(run[1] for run in runs)])
        r = np.concatenate([np.empty(0, dtype=np.int64), *(run[2] for run in runs)])
        keep = d <= lim
        nearest.append((d[keep], r[keep]))
    return nearest


def index_path(db_path: str | os.PathLike[str]) -> Path:
    p = Path(db_path)
    return p.with_name(p.stem + ".match-index")


class MatchIndex:
    """Window codes grouped by window name: ``codes[name]`` (uint64) and ``rows[name]``
    (int64, the ``match_hashes`` ids, ascending), in the same order; views of one array each,
    the windows one after the other in the order of ``WINDOWS``. ``perms``, ``offsets`` and
    ``ordered`` are the multi-index tables over them (``inventory.match.mih.build``)."""

    def __init__(
        self,
        codes: Any,
        rows: Any,
        sizes: Sequence[int],
        last_id: int,
        db_created: str,
        tables: tuple[Any, Any, Any] | None = None,
    ) -> None:
        self._assign(codes, rows, sizes, tables)
        self.last_id = last_id
        self.db_created = db_created

    def _assign(
        self, codes: Any, rows: Any, sizes: Sequence[int], tables: tuple[Any, Any, Any] | None
    ) -> None:
        self.all_codes = codes
        self.all_rows = rows
        self.bounds = np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=np.int64))]).astype(np.int64)
        self.codes: dict[str, Any] = {}
        self.rows: dict[str, Any] = {}
        for w, name in enumerate(WINDOWS):
            lo, hi = int(self.bounds[w]), int(self.bounds[w + 1])
            self.codes[name] = codes[lo:hi]
            self.rows[name] = rows[lo:hi]
        self.perms, self.offsets, self.ordered = (
            tables if tables is not None else mih.build(codes, self.bounds)
        )

    def __len__(self) -> int:
        return len(self.all_codes)

    # -- searching -------------------------------------------------------------------------

    def search(self, queries: Sequence[tuple[int, Sequence[str]]], max_distance: int, k: int) -> list[Hit]:
        """For each query (a code and the distinct window names it is compared with), its
        ``k`` nearest enrolled codes within ``max_distance`` bits (ties at the k-th distance
        kept), in the order of its windows, then of the rows.

        A query over enough codes is searched through the multi-index (``inventory.match.mih``)
        as long as its buckets are expected to cost less than a scan of its windows; the other
        queries, and those it hands back with the limit it reached, are scanned, each window
        once for all the query codes that search it. Both give the same hits."""
        plans: list[dict[int, int]] = []  # per query: window id -> its position in the query's list
        for _code, windows in queries:
            plans.append(
                {WINDOW_IDS[name]: wi for wi, name in enumerate(windows) if len(self.codes.get(name, ())) > 0}
            )
        chosen = [
            qi
            for qi, plan in enumerate(plans)
            if sum(int(self.bounds[w + 1] - self.bounds[w]) for w in plan) >= mih.MIN_CODES
        ]
        results: list[tuple[Any, Any] | None] = [None] * len(queries)
        limits = [max_distance] * len(queries)
        if chosen:
            found, reached = mih.search(
                self.ordered,
                self.perms,
                self.offsets,
                self.bounds,
                [(int(queries[qi][0]), list(plans[qi])) for qi in chosen],
                max_distance,
                k,
            )
            for qi, got, lim in zip(chosen, found, reached, strict=True):
                limits[qi] = lim
                if got is not None:
                    ids, d, p = got
                    wpos = np.array([plans[qi][w] for w in ids.tolist()], dtype=np.int64)
                    order = np.lexsort((p, wpos))
                    results[qi] = (d[order], self.all_rows[p[order]])
        searchers: dict[str, list[tuple[int, int, Any]]] = {}
        for qi, (code, windows) in enumerate(queries):
            if results[qi] is None:
                for wi, name in enumerate(windows):
                    searchers.setdefault(name, []).append((qi, wi, np.uint64(code)))
        work: list[_Work] = []
        for name, who in searchers.items():
            codes, rows = self.codes.get(name), self.rows.get(name)
            if codes is not None and rows is not None and len(codes) > 0:
                work.append((codes, rows, who))
        scanned = _nearest(work, limits, k)
        hits: list[Hit] = []
        for qi in range(len(queries)):
            d, r = results[qi] or scanned[qi]
            hits.extend(
                Hit(int(row), int(dist), qi) for row, dist in zip(r.tolist(), d.tolist(), strict=True)
            )
        return hits

    # -- building and storing ---------------------------------------------------------------

    @classmethod
    def empty(cls, db_created: str) -> MatchIndex:
        return cls(
            np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64), [0] * len(WINDOWS), 0, db_created
        )

    def extend(self, inv: Inventory) -> int:
        """Append the table's rows added since ``last_id`` and rebuild the multi-index
        tables; return how many rows were added."""
        codes = []
        rows = []
        added = 0
        for name in WINDOWS:
            got = inv.match_codes(name, self.last_id)
            arr = np.array(got, dtype=np.int64).reshape(-1, 2)
            rows.append(np.concatenate([self.rows[name], arr[:, 0]]))
            codes.append(np.concatenate([self.codes[name], arr[:, 1].view(np.uint64)]))
            added += len(got)
        if added:
            self._assign(np.concatenate(codes), np.concatenate(rows), [len(c) for c in codes], None)
        self.last_id = inv.last_match_id()
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
                "position_bytes": self.perms.dtype.itemsize,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        head = MAGIC + _HEADER_LEN.pack(len(header)) + header
        head += b"\0" * (-len(head) % 8)
        with atomic_path(path, synced=True) as tmp, open(tmp, "wb") as f:
            f.write(head)
            for part in (
                self.all_codes.astype("<u8", copy=False),
                self.all_rows.astype("<i8", copy=False),
                self.offsets.astype("<i8", copy=False),
                self.ordered.astype("<u8", copy=False),
                self.perms.astype(self.perms.dtype.newbyteorder("<"), copy=False),
            ):
                np.ascontiguousarray(part).tofile(f)
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def load(cls, path: Path) -> MatchIndex | None:
        """The index stored at ``path``, or None when there is none or it cannot be used (of
        another format version, or damaged)."""
        try:
            with open(path, "rb") as f:
                # Into memory numpy allocates (in huge pages where the system offers them:
                # the search reads codes at random, and fewer page-table misses matter).
                data = np.empty(os.fstat(f.fileno()).st_size, dtype=np.uint8)
                if f.readinto(data.data) != len(data):
                    return None
        except OSError:
            return None
        if data[:8].tobytes() != MAGIC or len(data) < 12:
            return None
        (length,) = _HEADER_LEN.unpack_from(data[:12].tobytes(), 8)
        try:
            header = json.loads(data[12 : 12 + length].tobytes())
            if header.get("version") != FORMAT_VERSION:
                return None
            layout = header["windows"]
            sizes = [int(layout.get(name, 0)) for name in WINDOWS]
            n = sum(sizes)
            position = np.dtype(f"<u{int(header['position_bytes'])}")
            last_id, created = int(header["last_id"]), str(header["db_created"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if position != mih.position_dtype(n) or min(sizes) < 0:
            return None
        offset = 12 + length
        offset += -offset % 8
        shape = (mih.SUBSTRINGS, mih.BUCKETS * len(WINDOWS) + 1)
        need = 16 * n + 8 * int(np.prod(shape)) + mih.SUBSTRINGS * n * (8 + position.itemsize)
        if len(data) != offset + need:
            return None
        codes = data[offset : offset + 8 * n].view("<u8")
        offset += 8 * n
        rows = data[offset : offset + 8 * n].view("<i8")
        offset += 8 * n
        offsets = data[offset : offset + 8 * int(np.prod(shape))].view("<i8").reshape(shape)
        offset += offsets.nbytes
        ordered = data[offset : offset + 8 * mih.SUBSTRINGS * n].view("<u8").reshape(mih.SUBSTRINGS, n)
        offset += ordered.nbytes
        perms = data[offset:].view(position).reshape(mih.SUBSTRINGS, n)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        if not mih.check(perms, offsets, bounds):
            return None
        return cls(codes, rows, sizes, last_id, created, (perms, offsets, ordered))


# The index last opened for each file, reused by later queries in the same process while the
# table has not grown.
_LOADED: dict[str, MatchIndex] = {}


def open_index(inv: Inventory, db_path: str | os.PathLike[str]) -> MatchIndex:
    """The index for this inventory, brought up to date with its ``match_hashes`` table (and
    saved when it changed). A file that belongs to another database is rebuilt."""
    created = inv.created()
    # Rows are only ever added (with growing ids), so the last id says whether the file is
    # current; it is read from the primary key, without counting millions of rows.
    last = inv.last_match_id()
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
    index.extend(inv)
    try:
        index.save(path)
    except OSError:
        pass  # a read-only state folder: the index works from memory this time
    _LOADED[str(path)] = index
    return index
