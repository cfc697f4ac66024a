"""The match index returns exactly what a plain brute-force scan returns, whichever way it
searches (multi-index buckets, the scan, or buckets first and then the scan), and its file
follows the inventory: saved, loaded, extended, and rebuilt when it is of an older format."""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from inventory import Inventory
from inventory.match import index as match_index
from inventory.match import mih
from inventory.match.index import Hit, MatchIndex, index_path, open_index
from inventory.match.params import WINDOWS

NAMES = list(WINDOWS)


def reference(
    index: MatchIndex, queries: Sequence[tuple[int, Sequence[str]]], max_distance: int, k: int
) -> list[Hit]:
    """The k nearest within max_distance per query (ties at the k-th kept), by a plain scan:
    in the order of the query's windows, then of the rows."""
    hits: list[Hit] = []
    for qi, (code, windows) in enumerate(queries):
        found = []
        for name in windows:
            d = np.bitwise_count(index.codes[name] ^ np.uint64(code)).astype(np.int64)
            found.append((d, index.rows[name]))
        d_all = np.concatenate([d for d, _r in found]) if found else np.empty(0, dtype=np.int64)
        limit = max_distance
        if len(d_all) >= k:
            limit = min(limit, int(np.sort(d_all)[k - 1]))
        for d, rows in found:
            keep = d <= limit
            hits.extend(Hit(int(r), int(x), qi) for r, x in zip(rows[keep], d[keep], strict=True))
    return hits


def clustered(rng: np.random.Generator, n: int, centres: int, flips: int) -> np.ndarray:
    """``n`` codes near ``centres`` random centres (up to ``flips`` bits changed), a few
    repeated exactly: many equal distances, and buckets far from even."""
    centre = rng.integers(0, 2**63, size=centres, dtype=np.int64).view(np.uint64) * np.uint64(2)
    codes = centre[rng.integers(0, centres, size=n)]
    for _ in range(flips):
        bit = rng.integers(0, 64, size=n).astype(np.uint64)
        flip = rng.random(n) < 0.5
        codes = np.where(flip, codes ^ (np.uint64(1) << bit), codes)
    return codes


def build_index(per_window: list[np.ndarray]) -> MatchIndex:
    """An index of these codes (one array per window), rows numbered as a scan adds them."""
    sizes = [len(c) for c in per_window]
    codes = np.concatenate(per_window).astype(np.uint64)
    rows = np.arange(1, len(codes) + 1, dtype=np.int64)
    return MatchIndex(codes, rows, sizes, len(codes), "test")


