"""A folder on an external drive or a NAS mount.

Objects are plain files under ``<path>/<profile>/``, browsable without Keepmark. Every file is
written under a short hidden temporary name in its final folder (``.km-XXXXXXXX.keepmark-tmp``,
short so that long names still fit), fsynced, renamed and its folder fsynced: a file under its
final name is always whole.

A drive that is not mounted must never be mistaken for an empty folder on the laptop's own
disk. The folder named in the profile gets a marker file, ``.keepmark-target``, the first time
it is used; after that a missing marker means the drive is not there. The first time, the
folder's parent must exist, and a folder under a mount-point area (``/Volumes/X``,
``/media/X``, ``/mnt/X``, ``/run/media/USER/X``) needs ``X`` to be mounted.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO

from backup.targets.base import (
    CHUNK,
    ObjectError,
    ObjectInfo,
    ObjectMissing,
    Progress,
    SourceChanged,
    TargetError,
    TargetFull,
    Unavailable,
    check_key,
    file_hash,
)
from backup.targets.copying import hashing_copy, kernel_copy
from inventory.atomic import TMP_SUFFIX, atomic_path

MARKER = ".keepmark-target"
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_MOUNT_AREAS = (("Volumes",), ("media",), ("mnt",), ("run", "media"))


def mount_point_needed(path: Path) -> Path | None:
    """The mount point a folder lives under when it is in a mount-point area (``/Volumes/X``,
    ``/media/USER/X`` or ``/media/X``, ``/mnt/X``, ``/run/media/USER/X``), else None."""
    parts = path.parts
    if len(parts) < 3 or parts[0] != os.sep:
        return None
    for area in _MOUNT_AREAS:
        n = len(area)
        if tuple(parts[1 : 1 + n]) == area:
            depth = 1 + n + (1 if area in (("run", "media"),) else 0)
            if len(parts) <= depth:
                return None
            point = Path(*parts[: depth + 1])
            if area == ("media",) and not os.path.ismount(point) and len(parts) > depth + 1:
                point = Path(*parts[: depth + 2])  # /media/USER/X
            return point
    return None


class LocalTarget:
    """A folder; it also has ``clean_temporaries`` (``base.Temporaries``)."""

    opens_quickly = True

    def __init__(self, name: str, path: Path, profile: str, *, used_before: bool = False) -> None:
        self.name = name
        self.base = Path(os.path.abspath(os.path.expanduser(path)))
        self.root = self.base / profile
        self.used_before = used_before

    def describe(self) -> str:
        return f"folder {self.root}"

    # -- session ----------------------------------------------------------------------------

    def open_session(self) -> None:
        marker = self.base / MARKER
        if marker.is_file():
            self._mkdir(self.root)
            return
        if self.used_before:
            raise Unavailable(
                f"{self.base}: not found or not the backup folder used before (no {MARKER} in it); "
                "is the drive connected and mounted?"
            )
        point = mount_point_needed(self.base)
        if point is not None and not os.path.ismount(point):
            raise Unavailable(f"{self.base}: the drive {point} is not mounted; connect it and run again")
        if not self.base.parent.is_dir():
            raise Unavailable(
                f"{self.base}: its folder {self.base.parent} does not exist; is the drive connected?"
            )
        self._mkdir(self.base)
        body = json.dumps({"keepmark_target": 1, "id": os.urandom(8).hex()}).encode()
        self._write(marker, body)
        self._mkdir(self.root)

    def _mkdir(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=False, exist_ok=True)
        except FileNotFoundError:
            raise Unavailable(f"{folder}: its folder does not exist; is the drive connected?") from None
        except OSError as exc:
            raise self._error(exc, folder) from exc

    def _error(self, exc: OSError, where: Path) -> Exception:
        reason = exc.strerror or str(exc)
        if exc.errno in _FULL:
            return TargetFull(f"{where}: no space left on the backup drive ({reason})")
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and not os.access(self.root, os.W_OK):
            return TargetError(f"{self.root}: cannot write to the backup folder ({reason})")
        if not (self.base / MARKER).is_file():
            return Unavailable(
                f"{self.base}: the backup folder went away ({reason}); is the drive connected?"
            )
        return ObjectError(f"{where}: {reason}")

    # -- verbs ------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _write(self, dst: Path, data: bytes) -> None:
        with self._temp(dst) as (_tmp, f):
            f.write(data)

    def _temp(self, dst: Path) -> AbstractContextManager[tuple[Path, IO[bytes]]]:
        return _temp(self, dst)

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
        """Copied in the kernel (no second hashing) when ``mtime_ns`` says the file is as it was
        hashed, before and after the copy; otherwise read, hashed and written in one pass."""
        dst = self._path(key)
        try:
            with open(src, "rb", buffering=0) as f_in:
                st = os.fstat(f_in.fileno())
                as_hashed = mtime_ns is not None and (st.st_size, st.st_mtime_ns) == (size, mtime_ns)
                with self._temp(dst) as (_tmp, f_out):
                    f_out.flush()
                    copied = kernel_copy(f_in.fileno(), f_out.fileno(), size, progress) if as_hashed else None
                    if copied is not None:
                        after = os.fstat(f_in.fileno())
                        if copied != size or (after.st_size, after.st_mtime_ns) != (size, mtime_ns):
                            raise SourceChanged(f"{src}: changed while it was copied; run again")
                    elif hashing_copy(f_in, f_out, progress) != sha256:
                        raise SourceChanged(f"{src}: changed since it was scanned; run again to back it up")
                    f_out.flush()
                    os.utime(f_out.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns))
        except FileNotFoundError as exc:
            if exc.filename == str(src) or not os.path.exists(src):
                raise ObjectError(f"{src}: vanished before it could be backed up") from None
            raise self._error(exc, dst) from exc

    def put_bytes(self, key: str, data: bytes) -> None:
        self._write(self._path(key), data)

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            st = self._path(key).stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(exc, self._path(key)) from exc
        return ObjectInfo(key, st.st_size, {}, st.st_mtime)

    def list(self, prefix: str, *, hashes: bool = False) -> Iterator[ObjectInfo]:
        folder, _, _start = prefix.rpartition("/")
        top = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not top.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.root)
            rel_key = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            for fn in sorted(filenames):
                if fn.endswith(TMP_SUFFIX) or (not rel_key and fn == MARKER):
                    continue
                key = rel_key + fn
                if not key.startswith(prefix):
                    continue
                try:
                    st = os.stat(os.path.join(dirpath, fn))
                except FileNotFoundError:
                    continue
                yield ObjectInfo(key, st.st_size, {}, st.st_mtime)

    def open(self, key: str) -> IO[bytes]:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise ObjectMissing(f"{key}: not on {self.name}") from None
        except OSError as exc:
            raise self._error(exc, self._path(key)) from exc

    def copy(self, src_key: str, dst_key: str) -> None:
        with self.open(src_key) as f_in, self._temp(self._path(dst_key)) as (_tmp, f_out):
            while chunk := f_in.read(CHUNK):
                f_out.write(chunk)
            f_out.flush()
            st = os.fstat(f_in.fileno())
            os.utime(f_out.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns))

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._error(exc, self._path(key)) from exc

    def local_hash(self, name: str, path: Path) -> str:
        return file_hash(name, path)

    def close(self) -> None:
        pass

    def clean_temporaries(self) -> int:
        """Remove temporary files that an interrupted run left; the count removed."""
        removed = 0
        for dirpath, _dirs, files in os.walk(self.root):
            for fn in files:
                if fn.endswith(TMP_SUFFIX):
                    try:
                        os.unlink(os.path.join(dirpath, fn))
                        removed += 1
                    except OSError:
                        pass
        return removed


@contextmanager
def _temp(target: LocalTarget, dst: Path) -> Iterator[tuple[Path, IO[bytes]]]:
    """A temporary file beside ``dst`` (``inventory.atomic``, with a short hidden name): yields
    (path, file); on success it is fsynced and renamed over ``dst``, the folder fsynced; on any
    failure it is removed and ``dst`` is untouched. OS errors become the target's errors."""
    try:
        with atomic_path(dst, synced=True, short=True) as tmp, open(tmp, "wb") as f:
            yield tmp, f
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise target._error(exc, dst) from exc
