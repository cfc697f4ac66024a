"""Hashes and checks: a file read once for its SHA-256 and the remote's own hash type, and what
was stored compared with what was sent. The remote's hash (``hash_type``) is checked where it
has one; a remote with none is checked by downloading (``rclone hashsum sha256 --download``)
unless ``download_check`` is off. A wrong copy is removed: ``SourceChanged`` if the source no
longer matches, ``ObjectError`` otherwise."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from backup.targets.base import (
    CHUNK,
    HASHLIB_NAMES,
    ObjectError,
    ObjectInfo,
    ObjectMissing,
    SourceChanged,
    file_hash,
)
from backup.targets.rclone.paths import info_of, line_break
from backup.targets.rclone.process import Ran, RcloneProcess, log_lines, reap, reason_of


class Digest(NamedTuple):
    """A file's size and hashes (``sha256`` and the remote's hash type), from one read."""

    size: int
    hashes: dict[str, str]


class RcloneChecks(RcloneProcess):
    """The hashing and checking calls of a target (``RcloneTarget`` sets the two settings)."""

    hash_type: str | None
    """The remote's hash used for checks and listings; None when it has none."""
    download_check: bool
    """Whether uploads to a remote without a hash are checked by downloading them."""

    def _digest(self, chunks: Iterable[bytes]) -> Digest:
        """SHA-256 and the remote's hash type of the bytes, read once."""
        sha = hashlib.sha256()
        name = self.hash_type
        extra = hashlib.new(HASHLIB_NAMES[name]) if name in HASHLIB_NAMES and name != "sha256" else None
        proc: subprocess.Popen[bytes] | None = None
        if name is not None and name not in HASHLIB_NAMES:
            proc = subprocess.Popen(
                self._argv("hashsum", [], [name, "-"]),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            with self._lock:
                self._procs.add(proc)
        size = 0
        try:
            for chunk in chunks:
                sha.update(chunk)
                size += len(chunk)
                if extra is not None:
                    extra.update(chunk)
                if proc is not None and proc.stdin is not None:
                    try:
                        proc.stdin.write(chunk)
                    except BrokenPipeError:
                        pass
            hashes = {"sha256": sha.hexdigest()}
            if extra is not None and name is not None:
                hashes[name] = extra.hexdigest()
            if proc is not None and name is not None:
                out, err = proc.communicate()
                ran = Ran(proc.returncode, out, log_lines(err.decode("utf-8", "replace")))
                if ran.code != 0 or not out.split():
                    raise self._error(ran)
                hashes[name] = out.split()[0].decode().lower()
        finally:
            if proc is not None:
                reap(proc)
                with self._lock:
                    self._procs.discard(proc)
        return Digest(size, hashes)

    def _digest_file(self, src: Path) -> Digest:
        def chunks() -> Iterator[bytes]:
            with open(src, "rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk

        try:
            return self._digest(chunks())
        except FileNotFoundError:
            raise ObjectError(f"{src}: vanished before it could be backed up") from None
        except OSError as exc:
            raise ObjectError(f"{src}: cannot read it ({exc.strerror or exc})") from exc

    def local_hash(self, name: str, path: Path) -> str:
        if name in HASHLIB_NAMES:
            return file_hash(name, path)
        with open(path, "rb") as f:
            argv = self._argv("hashsum", [], [name, "-"])
            proc = subprocess.run(argv, stdin=f, capture_output=True, check=False)
        ran = Ran(proc.returncode, proc.stdout, log_lines(proc.stderr.decode("utf-8", "replace")))
        if ran.code != 0 or not ran.out.split():
            raise ObjectError(f"{self.name}: cannot compute {name} of {path}: {reason_of(ran.logs)}")
        return ran.out.split()[0].decode().lower()

    # -- checking what was stored -----------------------------------------------------------

    def _stat_path(self, remote_path: str, key: str, *, hashes: bool = False) -> ObjectInfo | None:
        flags = ["--stat", "--no-mimetype"]
        if hashes and self.hash_type:
            flags += ["--hash", f"--hash-type={self.hash_type}"]
        ran = self._run("lsjson", flags, [remote_path])
        if ran.code in (3, 4):
            return None
        if ran.code != 0:
            err = self._error(ran, key)
            if isinstance(err, ObjectMissing):
                return None
            raise err
        try:
            item = json.loads(ran.out)
        except ValueError:
            raise ObjectError(f"{self.name}: {key}: rclone gave no listing") from None
        if not isinstance(item, dict) or item.get("IsDir"):
            return None
        return info_of(key, item)

    def _download_sha256(self, remote_paths: Sequence[str], folder: str) -> dict[str, str]:
        """SHA-256 of remote objects by downloading them: {relative path: hex}."""
        with tempfile.TemporaryDirectory(prefix="keepmark-rclone-") as tmp:
            listing = Path(tmp) / "files"
            listing.write_bytes(
                "".join(rel + "\n" for rel in remote_paths).encode("utf-8", "surrogateescape")
            )
            ran = self._run("hashsum", ["--download", f"--files-from-raw={listing}"], ["sha256", folder])
        if ran.code not in (0, 3, 4):
            whole = self._target_error(ran)
            if whole is not None:
                raise whole
        found = {}
        for line in ran.out.decode("utf-8", "surrogateescape").split("\n"):
            value, sep, rel = line.partition("  ")
            if sep:
                found[rel] = value.lower()
        return found

    def _mismatch(self, info: ObjectInfo | None, digest: Digest, downloaded: str | None) -> str | None:
        """Why ``info`` is not the bytes ``digest`` describes, or None when it is."""
        if info is None:
            return "not there after the upload"
        if info.size >= 0 and info.size != digest.size:
            return f"{info.size} bytes stored, {digest.size} sent"
        name = self.hash_type
        if name and info.hashes.get(name):
            if info.hashes[name] != digest.hashes.get(name):
                return f"{name} differs"
            return None
        if downloaded is not None and downloaded != digest.hashes["sha256"]:
            return "sha256 of the downloaded copy differs"
        return None

    def _needs_download(self, info: ObjectInfo | None) -> bool:
        return (
            self.download_check
            and info is not None
            and not (self.hash_type and info.hashes.get(self.hash_type))
        )

    def _check_one(self, key: str, remote_path: str, digest: Digest, src: Path | None, sha256: str) -> None:
        """Raise (after removing it) if the object at ``remote_path`` is not what was sent."""
        if self.hash_type is None and self.download_check:
            got = self._download_one(remote_path)
            problem = None
            if got is None:
                problem = "not there after the upload"
            elif got != digest.hashes["sha256"]:
                problem = "sha256 of the downloaded copy differs"
        else:
            info = self._stat_path(remote_path, key, hashes=True)
            downloaded = self._download_one(remote_path) if self._needs_download(info) else None
            problem = self._mismatch(info, digest, downloaded)
        if problem is not None:
            self._remove(remote_path)
            raise self._bad_copy(key, src, sha256, problem)

    def _download_one(self, remote_path: str) -> str | None:
        """SHA-256 of one remote object by downloading it; None when it is not there."""
        if line_break(remote_path):
            with tempfile.TemporaryDirectory(prefix="keepmark-rclone-") as tmp:
                try:
                    return file_hash("sha256", self._fetch(remote_path, remote_path, Path(tmp)))
                except ObjectError:
                    return None
        ran = self._run("hashsum", ["--download"], ["sha256", remote_path])
        if ran.code != 0:
            whole = self._target_error(ran)
            if whole is not None:
                raise whole
            return None
        first = ran.out.split(b"\n", 1)[0].split()
        return first[0].decode().lower() if first else None

    def _bad_copy(self, key: str, src: Path | None, sha256: str, problem: str) -> ObjectError:
        if src is not None:
            try:
                now = file_hash("sha256", src)
            except OSError:
                now = ""
            if now != sha256:
                return SourceChanged(f"{src}: changed while it was being backed up; run again to back it up")
        return ObjectError(
            f"{self.name}: {key}: the stored copy did not match what was sent ({problem}); removed it"
        )

    def _remove(self, remote_path: str) -> None:
        self._run("deletefile", ["--retries=1"], [remote_path])

    def _fetch(self, remote_path: str, key: str, folder: Path) -> Path:
        """Download one object into ``folder`` with ``rclone copyto``; its local path."""
        local = folder / "object"
        ran = self._run("copyto", [], [remote_path, str(local)], transfer=True)
        if ran.code != 0:
            raise self._error(ran, key)
        if not local.is_file():
            raise ObjectMissing(f"{key}: not on {self.name}")
        return local
