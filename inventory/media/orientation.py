"""EXIF orientation, in one place: which value a photo carries, and its picture made upright.

A camera stores the sensor's pixels as they came and writes how to turn them (EXIF tag 0x0112,
values 1-8). The transpose for each value is Pillow's (the table ``ImageOps.exif_transpose``
uses), so hashing (``inventory.match.hashes``) and stamping (``watermark.image``) see one and
the same upright picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

ORIENTATION_TAG = 0x0112

# Orientation value -> the name of the ``PIL.Image.Transpose`` member that makes it upright.
_TRANSPOSE = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}


def orientation_of(exif: Any) -> int:
    """The orientation an EXIF block (``Image.getexif()``) gives, 1 when absent or invalid."""
    try:
        value = exif.get(ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block must not fail the photo
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def swaps_sides(orientation: int) -> bool:
    """True when turning upright swaps width and height (a portrait photo stored landscape)."""
    return orientation in (5, 6, 7, 8)


def upright(im: Image.Image, orientation: int) -> Image.Image:
    """The picture as it is meant to be seen: ``im`` itself for orientation 1 (or an invalid
    value), else a transposed copy. ``im``'s pixels are decoded if they were not yet."""
    name = _TRANSPOSE.get(orientation)
    if name is None:
        return im
    from PIL import Image

    return im.transpose(getattr(Image.Transpose, name))
