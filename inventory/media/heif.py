"""HEIC/HEIF/AVIF support for Pillow (pillow-heif), registered once for the whole process.

pillow-heif costs about 0.1 s to import, so it is registered only when a file needs it:
``register_heif()`` before opening one (``looks_like_heif(head)`` tells from its first bytes).
"""

from __future__ import annotations

import threading

# The ISO-BMFF brands of HEIF-family pictures (HEIC, HEIF, AVIF), at bytes 8-12 after "ftyp".
HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"mif2", b"avif", b"avis"}
)

_lock = threading.Lock()
_ready = False


def register_heif() -> None:
    """Teach Pillow to open (and save) HEIC/HEIF/AVIF through pillow-heif, once."""
    global _ready
    with _lock:
        if not _ready:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _ready = True


def looks_like_heif(head: bytes) -> bool:
    """True when a file's first 12 bytes are those of a HEIF-family picture."""
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS
