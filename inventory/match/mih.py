"""Exact multi-index hashing (Norouzi, Punjani and Fleet, "Fast Exact Search in Hamming Space
with Multi-Index Hashing") over the window codes of the match index.

Each 64-bit code is cut into four 16-bit substrings (bits 0-15, 16-31, 32-47, 48-63). For each
substring, the index keeps every code in the order of that substring's value (``perms``, and
the codes themselves in that order, ``ordered``), and within one value in the order of the
windows, so that a bucket (one substring value) of a run of consecutive windows is one run of
memory; ``offsets`` says where each (value, window) run starts.

By pigeonhole, a code within ``4r + 3`` bits of a query has some substring within ``r`` bits of
the query's. A search visits the buckets of the substring values at radius 0, 1, 2, ... from
the query's, substring by substring; after radius ``r`` of substrings ``0..j``, every code
within ``4r + j`` bits has been seen. It stops as soon as that covers the query's limit (its
``max_distance``, or the k-th smallest distance found when lower), so it returns exactly what
a full scan returns.

A query whose buckets would cost about as much as a scan of its windows (a small inventory, a
far k-th nearest, codes bunched in a few substring values) is handed back to the scan
(``inventory.match.index``) with the limit found so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb
from typing import Any

import numpy as np

SUBSTRINGS = 4
SUBSTRING_BITS = 16
BUCKETS = 1 << SUBSTRING_BITS
# The cost of the buckets against a scan, in codes a scan reads (measured with
# bench/match_index.py on 1,000,000 photos): reading a code through a bucket costs about
# CANDIDATE_COST codes scanned, and visiting a bucket (one jump in memory) BUCKET_COST.
CANDIDATE_COST = 6.0
BUCKET_COST = 150.0
# Below this many codes in a query's windows a scan is cheaper than the rounds' overhead.
MIN_CODES = 1 << 17
# Every query first searches this many rounds (radius 0 and 1: few buckets); then only a query
# whose further rounds are expected to cost less than a scan goes on. Near copies bunched
# around the query (a creator's similar shots) are often all found by then.
PROBE_ROUNDS = 2

# Every 16-bit value, grouped by how many bits it has set: MASKS[r] are the values at Hamming
# distance r from 0, so ``s ^ MASKS[r]`` are the substring values at distance r from ``s``.
_VALUES = np.arange(BUCKETS, dtype=np.int64)
_BY_WEIGHT = _VALUES[np.argsort(np.bitwise_count(_VALUES), kind="stable")]
MASKS: list[Any] = np.split(_BY_WEIGHT, np.cumsum([comb(SUBSTRING_BITS, r) for r in range(SUBSTRING_BITS)]))
# The rounds of a search: (radius, substrings). Every substring at once for the small radii,
# whose buckets are few (fewer rounds, less overhead); one substring at a time from radius 3,
# so that a search stops as soon as the distance it has covered reaches the query's limit.
ROUNDS: list[tuple[int, tuple[int, ...]]] = [(r, tuple(range(SUBSTRINGS))) for r in range(3)] + [
    (r, (j,)) for r in range(3, SUBSTRING_BITS + 1) for j in range(SUBSTRINGS)
]
# The probability that a uniform random 64-bit code is within t bits of a given one: the
# model that predicts how far a query must search before it has its k nearest.
_WITHIN = np.cumsum([comb(64, t) / 2.0**64 for t in range(65)])


def substring(codes: Any, j: int) -> Any:
    """Substring ``j`` (bits 16j to 16j + 15) of each uint64 code, as uint16."""
    return ((codes >> np.uint64(SUBSTRING_BITS * j)) & np.uint64(BUCKETS - 1)).astype(np.uint16)


def _counting(n: int) -> Any:
    """0, 1, ..., n - 1 (int64), from a buffer kept between calls."""
    global _COUNTING
    if len(_COUNTING) < n:
        _COUNTING = np.arange(max(n, 2 * len(_COUNTING)), dtype=np.int64)
    return _COUNTING[:n]


_COUNTING = np.arange(1 << 16, dtype=np.int64)


def position_dtype(total: int) -> Any:
    """The type of a code's position in the index: uint32 below 2**32 codes, else uint64."""
    return np.dtype("<u4") if total < 1 << 32 else np.dtype("<u8")


