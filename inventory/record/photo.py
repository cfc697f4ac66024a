"""A photo's facts: pixel size, capture time, camera, and perceptual hashes.

Decoding is the expensive part of recording a photo. When nothing else needs the pixels (a scan),
a JPEG is decoded once, in greyscale and at a reduced scale (``Image.draft``): the hashes only
need a few dozen pixels a side. When the photo is also being stamped, the caller opens it once
(``inventory.media.image.open_photo``), these facts are taken from that picture (a JPEG's from a
reduced decode of the bytes already in memory, since every stored JPEG hash was made that way),
and the stamper goes on with the same decoded picture.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from inventory.match.hashes import (
    draft_source,
    hash_params_for,
    hash_source,
    perceptual_hashes,
    window_hashes,
)
from inventory.match.params import HASH_SOURCE_PIXELS
from inventory.media.image import open_photo, photo_header
from inventory.record.facts import MediaFacts

if TYPE_CHECKING:
    from PIL import Image

# What a photo that does not decode may raise (Pillow's decoders, pillow-heif, a broken header).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, MemoryError, RuntimeError)


def photo_facts(data: bytes | None, path: str, fmt: str) -> MediaFacts:
    """Decode a photo (from ``data`` if given, else from ``path``) and return its facts.

    Never raises for a bad picture: the reason is returned in ``decode_error``."""
    facts = MediaFacts()
    try:
        im = open_photo(data, path, fmt)
    except ImportError:  # pragma: no cover - pillow-heif is a dependency
        facts.decode_error = "HEIC/HEIF support (pillow-heif) is not installed"
        return facts
    except Exception as exc:
        facts.decode_error = _decode_error(exc, fmt)
        if facts.decode_error is None:
            raise
        return facts
    with im:
        _fill(facts, im, fmt, None)
    return facts


def picture_facts(im: Image.Image, fmt: str, source: bytes | str) -> MediaFacts:
    """The facts of a photo already opened by ``open_photo`` (from ``source``: its bytes, or
    its path), which the caller goes on to use: the pixels are decoded here in full (a JPEG's
    are left for the caller), and only read. Never raises for a bad picture (see
    ``decode_error``); after a decode error the picture must not be used."""
    facts = MediaFacts()
    _fill(facts, im, fmt, source)
    return facts


def _fill(facts: MediaFacts, im: Image.Image, fmt: str, draft_from: bytes | str | None) -> None:
    """Fill ``facts`` from the opened picture; ``draft_from``: where a JPEG's reduced decode
    comes from (None: from ``im`` itself, which is then reduced)."""
    try:
        header = photo_header(im)
        facts.width, facts.height = header.width, header.height
        facts.capture_time = header.capture_time
        facts.details = header.details
        if im.format == "JPEG" and draft_from is None:
            im.draft("L", (HASH_SOURCE_PIXELS, HASH_SOURCE_PIXELS))
            im.load()
            small = hash_source(im, header.orientation)
        elif im.format == "JPEG":
            assert draft_from is not None
            small = draft_source(draft_from, header.orientation)
        else:
            im.load()
            small = hash_source(im, header.orientation)
        facts.phash, facts.dhash = perceptual_hashes(small)
        facts.window_hashes = window_hashes(small)
        facts.hash_params = hash_params_for("image")
    except Exception as exc:
        facts.decode_error = _decode_error(exc, fmt)
        if facts.decode_error is None:
            raise


def _decode_error(exc: BaseException, fmt: str) -> str | None:
    """The one-line reason a photo does not decode, or None for an exception that is not one."""
    from PIL import Image

    if isinstance(exc, Image.DecompressionBombError):
        return f"refused as a possible decompression bomb: {exc}"
    if isinstance(exc, DECODE_ERRORS):
        return f"does not decode as {fmt.upper()}: {_reason(exc)}"
    return None


# Pillow names what it could not read: "cannot identify image file <_io.BytesIO object at 0x...>"
# (or the file's path). The caller names the file; an object's address must not be recorded.
_WHAT = re.compile(r"\s*(<_io\.\w+ object at 0x[0-9a-fA-F]+>|'[^']*')$")


def _reason(exc: BaseException) -> str:
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    return _WHAT.sub("", text) or text
