"""Read a file once: its SHA-256, what it is, and for photos and videos what they show."""

from __future__ import annotations

import hashlib
import os
from typing import NamedTuple

from inventory.errors import ChangedWhileReading
from inventory.media.sniff import HEAD_BYTES, RAW_EXTENSIONS, sniff
from inventory.record.facts import FileFacts, MediaFacts

# Files up to this size are read into memory once and decoded from there; larger ones are
# hashed in chunks and decoded from the path.
WHOLE_READ_LIMIT = 64 * 1024 * 1024
CHUNK = 1024 * 1024
# Pillow has no decoder for these; they are recorded by SHA-256 without perceptual hashes.
_NO_DECODER = RAW_EXTENSIONS | {"cr3", "orf", "rw2", "raf"}


class Observed(NamedTuple):
    """The file's identity as seen when it was read (for the quick check next time)."""

    size: int
    mtime_ns: int
    inode: int


def examine(path: str, name: str | None = None) -> tuple[FileFacts, Observed]:
    """Hash and classify one file, reading its bytes once.

    Raises ``OSError`` when the file cannot be read and ``ChangedWhileReading`` when it was
    being written meanwhile. A photo or video that does not decode is not an exception: the
    reason is in ``facts.media.decode_error``.
    """
    name = name if name is not None else os.path.basename(path)
    data: bytes | None
    with open(path, "rb") as f:
        before = os.fstat(f.fileno())
        if before.st_size <= WHOLE_READ_LIMIT:
            data = f.read()
            digest = hashlib.sha256(data).hexdigest()
            size = len(data)
            head = data[:HEAD_BYTES]
        else:
            data = None
            h = hashlib.sha256()
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            size = 0
            head = b""
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                if size == 0:
                    head = bytes(view[:HEAD_BYTES])
                h.update(view[:n])
                size += n
            digest = h.hexdigest()
        after = os.fstat(f.fileno())
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or size != before.st_size:
        raise ChangedWhileReading(f"{path}: changed while being read")
    observed = Observed(size=size, mtime_ns=before.st_mtime_ns, inode=before.st_ino)
    kind = sniff(head, name)
    facts = FileFacts(sha256=digest, size=size, kind=kind.kind, format=kind.format)
    if kind.kind == "other":
        return facts, observed
    if size == 0:
        facts.media = MediaFacts(
            decode_error=f"does not decode as {kind.format.upper()}: empty file (0 bytes)"
        )
    elif kind.claimed:
        facts.media = MediaFacts(
            decode_error=f"does not decode as {kind.format.upper()}: content not recognised as "
            + ("an image" if kind.kind == "image" else "a video")
        )
    elif kind.kind == "image":
        if kind.format in _NO_DECODER:
            facts.media = MediaFacts(details={"note": "RAW photo: recorded by SHA-256 only"})
        else:
            from inventory.media.image import probe_image

            facts.media = probe_image(data, path, kind.format)
    else:
        from inventory.media.video import probe_video

        facts.media = probe_video(path, kind.format)
    return facts, observed
