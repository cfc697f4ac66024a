"""The metadata a stamped photo carries: its source's EXIF and XMP, turned upright, with the
account's copyright fields when asked for.

Two places hold the account, each in the encoding its readers expect:

- **XMP** (``dc:creator``, ``dc:rights``) is UTF-8 by definition, so a name in any script
  (``陈莉莉``) reads back as written in every XMP reader. It goes in a JPEG's APP1 segment, a
  PNG's ``iTXt`` chunk, a WebP's ``XMP`` chunk, a HEIC's XMP item and a TIFF's tag 700.
- **EXIF** Artist and Copyright are ASCII fields: readers take their bytes as ASCII, Latin-1
  or the system code page, so UTF-8 shows as mojibake (``é™ˆèŽ‰èŽ‰``). Only ASCII text is ever
  written there; text that is not ASCII is left out rather than garbled (the caller picks an
  ASCII form, see ``backup.app.stamp.exif_account``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from inventory.media.orientation import ORIENTATION_TAG

if TYPE_CHECKING:
    from PIL import Image

EXIF_ARTIST = 0x013B
EXIF_COPYRIGHT = 0x8298
XMP_TIFF_TAG = 700

_PACKET_START = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_PACKET_END = b'<?xpacket end="w"?>'


def ascii_text(text: str | None) -> str | None:
    """``text`` when it is printable ASCII (what an EXIF ASCII field can hold without a reader
    guessing its encoding), else None."""
    if not text or not text.isascii() or not text.isprintable():
        return None
    return text


def exif_bytes(im: Image.Image, *, copyright: str | None, artist: str | None) -> bytes | None:
    """The source's EXIF without its orientation (the pixels are upright), with Copyright and
    Artist set to ``copyright`` and ``artist`` when they are ASCII (see the module docstring);
    None when nothing is left to write."""
    from PIL import Image

    exif = Image.Exif()
    exif.load(im.getexif().tobytes())  # a copy: the source image's own EXIF stays as it was
    if ORIENTATION_TAG in exif:
        del exif[ORIENTATION_TAG]  # the pixels are upright now
    for tag, text in ((EXIF_COPYRIGHT, ascii_text(copyright)), (EXIF_ARTIST, ascii_text(artist))):
        if text is not None:
            exif[tag] = text
    if not len(exif) and not exif.get_ifd(0x8769):
        return None
    return exif.tobytes()


def xmp_packet(im: Image.Image, *, rights: str | None, creator: str | None) -> bytes | None:
    """The source's XMP (UTF-8) with its orientation set to 1, and ``dc:rights`` and
    ``dc:creator`` added when given and the source's packet has none of its own (a creator's
    own rights statement is kept); a new packet when the source has none."""
    raw = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    xmp = raw.encode("utf-8") if isinstance(raw, str) else raw
    if xmp is not None:
        # The orientation is applied to the pixels; an XMP copy of it must not apply it twice.
        xmp = re.sub(rb'tiff:Orientation="\d"', b'tiff:Orientation="1"', xmp)
        xmp = re.sub(
            rb"<tiff:Orientation>\d</tiff:Orientation>", b"<tiff:Orientation>1</tiff:Orientation>", xmp
        )
    have = xmp or b""
    parts = b""
    if rights and b"dc:rights" not in have:
        text = escape(rights).encode("utf-8")
        parts += b'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">' + text
        parts += b"</rdf:li></rdf:Alt></dc:rights>"
    if creator and b"dc:creator" not in have:
        text = escape(creator).encode("utf-8")
        parts += b"<dc:creator><rdf:Seq><rdf:li>" + text + b"</rdf:li></rdf:Seq></dc:creator>"
    if not parts:
        return xmp
    description = b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">' + parts
    description += b"</rdf:Description>"
    if xmp and b"</rdf:RDF>" in xmp:
        return xmp.replace(b"</rdf:RDF>", description + b"</rdf:RDF>", 1)
    if xmp:
        return xmp  # a packet this code cannot extend safely: kept as the source has it
    return (
        _PACKET_START
        + b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        + description
        + b"</rdf:RDF></x:xmpmeta>"
        + _PACKET_END
    )
