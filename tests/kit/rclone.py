"""rclone remotes on loopback, as a pytest plugin: real ``rclone serve webdav`` and ``rclone
serve sftp`` processes for the session, an rclone.conf of their own (``RCLONE_CONFIG``, with
obscured passwords), and ``RcloneTarget`` fixtures on fresh folders of each remote.

Remotes in the config: ``local`` (type local; use ``remotes.local``, which carries its folder),
``webdav`` (vendor rclone), ``webdav-plain`` (vendor other), ``sftp`` (host key pinned) and
``dead`` (an SFTP server nobody runs). ``rclone_remotes.folder(remote)`` is the folder on disk
behind a remote string, so tests can look at what was really stored."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from backup.targets.base import TargetError
from backup.targets.rclone import RcloneTarget, find_rclone
from tests.kit.ports import answers_http, answers_ssh, refused_port, start_on_free_port

PROFILE = "lily"
# Short timeouts so that a dead server fails a call within seconds.
FAST = {"contimeout": 3.0, "timeout": 20.0, "retries": 2, "low_level_retries": 3}


def obscure(rclone: Path, secret: str) -> str:
    """``rclone obscure``: how rclone.conf holds a password (the secret goes in on stdin)."""
    proc = subprocess.run(
        [str(rclone), "obscure", "-"], input=secret.encode(), capture_output=True, check=True, timeout=30
    )
    return proc.stdout.decode().strip()


@dataclass
class Server:
    """One ``rclone serve`` process and the folder it serves."""

    kind: str
    proc: subprocess.Popen[bytes]
    port: int
    folder: Path
    log: Path
    log_file: IO[bytes]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


@dataclass
class RcloneRemotes:
    """The configured remotes. Attributes are remote strings for a profile's ``remote =``."""

    rclone: Path
    config_path: Path
    local_dir: Path
    webdav_dir: Path
    sftp_dir: Path
    webdav_port: int
    sftp_port: int
    user: str
    password: str
    servers: dict[str, Server] = field(default_factory=dict)

    @property
    def local(self) -> str:
        return f"local:{self.local_dir}"

    webdav = "webdav:"
    webdav_plain = "webdav-plain:"
    sftp = "sftp:"
    dead = "dead:"

    def fresh(self, kind: str) -> str:
        """A remote string on a new, empty folder of ``kind`` (local, webdav, webdav_plain, sftp)."""
        sub = f"t-{secrets.token_hex(5)}"
        base = {"local": self.local, "webdav": "webdav:", "webdav_plain": "webdav-plain:", "sftp": "sftp:"}[
            kind
        ]
        return f"{base}/{sub}" if kind == "local" else f"{base}{sub}"

    def folder(self, remote: str) -> Path:
        """The folder on disk behind ``remote`` (one of this kit's remotes)."""
        name, _, path = remote.partition(":")
        if name == "local":
            return Path(path)
        root = {"webdav": self.webdav_dir, "webdav-plain": self.webdav_dir, "sftp": self.sftp_dir}[name]
        return root / path.strip("/") if path.strip("/") else root

    def target(self, kind: str, *, name: str | None = None, **options: object) -> RcloneTarget:
        """An opened RcloneTarget for profile ``lily`` on a fresh folder of ``kind``."""
        opts: dict[str, object] = {**FAST, **options}
        t = RcloneTarget(
            name or f"rclone-{kind}",
            remote=self.fresh(kind),
            profile=PROFILE,
            rclone=self.rclone,
            **opts,  # type: ignore[arg-type]
        )
        t.open_session()
        return t


