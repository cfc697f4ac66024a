"""Copying a file's bytes, and knowing their SHA-256, at the least cost the system allows.

``kernel_copy`` moves bytes between two open files inside the kernel (copy_file_range, else
sendfile on Linux): they never pass through Python, and on file systems that share blocks
(Btrfs, XFS) nothing may be copied at all. Where neither exists (macOS, Windows) the caller
falls back on ``hashing_copy``.
``hashing_copy`` reads, hashes and writes in one pass through one buffer, for any readable
object. ``hash_back`` reads a written file back from its start: after a kernel copy, what is
checked is what was written.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from typing import IO, Any

from backup.targets.base import CHUNK, Progress

_COPY_BLOCK = 8 * 1024 * 1024
# What copy_file_range or sendfile raise, before a byte is copied, where they cannot copy these
# two files (another file system, a pipe, an old kernel, a sandbox).
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}


def kernel_copy(fd_in: int, fd_out: int, size: int, progress: Progress | None = None) -> int | None:
    """Copy up to ``size`` bytes from ``fd_in`` (from its position) to ``fd_out`` inside the
    kernel; how many were copied (fewer when the source ended first), or None, with nothing
    written, where neither way works for these files here."""
    done = 0

    def by_copy_file_range(n: int) -> int:
        return os.copy_file_range(fd_in, fd_out, n)

    def by_sendfile(n: int) -> int:
        return os.sendfile(fd_out, fd_in, start + done, n)

    start = os.lseek(fd_in, 0, os.SEEK_CUR)
    ways = []
    if hasattr(os, "copy_file_range"):
        ways.append(by_copy_file_range)
    if sys.platform.startswith("linux"):
        ways.append(by_sendfile)
    for way in ways:
        try:
            while done < size:
                n = way(min(_COPY_BLOCK, size - done))
                if n == 0:
                    break
                done += n
                if progress is not None:
                    progress(n)
            return done
        except OSError as exc:
            if done or exc.errno not in _NO_KERNEL_COPY:
                raise
    return None


def regular_size(f: IO[bytes]) -> int | None:
    """The size of the regular file behind ``f``; None for a pipe, a socket or an object that
    is no file of the system's."""
    try:
        st = os.fstat(f.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is a ValueError
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def hashing_copy(f_in: IO[bytes], f_out: IO[bytes], progress: Progress | None = None) -> str:
    """Read, hash and write in one pass through one buffer; the SHA-256 of what was copied."""
    digest = hashlib.sha256()
    readinto: Any = getattr(f_in, "readinto", None)
    if readinto is None:  # a stream that only reads (an HTTP body)
        while chunk := f_in.read(CHUNK):
            digest.update(chunk)
            f_out.write(chunk)
            if progress is not None:
                progress(len(chunk))
        return digest.hexdigest()
    view = memoryview(bytearray(4 * CHUNK))
    while n := readinto(view):
        part = view[:n]
        digest.update(part)
        while part:  # a raw write may take less than it is given
            part = part[f_out.write(part) or 0 :]
        if progress is not None:
            progress(n)
    return digest.hexdigest()


def hash_back(f: IO[bytes]) -> str:
    """The SHA-256 of ``f`` (open for reading) from its start to its end."""
    f.seek(0)
    digest = hashlib.sha256()
    view = memoryview(bytearray(4 * CHUNK))
    readinto: Any = f.readinto  # type: ignore[attr-defined]
    while n := readinto(view):
        digest.update(view[:n])
    return digest.hexdigest()
