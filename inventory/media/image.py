"""Photos: opening one (from the bytes already read, or its path) and what its header says.

Opening reads only the header; the pixels are decoded on first use (``load()``), so a caller
that wants a reduced decode (a JPEG's ``draft``) can ask for it first. What the header says:
the pixel size as displayed (EXIF orientation applied), the orientation, the capture time, the
camera, the pixel mode, the number of frames.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inventory.media.orientation import orientation_of, swaps_sides

if TYPE_CHECKING:
    from PIL import Image

HEIF_FORMATS = ("heic", "heif", "avif")

_EXIF_MAKE = 0x010F
_EXIF_MODEL = 0x0110
_EXIF_IFD = 0x8769
_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_OFFSET_TIME_ORIGINAL = 0x9011


@dataclass
class PhotoHeader:
    width: int  # as displayed
    height: int
    orientation: int  # EXIF, 1-8
    capture_time: str | None
    details: dict[str, Any] = field(default_factory=dict)  # orientation, mode, camera, frames


def open_photo(data: bytes | None, path: str, fmt: str) -> Image.Image:
    """Open a photo from ``data`` (its whole bytes) if given, else from ``path``; ``fmt`` is the
    sniffed format (HEIC, HEIF and AVIF need pillow-heif, registered here). The pixels are not
    decoded yet. Raises what ``PIL.Image.open`` raises (``OSError`` for a picture Pillow does
    not recognise, ``DecompressionBombError``), and ``ImportError`` without pillow-heif."""
    from PIL import Image

    if fmt in HEIF_FORMATS:
        from inventory.media.heif import register_heif

        register_heif()
    return Image.open(io.BytesIO(data) if data is not None else path)


def photo_header(im: Image.Image) -> PhotoHeader:
    """What an opened photo's header says (nothing is decoded)."""
    width, height = im.size
    exif = im.getexif()
    orientation = orientation_of(exif)
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
        sub = _sub_ifd(exif)
    except Exception:  # a broken EXIF block must not fail the photo
        sub = {}
    taken = capture_time_from_exif(sub.get(_EXIF_DATETIME_ORIGINAL), sub.get(_EXIF_OFFSET_TIME_ORIGINAL))
    if swaps_sides(orientation):
        width, height = height, width
    return PhotoHeader(width, height, orientation, taken, details)


def _sub_ifd(exif: Image.Exif) -> dict[int, Any]:
    """The EXIF sub-IFD (capture time). Asked for only when the block points to one: Pillow's
    ``get_ifd`` adds an empty sub-IFD to a block without it, which a stamped copy of this very
    picture would then carry."""
    if _EXIF_IFD not in exif:
        return {}
    return exif.get_ifd(_EXIF_IFD)


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
