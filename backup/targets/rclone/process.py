"""Running rclone for one target, and reading what it says.

Every call is a ``subprocess`` argument list (never a shell): ``rclone COMMAND FLAGS -- ARGS``,
so that paths, keys and remote names only ever come after the ``--`` and are never parsed by a
shell or taken for a flag. rclone logs as JSON (``--use-json-log``); a failed call is turned
into the target's errors by the phrases of its log (``RcloneProcess._error``). Processes that
outlive a call (``cat`` for reading, ``hashsum`` fed through stdin, a copy reporting progress)
are tracked so that ``close()`` stops them."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from backup.targets.base import (
    Locked,
    ObjectError,
    ObjectMissing,
    Progress,
    TargetError,
    TargetFull,
    Unavailable,
    check_key,
)
from backup.targets.rclone.binary import find_rclone
from backup.targets.rclone.paths import remote_name, root_of
from inventory.atomic import TMP_SUFFIX

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


class Log(NamedTuple):
    """One line of rclone's log: its level, message and the object it is about (if any)."""

    level: str
    msg: str
    obj: str | None


def log_lines(stderr: str) -> list[Log]:
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
            lines.append(Log(str(rec.get("level", "")), str(rec.get("msg", "")), obj if obj else None))
        else:
            lines.append(Log("", line, None))
    return lines


def reason_of(logs: Sequence[Log]) -> str:
    """The one line that best says why rclone failed."""
    msgs = [x.msg for x in logs if not any(n in x.msg.lower() for n in _NOISE)]
    errors = [x.msg for x in logs if x.level in ("error", "critical")]
    failed = [m for m in msgs if m.startswith("Failed to")]
    pick = errors[-1] if errors else failed[-1] if failed else msgs[-1] if msgs else "rclone failed"
    pick = re.sub(r"^Attempt \d+/\d+ failed with \d+ errors and: ", "", pick)
    pick = " ".join(pick.split())
    return pick if len(pick) <= 300 else pick[:297] + "..."


class Ran(NamedTuple):
    """A finished rclone call: exit status, standard output and log."""

    code: int
    out: bytes
    logs: list[Log]


class RcloneProcess:
    """The rclone calls of one target: the binary, the flags every call gets, the processes
    running, and the target's errors from rclone's log."""

    def __init__(
        self,
        name: str,
        remote: str,
        profile: str,
        *,
        rclone: Path | None,
        contimeout: float,
        timeout: float,
        retries: int,
        low_level_retries: int,
        transfers: int,
        extra_flags: Sequence[str],
    ) -> None:
        if ":" not in remote:
            raise TargetError(f"{name}: {remote!r} is not an rclone remote; write it as remote-name:folder")
        self.name = name
        self.remote = remote
        self.root = root_of(remote, profile)
        self.remote_name = remote_name(remote)
        self.rclone = rclone
        self.contimeout = contimeout
        self.timeout = timeout
        self.retries = retries
        self.low_level_retries = low_level_retries
        self.transfers = transfers
        self.extra_flags = tuple(extra_flags)
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def _path(self, key: str) -> str:
        """The remote path of ``key``."""
        return f"{self.root}/{check_key(key)}"

    def _dir(self, rel: str) -> str:
        """The remote path of the folder ``rel`` (the root for "")."""
        return f"{self.root}/{rel}" if rel else self.root

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
    ) -> Ran:
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
        return Ran(proc.returncode, proc.stdout, log_lines(proc.stderr.decode("utf-8", "replace")))

    def _transfer(
        self, command: str, flags: Sequence[str], args: Sequence[str], progress: Progress | None, total: int
    ) -> Ran:
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
        return Ran(code, b"", log_lines("".join(lines)))

    def _tracked(self, proc: subprocess.Popen[bytes]) -> _Tracked:
        return _Tracked(self, proc)

    def _target_error(self, ran: Ran) -> TargetError | None:
        """The problem with the whole target a failed call shows, if it shows one."""
        text = " ".join(x.msg for x in ran.logs).lower()
        reason = reason_of(ran.logs)
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

    def _error(self, ran: Ran, key: str = "") -> Exception:
        """The exception for a failed rclone call about ``key`` (or about the whole target)."""
        whole = self._target_error(ran)
        if whole is not None:
            return whole
        text = " ".join(x.msg for x in ran.logs).lower()
        reason = reason_of(ran.logs)
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

    def close(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            reap(proc)


def reap(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``proc`` if it still runs, close its pipes and wait for it."""
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

    def __init__(self, target: RcloneProcess, proc: subprocess.Popen[bytes]) -> None:
        self.target = target
        self.proc = proc

    def __enter__(self) -> None:
        with self.target._lock:
            self.target._procs.add(self.proc)

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            reap(self.proc)
        with self.target._lock:
            self.target._procs.discard(self.proc)
