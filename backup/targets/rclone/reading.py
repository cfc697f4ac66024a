"""Reading an object: ``rclone cat`` streamed through a pipe (its exit status and the size read
checked at the end), or, for a name with a line break that ``cat`` cannot select, a
downloaded copy."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any, cast

from backup.targets.base import CHUNK, ObjectError, ObjectMissing, TargetError
from backup.targets.rclone.checks import RcloneChecks
from backup.targets.rclone.paths import line_break
from backup.targets.rclone.process import Ran, RcloneProcess, log_lines, reap


def open_object(t: RcloneChecks, path: str, key: str) -> IO[bytes]:
    """The bytes of the object at ``path`` (the remote path of ``key``), for reading."""
    info = t._stat_path(path, key)
    if info is None:
        raise ObjectMissing(f"{key}: not on {t.name}")
    if line_break(key):
        return _open_copy(t, path, key, info.size)
    err_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the returned reader
    try:
        proc = subprocess.Popen(
            t._argv("cat", [], [path]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err_file,
            bufsize=0,
        )
    except OSError as exc:
        err_file.close()
        raise TargetError(f"{t.name}: cannot run rclone ({exc.strerror or exc})") from exc
    with t._lock:
        t._procs.add(proc)
    return io.BufferedReader(_Download(t, key, proc, err_file, info.size), CHUNK)


def _open_copy(t: RcloneChecks, remote_path: str, key: str, size: int) -> IO[bytes]:
    """The object read from a downloaded copy: for names with line breaks, which ``rclone
    cat`` and ``hashsum`` (they select the file with a filter) silently skip."""
    tmp = tempfile.mkdtemp(prefix="keepmark-rclone-")
    try:
        local = t._fetch(remote_path, key, Path(tmp))
        if size >= 0 and local.stat().st_size != size:
            raise ObjectError(f"{t.name}: {key}: read {local.stat().st_size} of {size} bytes")
        f = open(local, "rb")  # noqa: SIM115 - the caller closes it
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # an open file stays readable on POSIX
    return f


class _Download(io.RawIOBase):
    """``rclone cat``'s output; at its end the exit status and size are checked, and closing
    stops and reaps the process."""

    def __init__(
        self, target: RcloneProcess, key: str, proc: subprocess.Popen[bytes], err_file: IO[bytes], size: int
    ) -> None:
        super().__init__()
        self.target = target
        self.key = key
        self.proc = proc
        self.err_file = err_file
        self.size = size
        self.count = 0
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.done:
            return 0
        stream = cast(io.FileIO, self.proc.stdout)
        n = stream.readinto(buffer)
        if n:
            self.count += n
            return n
        self.done = True
        code = self.proc.wait()
        if code != 0:
            self.err_file.seek(0)
            logs = log_lines(self.err_file.read().decode("utf-8", "replace"))
            raise self.target._error(Ran(code, b"", logs), self.key)
        if self.size >= 0 and self.count != self.size:
            raise ObjectError(f"{self.target.name}: {self.key}: read {self.count} of {self.size} bytes")
        return 0

    def close(self) -> None:
        if not self.closed:
            reap(self.proc)
            self.err_file.close()
            with self.target._lock:
                self.target._procs.discard(self.proc)
        super().close()
