"""Read a file once: its SHA-256, what it is, and for photos and videos what they show.

Reading and decoding are two steps, so that a file that is also stamped is decoded once:

- ``read(path)`` reads the bytes once: SHA-256, size, the identity seen (size, mtime, inode),
  the kind sniffed from the content, and the bytes themselves for a file up to
  ``WHOLE_READ_LIMIT``;
- ``decode(r)`` decodes what was read and returns the ``FileFacts`` (``examine(path)`` is both,
  what a scan does);
- or the caller decodes once, for the facts and for its own use: ``decode_photo(r)`` gives a
  photo's facts and the decoded picture they came from, which is then stamped
  (``open_photo`` and ``photo_facts`` are its two steps); a video's facts come from
  ``video_facts(r, probe, taken)`` with the probe and the frames the stamper's pass took
  (``inventory.record.video.sampling_for`` says what to ask it for).

The facts are the same whichever way is taken.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from inventory.errors import ChangedWhileReading
from inventory.media.sniff import HEAD_BYTES, RAW_EXTENSIONS, sniff
from inventory.record.facts import FileFacts, MediaFacts

if TYPE_CHECKING:
    from PIL import Image

    from inventory.media.frames import PassFrames
    from inventory.media.probe import Probe

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


@dataclass(frozen=True)
class Read:
    """One read of a file."""

    path: str
    sha256: str
    size: int
    observed: Observed
    kind: str  # "image", "video" or "other", from the content (or the extension: ``claimed``)
    format: str  # "jpeg", "heic", "mp4"...
    claimed: bool  # only the extension says it is a photo or video; the bytes were not recognised
    data: bytes | None = field(default=None, repr=False)  # the whole file, up to WHOLE_READ_LIMIT

    @property
    def source(self) -> bytes | str:
        """Where to decode from: the bytes in memory, else the path."""
        return self.data if self.data is not None else self.path

    @property
    def decodable(self) -> bool:
        """A photo or video worth decoding (not empty, recognised, not a RAW photo)."""
        return self.undecoded() is None

    def undecoded(self) -> FileFacts | None:
        """The facts when there is nothing to decode (not a photo or video, an empty or
        unrecognised one, a RAW photo); None for a photo or video that is to be decoded."""
        facts = FileFacts(sha256=self.sha256, size=self.size, kind=self.kind, format=self.format)
        label = self.format.upper()
        if self.kind == "other":
            return facts
        if self.size == 0:
            facts.media = MediaFacts(decode_error=f"does not decode as {label}: empty file (0 bytes)")
        elif self.claimed:
            what = "an image" if self.kind == "image" else "a video"
            facts.media = MediaFacts(
                decode_error=f"does not decode as {label}: content not recognised as {what}"
            )
        elif self.kind == "image" and self.format in _NO_DECODER:
            facts.media = MediaFacts(details={"note": "RAW photo: recorded by SHA-256 only"})
        else:
            return None
        return facts

    def with_media(self, media: MediaFacts) -> FileFacts:
        return FileFacts(sha256=self.sha256, size=self.size, kind=self.kind, format=self.format, media=media)


def read(path: str, name: str | None = None) -> Read:
    """Read a file once: hash it and sniff what it is (``name``, for the extension, defaults
    to the path's).

    Raises ``OSError`` when the file cannot be read and ``ChangedWhileReading`` when it was
    being written meanwhile."""
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
    return Read(path, digest, size, observed, kind.kind, kind.format, kind.claimed, data)


def decode(r: Read) -> FileFacts:
    """The facts of what was read, decoding a photo or video itself. A photo or video that does
    not decode is not an exception: the reason is in ``facts.media.decode_error``."""
    facts = r.undecoded()
    if facts is not None:
        return facts
    if r.kind == "image":
        from inventory.record.photo import photo_facts

        return r.with_media(photo_facts(r.data, r.path, r.format))
    from inventory.record.video import video_facts as facts_of_video

    return r.with_media(facts_of_video(r.path, r.format))


def examine(path: str, name: str | None = None) -> tuple[FileFacts, Observed]:
    """Hash and classify one file, reading its bytes once (``read`` then ``decode``).

    Raises ``OSError`` when the file cannot be read and ``ChangedWhileReading`` when it was
    being written meanwhile. A photo or video that does not decode is not an exception: the
    reason is in ``facts.media.decode_error``.
    """
    r = read(path, name)
    return decode(r), r.observed


def open_photo(r: Read) -> Image.Image:
    """Open a decodable photo from what was read (its bytes, else its path); the pixels are
    decoded on first use. Raises what ``PIL.Image.open`` raises for a picture it cannot open:
    then ``decode(r)`` gives the facts (with the reason)."""
    from inventory.media.image import open_photo as open_image

    return open_image(r.data, r.path, r.format)


def photo_facts(r: Read, image: Image.Image) -> FileFacts:
    """The facts of a photo opened by ``open_photo(r)``, identical to ``decode(r)``'s, taken from
    ``image``, whose pixels are decoded here and only read (a JPEG's hashes come from a reduced
    decode of ``r``'s bytes, the way every stored JPEG hash was made; its full pixels are left
    for the caller). When ``decode_error`` is set, ``image`` must not be used further."""
    from inventory.record.photo import picture_facts

    return r.with_media(picture_facts(image, r.format, r.source))


def decode_photo(r: Read) -> tuple[FileFacts, Image.Image | None]:
    """For a photo that is also stamped: its facts (identical to ``decode(r)``'s) and the
    picture they were taken from, ready for ``watermark.image.stamp_image(..., image=picture,
    data=r.data)``; the picture is None when the photo does not decode (the facts say why, and
    the stamper, given only the path, says why it cannot stamp it). The caller closes it."""
    facts = r.undecoded()
    if facts is not None or r.kind != "image":
        return facts if facts is not None else decode(r), None
    try:
        picture = open_photo(r)
    except Exception:
        return decode(r), None  # the same failure, worded as a scan words it (or raised again)
    facts = photo_facts(r, picture)
    if facts.decode_error is not None:
        picture.close()
        return facts, None
    return facts, picture


def video_facts(r: Read, probe: Probe | None = None, taken: PassFrames | None = None) -> FileFacts:
    """The facts of a video, identical to ``decode(r)``'s: ``probe`` when the caller probed it
    already, ``taken`` the frames a stamping pass took (asked for with
    ``inventory.record.video.sampling_for(probe)``), which spare a second decode of the video."""
    from inventory.record.video import video_facts as facts_of_video

    return r.with_media(facts_of_video(r.path, r.format, probe, taken))
