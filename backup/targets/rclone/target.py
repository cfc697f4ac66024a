"""The rclone target: a remote from the creator's rclone.conf, with the profile's objects under
``<remote>/<profile>/``. See the package docstring for what it promises."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from backup.targets.base import (
    ObjectInfo,
    ObjectMissing,
    Progress,
    TargetError,
    UploadItem,
    check_key,
)
from backup.targets.rclone.batch import put_batch
from backup.targets.rclone.paths import hidden, info_of, join, temp_key
from backup.targets.rclone.reading import open_object
from backup.targets.rclone.uploads import RcloneUploads

# The remote's hash used for checks and listings: the first of these the remote offers.
HASH_PREFERENCE = (
    "sha256",
    "sha1",
    "md5",
    "quickxor",
    "dropbox",
    "sha512",
    "blake3",
    "xxh128",
    "whirlpool",
    "hidrive",
    "mailru",
    "xxh3",
    "crc32",
)
# Remote types whose servers may write an upload in place under its final name.
STAGED_TYPES = frozenset({"webdav"})


class RcloneTarget(RcloneUploads):
    """An rclone remote, with the profile's objects under ``<remote>/<profile>/``. It also has
    ``put_files`` (``base.BatchUpload``, see ``batch``).

    ``list(hashes=True)`` gives the remote's preferred hash (``hash_type``: SHA-256, SHA-1, MD5,
    QuickXor, Dropbox... whichever it offers first), or none when the remote has no hash.
    Timeouts and retries are rclone's ``--contimeout``, ``--timeout``, ``--retries`` and
    ``--low-level-retries`` (the defaults suit cloud services); ``staged`` (default: WebDAV
    remotes) uploads under a temporary name and moves it into place; ``download_check`` checks
    uploads to remotes without hashes by downloading them; ``hash_type`` picks the remote's hash;
    ``extra_flags`` go to every rclone call."""

    opens_quickly = False  # a helper process, and for most remotes the network

    def __init__(
        self,
        name: str,
        remote: str,
        profile: str,
        *,
        rclone: Path | None = None,
        contimeout: float = 60.0,
        timeout: float = 300.0,
        retries: int = 3,
        low_level_retries: int = 10,
        transfers: int = 4,
        staged: bool | None = None,
        download_check: bool = True,
        hash_type: str | None = None,
        extra_flags: Sequence[str] = (),
    ) -> None:
        super().__init__(
            name,
            remote,
            profile,
            rclone=rclone,
            contimeout=contimeout,
            timeout=timeout,
            retries=retries,
            low_level_retries=low_level_retries,
            transfers=transfers,
            extra_flags=extra_flags,
        )
        self.staged = staged
        self.download_check = download_check
        self.remote_type: str | None = None
        self.remote_hashes: tuple[str, ...] = ()
        self.hash_type = hash_type
        self._wanted_hash = hash_type

    def describe(self) -> str:
        return f"rclone {self.root}"

    def hash_names(self) -> tuple[str, ...]:
        """Every hash type the remote offers (known after ``open_session``)."""
        return self.remote_hashes

    # -- session ----------------------------------------------------------------------------

    def open_session(self) -> None:
        if self.remote_name is not None:
            types = self._remote_types()
            if self.remote_name not in types:
                raise TargetError(
                    f"{self.name}: no rclone remote named {self.remote_name!r} in {self._config_file()}; "
                    f"run `rclone config` to add it"
                )
            self.remote_type = types[self.remote_name]
        else:
            self.remote_type = self.remote[1:].split(":", 1)[0].split(",", 1)[0]
        ran = self._run("backend", [], ["features", self.root])
        if ran.code != 0:
            raise self._error(ran)
        try:
            features = json.loads(ran.out)
        except ValueError:
            raise TargetError(f"{self.name}: rclone gave no feature list for {self.root}") from None
        self.remote_hashes = tuple(str(h).lower() for h in features.get("Hashes") or ())
        if self._wanted_hash is not None:
            if self._wanted_hash not in self.remote_hashes:
                offered = ", ".join(self.remote_hashes) or "none"
                raise TargetError(
                    f"{self.name}: {self.root} has no {self._wanted_hash} hash (it offers {offered})"
                )
            self.hash_type = self._wanted_hash
        else:
            self.hash_type = next((h for h in HASH_PREFERENCE if h in self.remote_hashes), None)
            if self.hash_type is None and self.remote_hashes:
                self.hash_type = self.remote_hashes[0]
        if self.staged is None:
            partial = bool((features.get("Features") or {}).get("PartialUploads"))
            self.staged = not partial and self.remote_type in STAGED_TYPES
        ran = self._run("mkdir", [], [self.root])
        if ran.code != 0:
            raise self._error(ran)

    def _remote_types(self) -> dict[str, str]:
        ran = self._run("listremotes", ["--json"], [])
        if ran.code == 0:
            try:
                return {str(r["name"]): str(r.get("type", "")) for r in json.loads(ran.out)}
            except (ValueError, KeyError, TypeError):
                pass
        ran = self._run("listremotes", ["--long"], [])
        if ran.code != 0:
            raise self._error(ran)
        types = {}
        for line in ran.out.decode("utf-8", "replace").splitlines():
            head, _, kind = line.rpartition(":")
            if head:
                types[head] = kind.strip()
        return types

    # -- verbs ------------------------------------------------------------------------------

    def stat(self, key: str) -> ObjectInfo | None:
        return self._stat_path(self._path(key), key)

    def list(self, prefix: str, *, hashes: bool = False) -> Iterator[ObjectInfo]:
        folder = prefix.rpartition("/")[0]
        if folder:
            check_key(folder)
        flags = ["-R", "--files-only", "--no-mimetype", "--fast-list"]
        if hashes and self.hash_type:
            flags += ["--hash", f"--hash-type={self.hash_type}"]
        ran = self._run("lsjson", flags, [self._dir(folder)])
        if ran.code in (3, 4):
            return
        if ran.code != 0:
            err = self._error(ran)
            if isinstance(err, ObjectMissing):
                return
            raise err
        try:
            items = json.loads(ran.out)
        except ValueError:
            raise TargetError(
                f"{self.name}: rclone gave an unreadable listing of {self._dir(folder)}"
            ) from None
        infos = []
        for item in items:
            rel = str(item.get("Path", ""))
            key = join(folder, rel)
            if item.get("IsDir") or hidden(rel) or not key.startswith(prefix):
                continue
            infos.append(info_of(key, item))
        infos.sort(key=lambda i: i.key)
        yield from infos

    def open(self, key: str) -> IO[bytes]:
        return open_object(self, self._path(key), key)

    def copy(self, src_key: str, dst_key: str) -> None:
        src = self._path(src_key)
        dst = self._path(dst_key)
        if self._stat_path(src, src_key) is None:
            raise ObjectMissing(f"{src_key}: not on {self.name}")
        if not self.staged:
            ran = self._run("copyto", [], [src, dst], transfer=True)
            if ran.code != 0:
                raise self._error(ran, src_key)
            return
        tmp = self._path(temp_key(dst_key))
        try:
            ran = self._run("copyto", [], [src, tmp], transfer=True)
            if ran.code != 0:
                raise self._error(ran, src_key)
            self._commit(dst_key, tmp, dst)
        except BaseException:
            self._remove(tmp)
            raise

    def delete(self, key: str) -> None:
        ran = self._run("deletefile", ["--retries=1"], [self._path(key)])
        if ran.code == 0:
            return
        err = self._error(ran, key)
        if not isinstance(err, ObjectMissing):
            raise err

    def put_files(
        self, items: Sequence[UploadItem], progress: Progress | None = None
    ) -> dict[str, Exception | None]:
        """Upload many files with few rclone processes (see ``batch``)."""
        return put_batch(self, items, progress)
