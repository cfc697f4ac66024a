"""Matching a suspect clip against the enrolled videos by aligning frame pHashes.

Every enrolled video has its frames hashed at ``SEQUENCE_RATE`` per second through its whole
length (``frame_sequences``). A suspect is hashed at ``SUSPECT_RATE`` (a whole multiple of it),
so one of its phases lines up with the original's sampling to within an eighth of a second. For
each video, each phase and each offset, the clip's hashes are compared with the original's at
that offset; the best alignment gives the time range of the original the clip comes from."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import numpy as np

from inventory.video import SEQUENCE_RATE

SUSPECT_RATE = 4 * SEQUENCE_RATE
# A frame pair within this many bits counts as the same picture.
FRAME_NEAR = 12
# A clip matches when at least this share of its aligned frames is near, over at least
# MIN_FRAMES frames (see docs/design.md, "Matching").
ALIGNED_RATIO = 0.6
MIN_FRAMES = 4


@dataclass(frozen=True)
class Alignment:
    sha256: str
    start_s: float
    end_s: float
    ratio: float  # share of aligned frames within FRAME_NEAR bits
    mean_distance: float
    frames: int


def codes(hashes: list[str]) -> np.ndarray:
    return np.array([int(h, 16) for h in hashes], dtype=np.uint64)


def align(clip: np.ndarray, original: np.ndarray) -> tuple[float, float, float, int]:
    """(start in the original in seconds, near ratio, mean distance, frames compared) of the
    best alignment of ``clip`` (sampled at SUSPECT_RATE) inside ``original`` (at
    SEQUENCE_RATE)."""
    from numpy.lib.stride_tricks import as_strided

    step = round(SUSPECT_RATE / SEQUENCE_RATE)
    dist = np.bitwise_count(clip[:, None] ^ original[None, :]).astype(np.int32)
    m = original.shape[0]
    best = (0.0, -1.0, 64.0, 0)
    for phase in range(step):
        rows = dist[phase::step]
        # The whole clip inside the original, or all but its last frame (a clip cut at the
        # very end may reach one sample past the original's last).
        for n in sorted({min(rows.shape[0], m), rows.shape[0] - 1}, reverse=True):
            if n < 1 or n > m:
                continue
            r = np.ascontiguousarray(rows[:n])
            # diag[j, k] = r[k, k + j]: each row is the clip aligned at offset j.
            diag = as_strided(r, shape=(m - n + 1, n), strides=(r.strides[1], r.strides[0] + r.strides[1]))
            ratios = (diag <= FRAME_NEAR).mean(axis=1)
            means = diag.mean(axis=1)
            j = int(np.lexsort((means, -ratios))[0])
            if (ratios[j], -means[j]) > (best[1], -best[2]):
                best = (j / SEQUENCE_RATE - phase / SUSPECT_RATE, float(ratios[j]), float(means[j]), n)
    return best


def best_alignment(conn: sqlite3.Connection, clip_hashes: list[str], clip_seconds: float) -> Alignment | None:
    """The enrolled video the clip aligns with best, or None when none aligns well enough."""
    if len(clip_hashes) < MIN_FRAMES:
        return None
    clip = codes(clip_hashes)
    found: Alignment | None = None
    for sha, text in conn.execute("SELECT sha256, hashes FROM frame_sequences"):
        original = codes(json.loads(text))
        if original.size == 0:
            continue
        start, ratio, mean, frames = align(clip, original)
        if frames < MIN_FRAMES or ratio < ALIGNED_RATIO:
            continue
        if found is None or (ratio, -mean) > (found.ratio, -found.mean_distance):
            start = max(0.0, start)
            found = Alignment(sha, round(start, 2), round(start + clip_seconds, 2), ratio, mean, frames)
    return found
