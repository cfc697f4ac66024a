"""Photo facts: pixel size, capture time, camera, and perceptual hashes.

Decoding is the expensive part of a scan, so a JPEG is decoded once, in greyscale and at a
reduced scale (``Image.draft``): the perceptual hashes only need a few dozen pixels a side.
The EXIF orientation is applied before hashing, so a portrait iPhone photo hashes as it is seen.
"""

from __future__ import annotations

import io
import threading
from typing import Any

from inventory.match.hashes import window_hashes
from inventory.match.phash import hash_params_for, perceptual_hashes
from inventory.record.facts import MediaFacts

# The smallest side the hashed picture may have; a JPEG is drafted down to this.
HASH_SOURCE_PIXELS = 64

_EXIF_ORIENTATION = 0x0112
_EXIF_MAKE = 0x010F
_EXIF_MODEL = 0x0110
_EXIF_IFD = 0x8769
_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_OFFSET_TIME_ORIGINAL = 0x9011

_heif_lock = threading.Lock()
_heif_ready = False


def register_heif() -> None:
    """Teach Pillow to open (and save) HEIC/HEIF/AVIF through pillow-heif, once."""
    global _heif_ready
    with _heif_lock:
        if not _heif_ready:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_ready = True


def capture_time_from_exif(value: object, offset: object = None) -> str | None:
    """``2024:05:01 12:34:56`` (+ ``+08:00``) -> ``2024-05-01T12:34:56+08:00``; None if invalid."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip("\x00")
    if len(text) < 19 or text[4] != ":" or text[7] != ":" or text[10] not in " T":
        return None
    date, clock = text[:10].replace(":", "-"), text[11:19]
    digits = (date[:4] + date[5:7] + date[8:10] + clock[:2] + clock[3:5] + clock[6:8]).strip()
    if not digits.isdigit() or digits.startswith("0000"):
        return None
    stamp = f"{date}T{clock}"
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if isinstance(offset, str):
        off = offset.strip().rstrip("\x00")
        if len(off) == 6 and off[0] in "+-" and off[3] == ":" and (off[1:3] + off[4:]).isdigit():
            stamp += off
    return stamp


def _clean_text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip("\x00").strip()
    return text or None


def probe_image(data: bytes | None, path: str, fmt: str) -> MediaFacts:
    """Decode a photo (from ``data`` if given, else from ``path``) and return its facts.

    Never raises for a bad picture: the reason is returned in ``decode_error``.
    """
    from PIL import Image

    facts = MediaFacts()
    if fmt in ("heic", "heif", "avif"):
        try:
            register_heif()
        except ImportError:  # pragma: no cover - pillow-heif is a dependency
            facts.decode_error = "HEIC/HEIF support (pillow-heif) is not installed"
            return facts
    source: Any = io.BytesIO(data) if data is not None else path
    try:
        with Image.open(source) as im:
            width, height = im.size
            exif = im.getexif()
            orientation = exif.get(_EXIF_ORIENTATION, 1)
            if not isinstance(orientation, int) or not 1 <= orientation <= 8:
                orientation = 1
            details: dict[str, Any] = {"orientation": orientation, "mode": im.mode}
            make, model = _clean_text(exif.get(_EXIF_MAKE)), _clean_text(exif.get(_EXIF_MODEL))
            if make:
                details["camera_make"] = make
            if model:
                details["camera_model"] = model
            frames = getattr(im, "n_frames", 1)
            if isinstance(frames, int) and frames > 1:
                details["frames"] = frames
            try:
                sub = exif.get_ifd(_EXIF_IFD)
            except Exception:  # a broken EXIF block must not fail the photo
                sub = {}
            facts.capture_time = capture_time_from_exif(
                sub.get(_EXIF_DATETIME_ORIGINAL), sub.get(_EXIF_OFFSET_TIME_ORIGINAL)
            )
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            facts.width, facts.height = width, height
            facts.details = details
            if im.format == "JPEG":
                im.draft("L", (HASH_SOURCE_PIXELS, HASH_SOURCE_PIXELS))
            im.load()
            small = hash_source(im, orientation)
            facts.phash, facts.dhash = perceptual_hashes(small)
            facts.window_hashes = window_hashes(small)
            facts.hash_params = hash_params_for("image")
    except Image.DecompressionBombError as exc:
        facts.decode_error = f"refused as a possible decompression bomb: {exc}"
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, RuntimeError) as exc:
        facts.decode_error = f"does not decode as {fmt.upper()}: {_reason(exc)}"
    return facts


def hash_source(im: Any, orientation: int) -> Any:
    """A small greyscale copy of the picture, upright, for hashing."""
    from PIL import Image

    small = im.convert("L") if im.mode != "L" else im
    # Bring every picture to the same working size: at least 64 px on the short side, the size
    # JPEG's DCT scaling gives, so a PNG and a JPEG of one photo hash alike.
    factor = min(small.size) // HASH_SOURCE_PIXELS
    if factor >= 2:
        small = small.reduce(factor)
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    if method is not None:
        small = small.transpose(method)
    return small


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