def build(codes: Any, bounds: Any) -> tuple[Any, Any, Any]:
    """The tables for ``codes`` (uint64, the windows one after the other: window ``w`` is
    ``codes[bounds[w]:bounds[w + 1]]``).

    ``perms`` (SUBSTRINGS x n): positions in ``codes``, ordered by substring j's value, then
    by position (so by window); ``offsets`` (int64, SUBSTRINGS x (BUCKETS x windows + 1)):
    the codes of value ``v`` in windows ``a`` to ``b - 1`` for substring ``j`` are
    ``perms.ravel()[offsets[j, v * windows + a] : offsets[j, v * windows + b]]``; ``ordered``:
    the codes in the order of ``perms`` (``codes[perms]``), so that a bucket is read in one
    run."""
    n = len(codes)
    windows = len(bounds) - 1
    window_of = np.repeat(np.arange(windows, dtype=np.int64), np.diff(bounds))
    perms = np.empty((SUBSTRINGS, n), dtype=position_dtype(n))
    offsets = np.empty((SUBSTRINGS, BUCKETS * windows + 1), dtype=np.int64)
    for j in range(SUBSTRINGS):
        key = substring(codes, j)
        # A stable sort of 16-bit keys is a radix sort in numpy.
        perms[j] = np.argsort(key, kind="stable")
        runs = np.bincount(key.astype(np.int64) * windows + window_of, minlength=BUCKETS * windows)
        offsets[j, 0] = j * n
        np.cumsum(runs, out=offsets[j, 1:])
        offsets[j, 1:] += j * n
    return perms, offsets, codes[perms]


def check(perms: Any, offsets: Any, bounds: Any) -> bool:
    """Whether tables read from a file agree with ``bounds`` (a damaged file does not)."""
    n = int(bounds[-1])
    windows = len(bounds) - 1
    if perms.shape != (SUBSTRINGS, n) or offsets.shape != (SUBSTRINGS, BUCKETS * windows + 1):
        return False
    base = np.arange(SUBSTRINGS, dtype=np.int64) * n
    if not (
        np.array_equal(offsets[:, 0], base)
        and np.array_equal(offsets[:, -1], base + n)
        and bool((np.diff(offsets, axis=1) >= 0).all())
    ):
        return False
    return n == 0 or int(perms.max()) < n


def worth_it(total: int, runs: int, k: int, limit: int, done: int) -> bool:
    """Whether the rounds after the first ``done`` are expected to cost less than a scan, for a
    query over ``total`` codes in ``runs`` runs of windows whose limit is ``limit`` so far. Codes
    are taken to be spread like uniform random ones: the search is expected to reach the
    distance at which k codes are expected, or the limit when that is nearer."""
    reach = min(limit, int(np.searchsorted(_WITHIN * total, k)))
    buckets = 0
    for i in range(done, len(ROUNDS)):
        if i and bound_after(i - 1) >= reach:
            break
        r, js = ROUNDS[i]
        buckets += len(js) * comb(SUBSTRING_BITS, r)
    return buckets * (runs * BUCKET_COST + CANDIDATE_COST * total / BUCKETS) < total


def bound_after(i: int) -> int:
    """The distance within which every code has been seen after round ``i``."""
    r, js = ROUNDS[i]
    return SUBSTRINGS * r + js[-1]