@pytest.fixture(params=["auto", "buckets", "buckets-then-scan", "probe-then-scan", "scan"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each way the index can search: as it decides, always by buckets, by buckets until a
    round whose buckets cost too much, by the first rounds then the scan, always by the scan."""
    monkeypatch.setattr(mih, "MIN_CODES", 0)
    if request.param == "buckets":
        monkeypatch.setattr(mih, "worth_it", lambda *a: True)
        monkeypatch.setattr(mih, "CANDIDATE_COST", 0.0)
        monkeypatch.setattr(mih, "BUCKET_COST", 0.0)
    elif request.param == "probe-then-scan":
        monkeypatch.setattr(mih, "worth_it", lambda *a: False)
    elif request.param == "buckets-then-scan":
        monkeypatch.setattr(mih, "worth_it", lambda *a: True)
        monkeypatch.setattr(mih, "BUCKET_COST", 0.0)
        monkeypatch.setattr(mih, "CANDIDATE_COST", 50.0)
    elif request.param == "scan":
        monkeypatch.setattr(mih, "MIN_CODES", 1 << 62)
    yield request.param


def random_plans(rng: random.Random, count: int) -> list[Sequence[str]]:
    plans: list[Sequence[str]] = [tuple(NAMES), ("full",), tuple(NAMES[1:]), ("centre90", "full")]
    while len(plans) < count:
        plans.append(tuple(rng.sample(NAMES, rng.randint(1, len(NAMES)))))
    return plans


@pytest.mark.parametrize("data", ["uniform", "clustered"])
def test_search_is_exactly_a_brute_force_scan(way: str, data: str) -> None:
    rng = np.random.default_rng(5)
    pick = random.Random(5)
    if data == "uniform":
        per_window = [
            rng.integers(0, 2**63, size=3000, dtype=np.int64).view(np.uint64) * np.uint64(2) for _ in NAMES
        ]
    else:
        per_window = [clustered(rng, 3000, 40, 6) for _ in NAMES]
    index = build_index(per_window)
    every = np.concatenate(per_window)
    for plans in range(12):
        queries: list[tuple[int, Sequence[str]]] = []
        for windows in random_plans(pick, 5):
            code = int(every[pick.randrange(len(every))])  # near enrolled codes, and exact ones
            for _ in range(pick.choice([0, 0, 1, 3, 9, 30])):
                code ^= 1 << pick.randrange(64)
            queries.append((code, windows))
        for max_distance, k in [(30, 48), (6, 48), (64, 1), (12, 5), (20, 200), (0, 3)]:
            got = index.search(queries, max_distance, k)
            assert got == reference(index, queries, max_distance, k), (plans, max_distance, k)


def test_clustered_codes_fall_back_to_the_scan_and_stay_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    # Codes bunched into a few substring values make the buckets as big as the windows: the
    # search must notice from the bucket sizes and hand the query to the scan, even when the
    # model of uniform codes expected the buckets to be cheaper.
    monkeypatch.setattr(mih, "MIN_CODES", 0)
    monkeypatch.setattr(mih, "worth_it", lambda *a: True)
    rng = np.random.default_rng(9)
    per_window = [clustered(rng, 20_000, 3, 2) for _ in NAMES]
    index = build_index(per_window)
    handed: list[list[bool]] = []
    search = mih.search

    def watched(*args: object) -> tuple[list[object], list[int]]:
        found, limits = search(*args)  # type: ignore[arg-type]
        handed.append([f is None for f in found])
        return found, limits  # type: ignore[return-value]

    monkeypatch.setattr(mih, "search", watched)
    far = int(rng.integers(0, 2**63)) | 1
    queries = [(far, tuple(NAMES)), (int(per_window[0][0]), ("full",))]
    assert index.search(queries, 30, 48) == reference(index, queries, 30, 48)
    assert handed and all(handed[0])


def test_saved_index_loads_as_it_was_and_a_damaged_one_is_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    index = build_index([clustered(rng, 500 + 100 * w, 30, 4) for w in range(len(NAMES))])
    path = tmp_path / "inventory.match-index"
    index.save(path)
    loaded = MatchIndex.load(path)
    assert loaded is not None and len(loaded) == len(index)
    for name in NAMES:
        assert np.array_equal(loaded.codes[name], index.codes[name])
        assert np.array_equal(loaded.rows[name], index.rows[name])
    assert np.array_equal(loaded.perms, index.perms) and np.array_equal(loaded.offsets, index.offsets)
    queries = [(int(index.codes["full"][7]) ^ 0b1011, tuple(NAMES))]
    assert loaded.search(queries, 30, 10) == index.search(queries, 30, 10)
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, renamed
    # A position beyond the codes, a cut file: not used.
    data = bytearray(path.read_bytes())
    data[-4:] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    assert MatchIndex.load(path) is None
    path.write_bytes(bytes(data[:-100]))
    assert MatchIndex.load(path) is None


def fill(inv: Inventory, rng: np.random.Generator, photos: int, first: int) -> None:
    with inv.transaction() as conn:
        conn.executemany(
            "INSERT INTO match_hashes (sha256, name, phash) VALUES (?, ?, ?)",
            [
                (f"{first + i:064x}", name, int(rng.integers(-(2**63), 2**63 - 1)))
                for i in range(photos)
                for name in NAMES
            ],
        )


def old_format_file(path: Path, index: MatchIndex) -> None:
    """The index as format version 1 wrote it: per window its codes, then its rows."""
    header = json.dumps(
        {
            "version": 1,
            "last_id": index.last_id,
            "db_created": index.db_created,
            "windows": {n: len(index.codes[n]) for n in NAMES},
        }
    ).encode()
    head = match_index.MAGIC + struct.pack("<I", len(header)) + header
    head += b"\0" * (-len(head) % 8)
    body = b"".join(index.codes[n].tobytes() + index.rows[n].tobytes() for n in NAMES)
    path.write_bytes(head + body)


def test_old_format_is_rebuilt_and_extending_keeps_results_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    db = tmp_path / "inventory.sqlite"
    with Inventory.open(db) as inv:
        inv.conn.execute("PRAGMA foreign_keys = OFF")
        fill(inv, rng, 400, 0)
        first = open_index(inv, db)
        path = index_path(db)
        old_format_file(path, first)
        match_index._LOADED.clear()
        assert MatchIndex.load(path) is None  # another format version
        rebuilt = open_index(inv, db)
        assert len(rebuilt) == 7 * 400 and MatchIndex.load(path) is not None
        # Rows added by a later scan: appended, the tables rebuilt, the file rewritten.
        fill(inv, rng, 300, 400)
        extended = open_index(inv, db)
        assert len(extended) == 7 * 700 and extended.last_id == 7 * 700
        fresh = MatchIndex.empty(extended.db_created)
        fresh.extend(inv)
        for name in NAMES:
            assert np.array_equal(extended.codes[name], fresh.codes[name])
            assert np.array_equal(extended.rows[name], fresh.rows[name])
        assert np.array_equal(extended.perms, fresh.perms) and np.array_equal(extended.offsets, fresh.offsets)
        match_index._LOADED.clear()
        again = open_index(inv, db)
        assert len(again) == 7 * 700
        pick = random.Random(2)
        for _ in range(20):
            code = int(again.codes["full"][pick.randrange(700)]) ^ (1 << pick.randrange(64))
            queries = [(code, tuple(NAMES)), (code ^ 0xFFFF, ("full", "centre90"))]
            assert again.search(queries, 30, 8) == reference(again, queries, 30, 8)
