"""The hashes matching is built on: pHashes of crop windows of a photo (enrolled at scan time)
and of the variants of a suspect (as it is, border-trimmed, mirrored).

Every hash here is a 64-bit imagehash pHash with the parameters of ``inventory.match.phash``, made
from the same small, upright greyscale picture the scan hashes, so the ``full`` window hash is
the record's ``phash``. Windows are fractions of that picture: ``(left, top, right, bottom)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inventory.match.phash import HASH_SIZE, HIGHFREQ_FACTOR

# The windows enrolled for every photo. A crop of the original that keeps one of them (a
# crop of 10% to about 60% of the area) hashes close to that window's hash.
WINDOWS: dict[str, tuple[float, float, float, float]] = {
    "full": (0.0, 0.0, 1.0, 1.0),
    "centre90": (0.05, 0.05, 0.95, 0.95),
    "centre75": (0.125, 0.125, 0.875, 0.875),
    "topleft75": (0.0, 0.0, 0.75, 0.75),
    "topright75": (0.25, 0.0, 1.0, 0.75),
    "bottomleft75": (0.0, 0.25, 0.75, 1.0),
    "bottomright75": (0.25, 0.25, 1.0, 1.0),
}
WINDOW_IDS = {name: i for i, name in enumerate(WINDOWS)}

# Border trimming: a row or column is part of a border when its pixels barely vary.
TRIM_FLAT_STD = 3.0
TRIM_MIN_GAIN = 0.02


def phash_int(image: Any) -> int:
    """The pHash of a PIL image as an unsigned 64-bit integer."""
    import imagehash

    return int(str(imagehash.phash(image, hash_size=HASH_SIZE, highfreq_factor=HIGHFREQ_FACTOR)), 16)


def variant_phash(image: Any, mirror: bool = False) -> str:
    """The pHash (hex) of an upright greyscale picture of any size, reduced as a scan reduces
    it, mirrored left to right first if asked."""
    from PIL import Image

    from inventory.media.image import hash_source

    if mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return to_hex(phash_int(hash_source(image, 1)))


def to_hex(code: int) -> str:
    return f"{code:016x}"


def window_hashes(small: Any) -> dict[str, str]:
    """The pHash (hex) of every window of ``small`` (the upright greyscale hash source)."""
    width, height = small.size
    out: dict[str, str] = {}
    for name, (left, top, right, bottom) in WINDOWS.items():
        if name == "full":
            part = small
        else:
            box = (round(left * width), round(top * height), round(right * width), round(bottom * height))
            part = small.crop(box)
        out[name] = to_hex(phash_int(part))
    return out


def trim_box(grey: Any) -> tuple[int, int, int, int] | None:
    """The box of a picture inside flat borders (a screenshot's bars, a letterbox, a frame),
    or None when there is no border worth trimming.

    The picture is the longest run of rows (then of columns within it) whose pixels vary;
    flat rows and the text lines of a status bar around it are left out."""
    a = np.asarray(grey, dtype=np.float32)
    if a.ndim != 2 or min(a.shape) < 16:
        return None
    top, bottom = _longest_run(a.std(axis=1) > TRIM_FLAT_STD)
    if bottom - top < 8:
        return None
    left, right = _longest_run(a[top:bottom].std(axis=0) > TRIM_FLAT_STD)
    if right - left < 8:
        return None
    height, width = a.shape
    if (bottom - top) * (right - left) > (1 - TRIM_MIN_GAIN) * width * height:
        return None
    return left, top, right, bottom


def _longest_run(mask: Any) -> tuple[int, int]:
    best = (0, 0)
    start = None
    for i, v in enumerate([*mask.tolist(), False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best
