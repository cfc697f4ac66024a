"""Perceptual hashes, and the record of how they were made.

imagehash values have drifted across Pillow releases, so every record stores the library versions
and parameters that produced its hashes (``hash_params``), and tests pin the hashes of fixture
files so an upgrade can never silently change them.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

HASH_SIZE = 8
HIGHFREQ_FACTOR = 4
SCHEME = "keepmark-hash-2"


def perceptual_hashes(image: Any) -> tuple[str, str]:
    """(pHash, dHash) of a PIL image, each 64 bits as 16 hex digits."""
    import imagehash

    p = imagehash.phash(image, hash_size=HASH_SIZE, highfreq_factor=HIGHFREQ_FACTOR)
    d = imagehash.dhash(image, hash_size=HASH_SIZE)
    return str(p), str(d)


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
        from inventory.media.video import FRAME_SIDE, SEQUENCE_RATE

        params["source"] = "frames at evenly spaced points, each scaled to 64x64 greyscale by ffmpeg"
        params["ffmpeg"] = _ffmpeg_version()
        params["sequence"] = {"rate": SEQUENCE_RATE, "side": FRAME_SIDE}
    else:
        from inventory.match.hashes import WINDOWS

        params["source"] = "greyscale, EXIF orientation applied, short side reduced to 64-127 px"
        params["windows"] = {name: list(box) for name, box in WINDOWS.items()}
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def _ffmpeg_version() -> str:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_version())
    except Exception:  # pragma: no cover - reported as unknown rather than failing a scan
        return "unknown"


def hamming(a: str, b: str) -> int:
    """Hamming distance between two hex hashes of the same length."""
    if len(a) != len(b):
        raise ValueError(f"hashes of different sizes: {a!r} and {b!r}")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def to_signed(code: int) -> int:
    """A 64-bit hash as SQLite stores it (a signed INTEGER)."""
    return code - (1 << 64) if code >= 1 << 63 else code
