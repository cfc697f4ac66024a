"""The storage seam: every backup target (a local folder, an S3 bucket, an rclone remote) is the
same few verbs over keys. A key is a '/'-separated path relative to the profile's root on the
target (``<root>/<profile>/``), such as ``originals/Shoots/2026/IMG_0001.jpg``; it never starts
with '/', never contains an empty, ``.`` or ``..`` part.

Errors: a problem with the whole target (not mounted, bad credentials, bucket missing, disk
full) raises ``TargetError`` and the run stops using that target; a problem with one object
raises ``ObjectError`` (``ObjectMissing`` when it is not there, ``Locked`` when Object Lock
refuses a delete) and the run goes on with the next one. Every verb is safe to retry.

Operations only some targets have are small protocols of their own (``BatchUpload``,
``Temporaries``); callers ask ``isinstance(target, BatchUpload)``, never ``getattr``. Which
target has which is pinned by the conformance suite (``tests/test_target_conformance.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, NamedTuple, Protocol, runtime_checkable

from inventory.errors import EXIT_FAILED, KeepmarkError

CHUNK = 1024 * 1024

# hashlib names for the hashes remotes offer, so a remote's hash can be checked against a local
# file without the target's help.
HASHLIB_NAMES = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}


class ObjectInfo(NamedTuple):
    """What a target says about one stored object. ``hashes`` holds the hashes it knows without
    reading the object (S3: the SHA-256 sent with the upload; rclone: the remote's own MD5,
    SHA-1, QuickXor...), by lower-case hash name; an empty mapping means none."""

    key: str
    size: int
    hashes: Mapping[str, str] = {}
    mtime: float | None = None


class TargetError(KeepmarkError):
    """The target as a whole cannot be used now; the message says why and what to do."""

    exit_code = EXIT_FAILED


class Unavailable(TargetError):
    """The target cannot be reached: a drive not mounted, a server down, a bucket missing."""


class TargetFull(TargetError):
    """The target has no room left."""


class ObjectError(KeepmarkError):
    """One object could not be stored, read or removed; the others may still be fine."""

    exit_code = EXIT_FAILED


class ObjectMissing(ObjectError):
    """No object under this key."""


class Locked(ObjectError):
    """Object Lock (or the service's equivalent) refuses to delete this object yet."""

    def __init__(self, key: str, until: str | None) -> None:
        self.key = key
        self.until = until
        super().__init__(f"{key}: locked until {until}" if until else f"{key}: locked")


class SourceChanged(ObjectError):
    """The local file's bytes no longer hash to the SHA-256 the inventory recorded: it changed
    after the scan. Nothing was stored under the key."""


Progress = Callable[[int], None]
"""Called with a byte count as bytes are sent or received."""


@runtime_checkable
class Target(Protocol):
    """One backup target. Implementations: ``LocalTarget``, ``S3Target``, ``RcloneTarget`` and
    ``MemoryTarget`` (for tests). All verbs may be called from several threads at once."""

    name: str

    @property
    def opens_quickly(self) -> bool:
        """Whether ``open_session`` and a first listing are quick work on this machine's own
        disks (a folder, memory): no network, no helper process. A run opens such a target
        directly, before its scan; any other on a thread of its own while the scan goes on."""
        ...

    def describe(self) -> str:
        """Where the target is, for people: ``folder /Volumes/Backup/Keepmark/lily``."""
        ...

    def open_session(self) -> None:
        """Check that the target can be used now and prepare it (create the profile's root where
        that is safe). Raises ``Unavailable``/``TargetError`` saying why not. Called once per run
        before any other verb."""
        ...

    def put_file(
        self,
        key: str,
        src: Path,
        sha256: str,
        size: int,
        progress: Progress | None = None,
        *,
        mtime_ns: int | None = None,
    ) -> None:
        """Store the file ``src`` under ``key``, replacing what is there. The stored object
        appears whole under ``key`` or not at all (a temporary name, a multipart upload that is
        only completed at the end). The bytes sent must hash to ``sha256`` (``SourceChanged``
        otherwise, and nothing is stored); the target checks what it stored where the service
        can (S3 checksums, rclone's own hash check). ``mtime_ns``: the source's modification
        time when ``sha256`` was computed; a target may then copy without hashing again if the
        file's size and modification time are the same before and after the copy (the
        inventory's quick check, applied to the copy)."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store small bytes (a manifest, the inventory copy) under ``key``, atomically."""
        ...

    def stat(self, key: str) -> ObjectInfo | None:
        """The object under ``key``, or None when there is none."""
        ...

    def list(self, prefix: str, *, hashes: bool = False) -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (a folder prefix ending in '/', or '').
        With ``hashes``, each info carries the hashes the target can give without reading the
        data (they may cost extra requests). Objects still being written are never listed."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """The object's bytes, for reading (a context manager). ``ObjectMissing`` if absent."""
        ...

    def copy(self, src_key: str, dst_key: str) -> None:
        """Copy an object inside the target (server-side where the service can), atomically."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object (prune only). Absent is not an error; ``Locked`` if a retention
        lock forbids it."""
        ...

    def local_hash(self, name: str, path: Path) -> str:
        """The hash ``name`` of a local file, to compare with ``ObjectInfo.hashes[name]``:
        any hash this target lists, and ``sha256`` on every target. ``OSError`` when the file
        cannot be read, ``ObjectError`` when the hash cannot be computed."""
        ...

    def close(self) -> None:
        """Release connections and helper processes."""
        ...


UploadItem = tuple[str, Path, str, int]
"""One file for ``BatchUpload.put_files``: (key, source file, its SHA-256, its size)."""


@runtime_checkable
class BatchUpload(Protocol):
    """A target that stores many files with one call more cheaply than with one call each
    (rclone: one process for a whole folder layout instead of one per file). A run sends the
    originals new to such a target through ``put_files``, a batch at a time; replacements of
    changed files still go through ``put_file`` (their earlier content is kept first)."""

    def put_files(
        self, items: Sequence[UploadItem], progress: Progress | None = None
    ) -> dict[str, Exception | None]:
        """Store each ``(key, src, sha256, size)`` as ``put_file`` would: whole under its key
        or not at all, the bytes checked against ``sha256``. Returns an entry for every key:
        None when it was stored, the ``ObjectError`` saying why not otherwise (``SourceChanged``
        when the file changed since it was hashed; nothing is left under that key). A problem
        with the whole target raises ``TargetError``: some keys may then be stored and others
        not, each whole or absent. Safe to retry: a retry stores every key again, replacing
        what is there. ``progress`` gets byte counts as for ``put_file``."""
        ...


@runtime_checkable
class Temporaries(Protocol):
    """A target where an interrupted upload can leave a temporary object behind (a local
    folder: a killed run leaves its ``.keepmark-tmp`` files). Temporaries are never listed;
    this removes them."""

    def clean_temporaries(self) -> int:
        """Remove the temporaries interrupted runs left under the profile's root; the number
        removed (0 when there were none). Call it only while holding the profile's run lock,
        so that no upload of this profile is writing one. One that cannot be removed is left
        for the next time, silently. Safe to retry."""
        ...


def file_hash(name: str, path: Path) -> str:
    """A hashlib hash of a local file, read in 1 MiB blocks."""
    digest = hashlib.new(HASHLIB_NAMES[name])
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_key(key: str) -> str:
    """``key`` if it is a well-formed key (see the module docstring); ValueError otherwise."""
    parts = key.split("/")
    if not key or "\x00" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a valid key: {key!r}")
    return key


class HashingReader:
    """Wraps a binary file: every read updates a SHA-256 and reports progress, so an upload
    reads each byte once and still proves what it sent."""

    def __init__(self, raw: IO[bytes], progress: Progress | None = None) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.progress = progress
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        if data:
            self.digest.update(data)
            self.count += len(data)
            if self.progress is not None:
                self.progress(len(data))
        return data

    def hexdigest(self) -> str:
        return self.digest.hexdigest()