def _die_with_parent() -> None:
    """On Linux, have the server killed if the test process dies without stopping it."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def serve(rclone: Path, kind: str, folder: Path, work: Path, flags: list[str]) -> Server:
    """Start ``rclone serve KIND`` on a free port and wait until it answers."""
    return start_on_free_port(
        lambda port: _serve(rclone, kind, folder, port, work, flags),
        answers_ssh if kind == "sftp" else answers_http("OPTIONS", "/"),
        f"rclone serve {kind}",
    )


def _serve(rclone: Path, kind: str, folder: Path, port: int, work: Path, flags: list[str]) -> Server:
    folder.mkdir(parents=True, exist_ok=True)
    log = work / f"serve-{kind}-{port}.log"
    log_file = open(log, "wb")  # noqa: SIM115 - closed by Server.stop
    env = {**os.environ, "RCLONE_CONFIG": str(work / "serve.conf")}
    argv = [str(rclone), "serve", kind, *flags, f"--addr=127.0.0.1:{port}", "--", str(folder)]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=log_file,
        env=env,
        preexec_fn=_die_with_parent if os.name == "posix" else None,
    )
    return Server(kind, proc, port, folder, log, log_file)


@pytest.fixture(scope="session")
def rclone_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RcloneRemotes]:
    """The served remotes and their config, for the whole session."""
    try:
        rclone = find_rclone()
    except TargetError as exc:
        pytest.skip(str(exc))
    work = tmp_path_factory.mktemp("rclone-kit")
    (work / "serve.conf").write_text("")
    (work / "no-authorized-keys").write_text("")
    user, password = "lily", secrets.token_urlsafe(12)
    auth = [f"--user={user}", f"--pass={password}"]
    servers: dict[str, Server] = {}
    try:
        servers["webdav"] = serve(rclone, "webdav", work / "webdav-served", work, auth)
        servers["sftp"] = serve(
            rclone,
            "sftp",
            work / "sftp-served",
            work,
            [
                *auth,
                f"--cache-dir={work / 'sftp-cache'}",
                f"--authorized-keys={work / 'no-authorized-keys'}",
            ],
        )
        remotes = RcloneRemotes(
            rclone=rclone,
            config_path=work / "config" / "rclone.conf",
            local_dir=work / "local-remote",
            webdav_dir=servers["webdav"].folder,
            sftp_dir=servers["sftp"].folder,
            webdav_port=servers["webdav"].port,
            sftp_port=servers["sftp"].port,
            user=user,
            password=password,
            servers=servers,
        )
        remotes.local_dir.mkdir()
        write_config(remotes, work)
        yield remotes
    finally:
        for server in servers.values():
            server.stop()


def write_config(remotes: RcloneRemotes, work: Path) -> None:
    """rclone.conf for the served remotes, with passwords obscured and the SFTP host key pinned."""
    rclone = remotes.rclone
    pw = obscure(rclone, remotes.password)
    keys = sorted((work / "sftp-cache" / "serve-sftp").glob("*.pub"))
    known_hosts = work / "config" / "known_hosts"
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    known_hosts.write_text(
        "".join(f"[127.0.0.1]:{remotes.sftp_port} {' '.join(k.read_text().split()[:2])}\n" for k in keys)
    )
    sftp_common = (
        f"user = {remotes.user}\npass = {pw}\nshell_type = unix\n"
        "md5sum_command = md5sum\nsha1sum_command = sha1sum\n"
    )
    remotes.config_path.write_text(
        "[local]\ntype = local\n\n"
        f"[webdav]\ntype = webdav\nurl = http://127.0.0.1:{remotes.webdav_port}/\nvendor = rclone\n"
        f"user = {remotes.user}\npass = {pw}\n\n"
        f"[webdav-plain]\ntype = webdav\nurl = http://127.0.0.1:{remotes.webdav_port}/\nvendor = other\n"
        f"user = {remotes.user}\npass = {pw}\n\n"
        f"[sftp]\ntype = sftp\nhost = 127.0.0.1\nport = {remotes.sftp_port}\n{sftp_common}"
        f"known_hosts_file = {known_hosts}\n\n"
        f"[dead]\ntype = sftp\nhost = 127.0.0.1\nport = {refused_port()}\n{sftp_common}"
        f"known_hosts_file = {known_hosts}\n"
    )


@pytest.fixture
def rclone_remotes(rclone_servers: RcloneRemotes, monkeypatch: pytest.MonkeyPatch) -> RcloneRemotes:
    """The session's remotes, with ``RCLONE_CONFIG`` pointing at their rclone.conf for this test
    (and for the processes it starts)."""
    monkeypatch.setenv("RCLONE_CONFIG", str(rclone_servers.config_path))
    return rclone_servers


def _target(remotes: RcloneRemotes, kind: str) -> Iterator[RcloneTarget]:
    t = remotes.target(kind)
    try:
        yield t
    finally:
        t.close()


@pytest.fixture
def rclone_local_target(rclone_remotes: RcloneRemotes) -> Iterator[RcloneTarget]:
    yield from _target(rclone_remotes, "local")


@pytest.fixture
def rclone_webdav_target(rclone_remotes: RcloneRemotes) -> Iterator[RcloneTarget]:
    yield from _target(rclone_remotes, "webdav")


@pytest.fixture
def rclone_sftp_target(rclone_remotes: RcloneRemotes) -> Iterator[RcloneTarget]:
    yield from _target(rclone_remotes, "sftp")
