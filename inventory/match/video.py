"""Matching a suspect clip against the enrolled videos by aligning frame pHashes.

Every enrolled video has its frames hashed at ``SEQUENCE_RATE`` per second through its whole
length (``frame_sequences``). A suspect is hashed at ``SUSPECT_RATE`` (a whole multiple of it),
so one of its phases lines up with the original's sampling to within an eighth of a second. For
each video, each phase and each offset (the clip inside the original, or overlapping it: a
repost may add an intro or run past the original's end), the clip's hashes are compared with the
original's at that offset; the best alignment gives the time range of the original the clip
shows. Frames with almost no picture (a black or flat frame hashes to nearly all zeros) are left
out of the comparison, so two videos that both fade to black do not match on that."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inventory.match.params import SEQUENCE_RATE

if TYPE_CHECKING:
    from inventory.store.inventory import Inventory

SUSPECT_RATE = 4 * SEQUENCE_RATE
# A frame pair within this many bits counts as the same picture.
FRAME_NEAR = 12
# A clip matches when at least this share of its aligned (informative) frames is near, and at
# least MIN_FRAMES of them (see docs/design.md, "Matching").
ALIGNED_RATIO = 0.6
MIN_FRAMES = 4
# A pHash with fewer than this many bits set, or more than 64 minus it, is of a flat frame.
FLAT_BITS = 16


@dataclass(frozen=True)
class Alignment:
    sha256: str
    start_s: float  # the original's time range the clip shows
    end_s: float
    clip_start_s: float  # where that range is in the clip
    clip_end_s: float
    ratio: float  # share of aligned frames within FRAME_NEAR bits
    mean_distance: float
    frames: int  # aligned frames within FRAME_NEAR bits


def codes(hashes: list[str]) -> np.ndarray:
    return np.array([int(h, 16) for h in hashes], dtype=np.uint64)


def informative(c: np.ndarray) -> np.ndarray:
    bits = np.bitwise_count(c)
    flags: np.ndarray = (bits >= FLAT_BITS) & (bits <= 64 - FLAT_BITS)
    return flags


@dataclass(frozen=True)
class Aligned:
    """One alignment of a clip against one original."""

    offset: float  # original time minus clip time, in seconds
    near: int  # aligned frames within FRAME_NEAR bits
    ratio: float  # their share of the aligned informative frames
    mean: float  # mean distance of the aligned informative frames
    clip_start: float  # the part of the clip that shows the original, in clip seconds
    clip_end: float


def align(clip: np.ndarray, original: np.ndarray, clip_seconds: float) -> Aligned | None:
    """The best alignment of ``clip`` (sampled at SUSPECT_RATE) against ``original`` (at
    SEQUENCE_RATE), or None without any overlap of informative frames."""
    from numpy.lib.stride_tricks import as_strided

    step = round(SUSPECT_RATE / SEQUENCE_RATE)
    half = 0.5 / SEQUENCE_RATE
    m = original.shape[0]
    dist = np.bitwise_count(clip[:, None] ^ original[None, :]).astype(np.int16)
    dist[~informative(clip), :] = -1
    dist[:, ~informative(original)] = -1
    best: Aligned | None = None
    for phase in range(step):
        rows = dist[phase::step]
        n = rows.shape[0]
        if n == 0:
            continue
        # Pad with n - 1 empty columns each side; diag[j, k] = padded[k, k + j] is the clip
        # aligned with its first frame on original frame j - (n - 1).
        padded = np.full((n, m + 2 * (n - 1)), -1, dtype=np.int16)
        padded[:, n - 1 : n - 1 + m] = rows
        s0, s1 = padded.strides
        diag = as_strided(padded, shape=(m + n - 1, n), strides=(s1, s0 + s1))
        valid = diag >= 0
        compared = valid.sum(axis=1)
        close = valid & (diag <= FRAME_NEAR)
        near = close.sum(axis=1)
        ratios = near / np.maximum(compared, 1)
        means = np.where(valid, diag, 0).sum(axis=1) / np.maximum(compared, 1)
        j = int(np.lexsort((means, -ratios, -near))[0])
        if compared[j] == 0 or near[j] == 0:
            continue
        ks = np.flatnonzero(close[j])
        first, last = int(ks[0]), int(ks[-1])
        t_first = phase / SUSPECT_RATE + first / SEQUENCE_RATE
        t_last = phase / SUSPECT_RATE + last / SEQUENCE_RATE
        here = Aligned(
            offset=(j - (n - 1)) / SEQUENCE_RATE - phase / SUSPECT_RATE,
            near=int(near[j]),
            ratio=float(ratios[j]),
            mean=float(means[j]),
            clip_start=0.0 if first == 0 else max(0.0, t_first - half),
            clip_end=clip_seconds if last == n - 1 else min(clip_seconds, t_last + half),
        )
        if best is None or (here.near, here.ratio, -here.mean) > (best.near, best.ratio, -best.mean):
            best = here
    return best


def best_alignment(inv: Inventory, clip_hashes: list[str], clip_seconds: float) -> Alignment | None:
    """The enrolled video the clip aligns with best, or None when none aligns well enough."""
    if len(clip_hashes) < MIN_FRAMES:
        return None
    clip = codes(clip_hashes)
    found: Alignment | None = None
    for sha, _rate, hashes, duration_ms in inv.frame_sequences():
        original = codes(hashes)
        if original.size == 0:
            continue
        got = align(clip, original, clip_seconds)
        if got is None or got.near < MIN_FRAMES or got.ratio < ALIGNED_RATIO:
            continue
        if found is None or (got.near, got.ratio, -got.mean) > (
            found.frames,
            found.ratio,
            -found.mean_distance,
        ):
            length = duration_ms / 1000 if duration_ms else original.size / SEQUENCE_RATE
            start = max(0.0, got.clip_start + got.offset)
            end = min(length, got.clip_end + got.offset)
            found = Alignment(
                sha, round(start, 2), round(end, 2), round(start - got.offset, 2), round(end - got.offset, 2),
                got.ratio, got.mean, got.near,
            )  # fmt: skip
    return found
