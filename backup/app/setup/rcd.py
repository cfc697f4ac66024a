"""rclone's remote control (``rclone rcd``), for one job: making an rclone remote without a
secret on a command line.

``rclone config create NAME TYPE pass=SECRET`` would show the password to anyone who lists the
processes (``ps``); rclone takes options from no file nor standard input there, and its
environment variables (``RCLONE_WEBDAV_PASS``...) are read when a remote is used, never written
into the config. Its remote control takes them in the body of an HTTP request: ``RcServer``
starts ``rclone rcd`` on a free loopback port, its user name and password (random, made here)
given in the environment (``RCLONE_RC_USER``, ``RCLONE_RC_PASS``), not on the command line; the
requests go to 127.0.0.1 with that login; the server is stopped when done. It reads the rclone
config the creator's rclone reads (``RCLONE_CONFIG`` or its default place; an encrypted config
with ``RCLONE_CONFIG_PASS`` in the environment).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from backup.targets.base import TargetError
from backup.targets.rclone.process import log_lines, reason_of

_SERVING = re.compile(r"Serving remote control on http://127\.0\.0\.1:(\d+)/")
_START_WAIT = 20.0
_CALL_WAIT = 120.0


class RcError(Exception):
    """rclone answered a call with an error (its own words in the message)."""


class RcServer:
    """``with RcServer(binary) as rc: rc.call("config/listremotes", {})``."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self.user = secrets.token_hex(12)
        self.password = secrets.token_urlsafe(24)
        self.port = 0
        self._folder = Path(tempfile.mkdtemp(prefix="keepmark-rcd-"))
        self._log_path = self._folder / "rcd.log"
        self._log: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RcServer:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _start(self) -> None:
        env = {**os.environ, "RCLONE_RC_USER": self.user, "RCLONE_RC_PASS": self.password}
        argv = [
            str(self.binary),
            "rcd",
            "--rc-addr=127.0.0.1:0",
            "--rc-no-auth=false",
            "--rc-serve=false",
            "--rc-web-gui=false",
            "--use-json-log",
            "--ask-password=false",
        ]
        self._log = open(self._log_path, "wb")  # noqa: SIM115 - closed by stop()
        try:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env
            )
        except OSError as exc:
            raise TargetError(f"cannot run {self.binary} ({exc.strerror or exc})") from None
        deadline = time.monotonic() + _START_WAIT
        while True:
            text = self._log_path.read_text(encoding="utf-8", errors="replace")
            found = _SERVING.search(text)
            if found:
                self.port = int(found.group(1))
                return
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise TargetError(f"rclone rcd did not start: {reason_of(log_lines(text))}")
            time.sleep(0.02)

    def call(self, command: str, params: dict[str, Any]) -> dict[str, Any]:
        """The answer to ``command`` (``config/create``...) with ``params``; ``RcError`` with
        rclone's reason when it refuses, ``TargetError`` when it cannot be asked."""
        login = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=_CALL_WAIT)
        try:
            conn.request(
                "POST",
                f"/{command}",
                body=json.dumps(params).encode("utf-8"),
                headers={"Content-Type": "application/json", "Authorization": f"Basic {login}"},
            )
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise TargetError(f"rclone rcd {command}: {exc}") from None
        finally:
            conn.close()
        try:
            answer = json.loads(body) if body.strip() else {}
        except ValueError:
            answer = {"error": body.decode("utf-8", "replace")[:300]}
        if not isinstance(answer, dict):
            answer = {"result": answer}
        if response.status != 200:
            raise RcError(" ".join(str(answer.get("error") or f"HTTP {response.status}").split()))
        return answer

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self._folder, ignore_errors=True)
