"""Uploading one object: the source read once for its hashes, sent with ``rclone copyto``, and
what was stored checked (``checks``). On staged remotes (WebDAV, whose servers may write in
place) the upload goes to a temporary name in the same folder, is checked there, and is then
moved to its key on the server. ``put_bytes`` writes the bytes to a private file and uploads
that the same way."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from backup.targets.base import ObjectError, ObjectMissing, Progress, SourceChanged, check_key
from backup.targets.rclone.checks import RcloneChecks
from backup.targets.rclone.paths import temp_key
from backup.targets.rclone.process import reason_of


class RcloneUploads(RcloneChecks):
    """The upload calls of a target (``RcloneTarget`` sets ``staged``)."""

    staged: bool | None
    """Whether uploads go to a temporary name and are moved into place once checked (None
    until the session is open: then WebDAV remotes without partial uploads are staged)."""

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
        """The upload is checked against the remote's own hash, which needs the file read here
        anyway, so ``mtime_ns`` is not used."""
        dst = self._path(key)
        digest = self._digest_file(src)
        if digest.hashes["sha256"] != sha256:
            raise SourceChanged(f"{src}: changed since it was scanned; run again to back it up")
        source = os.path.abspath(src)
        if self.staged:
            tmp = self._path(temp_key(key))
            self._upload(key, ["copyto"], [source, tmp], progress, digest.size)
            try:
                self._check_one(key, tmp, digest, src, sha256)
                self._commit(key, tmp, dst)
            except BaseException:
                self._remove(tmp)
                raise
            return
        self._upload(key, ["copyto"], [source, dst], progress, digest.size)
        self._check_one(key, dst, digest, src, sha256)

    def _upload(
        self, key: str, command: list[str], args: list[str], progress: Progress | None, total: int
    ) -> None:
        ran = self._transfer(command[0], command[1:], args, progress, total)
        if ran.code != 0:
            err = self._error(ran, key)
            if isinstance(err, ObjectMissing):
                err = ObjectError(f"{self.name}: {key}: {reason_of(ran.logs)}")
            raise err

    def _commit(self, key: str, tmp: str, dst: str) -> None:
        """Move a staged upload to its key, on the server."""
        ran = self._run("moveto", [], [tmp, dst], transfer=True)
        if ran.code != 0:
            raise self._error(ran, key)

    def put_bytes(self, key: str, data: bytes) -> None:
        # Through a private file and the same path as put_file: ``rclone rcat`` writes straight
        # to the final name (from memory below its streaming cutoff, streaming above it).
        check_key(key)
        with tempfile.TemporaryDirectory(prefix="keepmark-rclone-") as tmp:
            src = Path(tmp) / "data"
            src.write_bytes(data)
            self.put_file(key, src, hashlib.sha256(data).hexdigest(), len(data))