def _intervals(windows: list[int]) -> list[tuple[int, int]]:
    """The sorted window ids as runs of consecutive ids: [(first, last + 1), ...]."""
    runs: list[tuple[int, int]] = []
    for w in sorted(windows):
        if runs and runs[-1][1] == w:
            runs[-1] = (runs[-1][0], w + 1)
        else:
            runs.append((w, w + 1))
    return runs


@dataclass
class _Query:
    """The search state of one query: its limit (no code among its k nearest is further),
    what the buckets may cost before it goes to the scan and what they cost so far, how many
    codes found are within the limit, how many were found at each distance, and what was found:
    runs of (window ids, distances, positions)."""

    limit: int
    budget: float
    spent: float = 0.0
    within: int = 0
    tally: Any = None
    found: list[tuple[Any, Any, Any]] = field(default_factory=list)


def search(
    ordered: Any,
    perms: Any,
    offsets: Any,
    bounds: Any,
    queries: list[tuple[int, list[int]]],
    max_distance: int,
    k: int,
) -> tuple[list[tuple[Any, Any, Any] | None], list[int]]:
    """Search each query (its code and the ids of its windows, distinct) through the buckets.

    Returns, per query, (window ids, distances, positions in the index) of its k nearest within
    ``max_distance`` (ties at the k-th distance kept), in no particular order; or None when the
    query is left to the scan, whose limit to start from is then in the second list."""
    windows = len(bounds) - 1
    limit = min(max_distance, 64)
    state: list[_Query] = []
    pair_q: list[int] = []
    pair_lo: list[int] = []
    pair_hi: list[int] = []
    pair_code: list[int] = []
    sizes: list[int] = []
    runs: list[int] = []
    for qi, (code, ids) in enumerate(queries):
        sizes.append(sum(int(bounds[w + 1] - bounds[w]) for w in ids))
        runs.append(len(_intervals(ids)))
        state.append(_Query(limit, float(sizes[-1]), tally=np.zeros(max(limit + 1, 0), dtype=np.int64)))
        for lo, hi in _intervals(ids):
            pair_q.append(qi)
            pair_lo.append(lo)
            pair_hi.append(hi)
            pair_code.append(code)
    pq = np.array(pair_q, dtype=np.int64)
    plo = np.array(pair_lo, dtype=np.int64)
    phi = np.array(pair_hi, dtype=np.int64)
    pc = np.array(pair_code, dtype=np.uint64)
    subs = [substring(pc, j).astype(np.int64) for j in range(SUBSTRINGS)]
    flat_perms = perms.reshape(-1)
    flat_ordered = ordered.reshape(-1)
    left: set[int] = set()  # handed to the scan
    active = {qi for qi, st in enumerate(state) if st.limit >= 0}
    flat_offsets = offsets.reshape(-1)
    for i, (r, js) in enumerate(ROUNDS):
        if i == PROBE_ROUNDS:
            later = [qi for qi in active if not worth_it(sizes[qi], runs[qi], k, state[qi].limit, i)]
            active.difference_update(later)
            left.update(later)
        if not active:
            break
        sel = np.isin(pq, list(active)) if len(active) < len(state) else slice(None)
        q_, c_ = pq[sel], pc[sel]
        # The buckets of this round for every (query, run of windows) still searching: for
        # each substring of the round, the values at distance r from the query's.
        at = np.concatenate(
            [(subs[j][sel][:, None] ^ MASKS[r][None, :]) * windows + j * (BUCKETS * windows + 1) for j in js],
            axis=1,
        )
        starts = flat_offsets[at + plo[sel][:, None]]
        lengths = flat_offsets[at + phi[sel][:, None]] - starts
        per_pair = lengths.sum(axis=1)
        cost = np.bincount(
            q_, weights=per_pair * CANDIDATE_COST + at.shape[1] * BUCKET_COST, minlength=len(state)
        )
        # A query whose buckets would cost more than a scan of its windows goes to it.
        over = [qi for qi in active if state[qi].spent + cost[qi] > state[qi].budget]
        if over:
            active.difference_update(over)
            left.update(over)
            keep = ~np.isin(q_, over)
            q_, c_ = q_[keep], c_[keep]
            starts, lengths, per_pair = starts[keep], lengths[keep], per_pair[keep]
        for qi in active:
            state[qi].spent += float(cost[qi])
        total = int(per_pair.sum())
        if total:
            lens = lengths.ravel()
            ends = np.cumsum(lens)
            at_codes = np.repeat(starts.ravel() - (ends - lens), lens)
            at_codes += _counting(total)
            x = flat_ordered[at_codes]
            pair_ends = np.cumsum(per_pair)
            for p, code in enumerate(c_.tolist()):
                x[pair_ends[p] - per_pair[p] : pair_ends[p]] ^= np.uint64(code)
            d = np.bitwise_count(x)
            widest = max(state[qi].limit for qi in active)
            near = (d <= widest).nonzero()[0]
            if len(near):
                bucket = np.searchsorted(ends, near, side="right")
                pair, column = np.divmod(bucket, at.shape[1])
                sub_of = np.array(js, dtype=np.int64)[column // MASKS[r].size]
                found = _canonical(state, d[near], x[near], q_[pair], r, sub_of)
                if len(found):
                    pos = flat_perms[at_codes[near[found]]].astype(np.int64)
                    ids = np.searchsorted(bounds, pos, side="right") - 1
                    _take(state, d[near[found]], pos, q_[pair[found]], ids, k)
        active = {qi for qi in active if state[qi].limit > bound_after(i)}
    results: list[tuple[Any, Any, Any] | None] = []
    limits: list[int] = []
    for qi, st in enumerate(state):
        limits.append(st.limit)
        if qi in left:
            results.append(None)
            continue
        found_in = np.concatenate([np.empty(0, dtype=np.int64), *(run[0] for run in st.found)])
        dist = np.concatenate([np.empty(0, dtype=np.uint8), *(run[1] for run in st.found)])
        where = np.concatenate([np.empty(0, dtype=np.int64), *(run[2] for run in st.found)])
        keep = dist <= st.limit
        results.append((found_in[keep], dist[keep], where[keep]))
    return results, limits


def _canonical(state: list[_Query], d: Any, x: Any, q: Any, r: int, j: Any) -> Any:
    """Which candidates of the round (radius ``r``) to count: those within their query's
    limit (their distance ``d``, code XOR the query ``x``, query, and the substring ``j`` whose
    bucket held them), each code once: from the bucket of its nearest substring (the first
    such, on ties), the first that reaches it."""
    limits = np.array([st.limit for st in state], dtype=np.int64)
    ok = d <= limits[q]
    per_sub = x.astype("<u8", copy=False).view("<u2").reshape(-1, SUBSTRINGS)
    for other in range(SUBSTRINGS):
        dist = np.bitwise_count(per_sub[:, other])
        ok &= (dist > r) | ((other >= j) & (dist == r))
    return ok.nonzero()[0]


def _take(state: list[_Query], d: Any, pos: Any, q: Any, w: Any, k: int) -> None:
    """Record codes found (their distance, position, query, window id) and lower the limits."""
    for qi in np.flatnonzero(np.bincount(q)).tolist():
        mine = q == qi
        st = state[qi]
        dq = d[mine]
        st.found.append((w[mine], dq, pos[mine]))
        st.tally += np.bincount(dq, minlength=len(st.tally))
        st.limit, st.within = lower_limit(st.tally, st.within + len(dq), st.limit, k)


def lower_limit(tally: Any, within: int, limit: int, k: int) -> tuple[int, int]:
    """The limit lowered to the k-th smallest distance found (ties at it are kept), and how
    many found codes are within it: ``tally[d]`` codes were found at distance d, ``within`` of
    them within ``limit``."""
    while limit >= 0 and within - int(tally[limit]) >= k:
        within -= int(tally[limit])
        limit -= 1
    return limit, within
