"""A target held in memory, for fast tests of the run logic. It keeps the same contract as the
real ones, and can be told to fail: ``fail_puts_after`` puts succeed, then every put raises
``TargetFull``; ``locked`` keys refuse deletion."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from backup.targets.base import (
    CHUNK,
    Locked,
    ObjectInfo,
    ObjectMissing,
    Progress,
    SourceChanged,
    TargetFull,
    Unavailable,
    check_key,
    file_hash,
)


class MemoryTarget:
    opens_quickly = True

    def __init__(self, name: str = "memory", *, available: bool = True) -> None:
        self.name = name
        self.available = available
        self.objects: dict[str, bytes] = {}
        self.locked: dict[str, str] = {}
        self.fail_puts_after: int | None = None
        self.puts = 0
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"memory {self.name}"

    def open_session(self) -> None:
        if not self.available:
            raise Unavailable(f"{self.name}: not available")

    def _store(self, key: str, data: bytes) -> None:
        with self._lock:
            if self.fail_puts_after is not None and self.puts >= self.fail_puts_after:
                raise TargetFull(f"{self.name}: no space left")
            self.puts += 1
            self.objects[check_key(key)] = data

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
        buf = io.BytesIO()
        digest = hashlib.sha256()
        with open(src, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                buf.write(chunk)
                if progress:
                    progress(len(chunk))
        if digest.hexdigest() != sha256:
            raise SourceChanged(f"{src}: changed since it was scanned")
        self._store(key, buf.getvalue())

    def put_bytes(self, key: str, data: bytes) -> None:
        self._store(key, bytes(data))

    def stat(self, key: str) -> ObjectInfo | None:
        data = self.objects.get(key)
        return None if data is None else ObjectInfo(key, len(data))

    def list(self, prefix: str, *, hashes: bool = False) -> Iterator[ObjectInfo]:
        for key in sorted(k for k in list(self.objects) if k.startswith(prefix)):
            data = self.objects[key]
            yield ObjectInfo(key, len(data), {"sha256": hashlib.sha256(data).hexdigest()} if hashes else {})

    def open(self, key: str) -> IO[bytes]:
        try:
            return io.BytesIO(self.objects[key])
        except KeyError:
            raise ObjectMissing(f"{key}: not on {self.name}") from None

    def copy(self, src_key: str, dst_key: str) -> None:
        with self.open(src_key) as f:
            self._store(dst_key, f.read())

    def delete(self, key: str) -> None:
        if key in self.locked:
            raise Locked(key, self.locked[key])
        with self._lock:
            self.objects.pop(key, None)

    def local_hash(self, name: str, path: Path) -> str:
        return file_hash(name, path)

    def close(self) -> None:
        pass
