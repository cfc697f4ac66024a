"""Perceptual hashes: how a photo or a video frame becomes 64-bit codes, and the record of how.

Every hash is an imagehash pHash (photos also get a dHash) with the parameters of
``inventory.match.params``, made from a small, upright greyscale picture (``hash_source``): a
JPEG drafted down in the DCT domain (``draft_source``), any other picture reduced to at least
64 px on its short side, the EXIF orientation applied. Matching adds the pHashes of crop windows
of that picture (``window_hashes``; the ``full`` window's is the record's ``phash``) and of the
variants of a suspect (as it is, border-trimmed, mirrored: ``variant_phash``, ``trim_box``).
A video's hashes are pHashes of ffmpeg's 64x64 grey frames (``frame_hashes``).

imagehash values have drifted across Pillow releases, so every record stores the library
versions and parameters that produced its hashes (``hash_params_for``), and tests pin the hashes
of fixture files so an upgrade can never silently change them.

The heavy libraries (Pillow, imagehash, numpy) are imported on first use.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from inventory.match.params import (
    FRAME_SIDE,
    HASH_SIZE,
    HASH_SOURCE_PIXELS,
    HIGHFREQ_FACTOR,
    SCHEME,
    SEQUENCE_RATE,
    WINDOWS,
)
from inventory.media.orientation import upright

if TYPE_CHECKING:
    from PIL import Image

# Border trimming: a row or column is part of a border when its pixels barely vary.
TRIM_FLAT_STD = 3.0
TRIM_MIN_GAIN = 0.02


# ---------------------------------------------------------------------------------------------
# The picture that is hashed


def hash_source(im: Image.Image, orientation: int) -> Image.Image:
    """A small greyscale copy of a decoded picture, upright, for hashing. ``im`` is only read."""
    small = im.convert("L") if im.mode != "L" else im
    # Bring every picture to the same working size: at least 64 px on the short side, the size
    # JPEG's DCT scaling gives, so a PNG and a JPEG of one photo hash alike.
    factor = min(small.size) // HASH_SOURCE_PIXELS
    if factor >= 2:
        small = small.reduce(factor)
    return upright(small, orientation)


def draft_source(source: bytes | str, orientation: int) -> Image.Image:
    """A JPEG's hash source, from its bytes (or its path): greyscale, decoded straight to a
    reduced scale in the DCT domain (``Image.draft``), upright. A full decode reduced afterwards
    does not give these pixels bit for bit: every stored JPEG hash was made this way."""
    from PIL import Image

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
        im.draft("L", (HASH_SOURCE_PIXELS, HASH_SOURCE_PIXELS))
        im.load()
        return hash_source(im, orientation)


# ---------------------------------------------------------------------------------------------
# Hashes


def perceptual_hashes(image: Image.Image) -> tuple[str, str]:
    """(pHash, dHash) of a PIL image, each 64 bits as 16 hex digits."""
    import imagehash

    p = imagehash.phash(image, hash_size=HASH_SIZE, highfreq_factor=HIGHFREQ_FACTOR)
    d = imagehash.dhash(image, hash_size=HASH_SIZE)
    return str(p), str(d)


def phash_int(image: Image.Image) -> int:
    """The pHash of a PIL image as an unsigned 64-bit integer."""
    import imagehash

    return int(str(imagehash.phash(image, hash_size=HASH_SIZE, highfreq_factor=HIGHFREQ_FACTOR)), 16)


def to_hex(code: int) -> str:
    return f"{code:016x}"


def window_hashes(small: Image.Image) -> dict[str, str]:
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


def frame_hashes(frames: Iterable[bytes], side: int = FRAME_SIDE) -> list[str]:
    """The pHash (hex) of each raw ``side`` x ``side`` greyscale frame."""
    from PIL import Image

    return [perceptual_hashes(Image.frombytes("L", (side, side), f))[0] for f in frames]


def variant_phash(image: Image.Image, mirror: bool = False) -> str:
    """The pHash (hex) of an upright greyscale picture of any size, reduced as a scan reduces
    it, mirrored left to right first if asked."""
    from PIL import Image

    if mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return to_hex(phash_int(hash_source(image, 1)))


def hamming(a: str, b: str) -> int:
    """Hamming distance between two hex hashes of the same length."""
    if len(a) != len(b):
        raise ValueError(f"hashes of different sizes: {a!r} and {b!r}")
    return (int(a, 16) ^ int(b, 16)).bit_count()


@cache
def hash_params_for(kind: str) -> str:
    """Canonical JSON naming the scheme, the parameters and the library versions."""
    import imagehash
    import PIL

    params: dict[str, Any] = {
        "scheme": SCHEME,
        "phash": {"hash_size": HASH_SIZE, "highfreq_factor": HIGHFREQ_FACTOR},
        "dhash": {"hash_size": HASH_SIZE},
        "imagehash": imagehash.__version__,
        "pillow": PIL.__version__,
    }
    if kind == "video":
        from inventory.media.ffmpeg import ffmpeg_version

        params["source"] = "frames at evenly spaced points, each scaled to 64x64 greyscale by ffmpeg"
        params["ffmpeg"] = ffmpeg_version()
        params["sequence"] = {"rate": SEQUENCE_RATE, "side": FRAME_SIDE}
    else:
        params["source"] = "greyscale, EXIF orientation applied, short side reduced to 64-127 px"
        params["windows"] = {name: list(box) for name, box in WINDOWS.items()}
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# Borders


def trim_box(grey: Image.Image) -> tuple[int, int, int, int] | None:
    """The box of a picture inside flat borders (a screenshot's bars, a letterbox, a frame),
    or None when there is no border worth trimming.

    The picture is the longest run of rows (then of columns within it) whose pixels vary;
    flat rows and the text lines of a status bar around it are left out."""
    import numpy as np

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
