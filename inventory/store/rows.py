"""The typed rows the stores return: what a caller reads by field name instead of by position.

They are NamedTuples, so that code which unpacks them (``for root, relpath, ... in rows``) or
compares them with plain tuples keeps working, and a list of 100,000 costs little more than
plain tuples.
"""

from __future__ import annotations

from typing import NamedTuple

# What the inventory last saw at a path, enough for the quick check:
# (path, size, mtime_ns, inode, missing_since). Plain tuples on purpose: a no-change scan reads
# one per file, and builds none of its own.
Known = tuple[str, int, int, int, "str | None"]


class FileRow(NamedTuple):
    """A file present at the last scan, as the backup runs see it."""

    root: str  # the source folder it was found in
    relpath: str  # the path relative to ``root``, with ``/`` separators
    path: str  # the absolute path
    sha256: str
    size: int
    mtime_ns: int


class DatedFile(NamedTuple):
    """A present file and when its path was first recorded."""

    file: FileRow
    first_seen: str


class MediaFile(NamedTuple):
    """A present photo or video, with what the stamper needs to place and caption its copy."""

    path: str
    root: str
    relpath: str
    sha256: str
    kind: str  # "image" | "video"
    format: str  # "jpeg", "heic", "mp4", ... (``content.format``)
    capture_time: str | None
    first_seen: str  # when the content was first recorded


class Recorded(NamedTuple):
    """The outcome of recording one file: ``new`` path, ``changed`` content, ``unchanged``,
    or ``failed`` (with ``error``; the rest of the batch is recorded all the same)."""

    path: str
    sha256: str
    status: str
    new_content: bool
    error: str | None = None


class LedgerHead(NamedTuple):
    """The newest ledger entry's number and hash."""

    seq: int
    hash: str


class FrameSequence(NamedTuple):
    """An enrolled video's frame pHashes (16-digit hex, ``rate`` per second from the start)."""

    sha256: str
    rate: float
    hashes: list[str]
    duration_ms: int | None


class StoredObject(NamedTuple):
    """What the backup catalog knows a target holds under one key."""

    sha256: str
    size: int
    mtime_ns: int


class InventoryCopy(NamedTuple):
    """The inventory copy a target holds, and the fingerprint of the inventory it was made from."""

    fingerprint: str
    sha256: str
    size: int


_Utf8 = bytes  # (inside Listing, ``bytes`` names its field)


class Listing(NamedTuple):
    """The originals of a snapshot: how many, their bytes, and the manifest's ``files``
    section as written."""

    files: int
    bytes: int
    section: _Utf8


# A row to note in the catalog: (key, sha256, size, mtime_ns).
StoredRow = tuple[str, str, int, int]


class Damage(NamedTuple):
    """A copy on a backup target found missing, cut or altered (the ``damaged`` table)."""

    target: str  # the target's name in the profile
    key: str  # the object's key on the target (``originals/<path>``)
    path: str  # ``<source folder name>/<relpath>``, as snapshots list it
    sha256: str  # what the object should hold
    problem: str  # what was found ("missing", "size 10, expected 12", "content differs: ...")
    found: str = ""  # when (UTC, ISO 8601)
    found_by: str = ""  # "verify", "read-back" (a full run's) or "full" (its comparison)


class ContentFacts(NamedTuple):
    """A ``content`` row's columns that its ``original`` ledger entry states (``frame_hashes``
    as stored: JSON text)."""

    sha256: str
    first_seen: str
    size: int
    kind: str
    format: str
    width: int | None
    height: int | None
    duration_ms: int | None
    capture_time: str | None
    phash: str | None
    dhash: str | None
    frame_hashes: str | None
    decode_error: str | None


class SightingRow(NamedTuple):
    """A ``sightings`` row: a content first seen at a path."""

    sha256: str
    path: str
    first_seen: str


class PathRow(NamedTuple):
    """A ``paths`` row's columns that the ledger bears out."""

    path: str
    sha256: str
    size: int
    first_seen: str


class DerivativeRow(NamedTuple):
    """A ``derivatives`` row: a stamped copy."""

    sha256: str
    source: str
    style: str
    path: str
    size: int
    kind: str
    created: str
