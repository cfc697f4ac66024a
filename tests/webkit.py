"""``backup ui`` in a subprocess, and a plain HTTP client for it (http.client: no cookies, no
redirects followed, every header as sent)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HANG = 60  # seconds without exiting after SIGTERM that count as a hang
START = 60  # seconds for the first line


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Ui:
    """A running ``backup ui``: what its first line said, its process, where its stderr goes."""

    proc: subprocess.Popen[bytes]
    url: str
    port: int
    pid: int
    err: Path
    out: Path

    @property
    def token(self) -> str:
        return self.url.split("token=", 1)[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | str | None = None,
        host: str = "127.0.0.1",
    ) -> Answer:
        conn = http.client.HTTPConnection(host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            found: dict[str, list[str]] = {}
            for k, v in r.getheaders():
                found.setdefault(k.lower(), []).append(v)
            return Answer(r.status, found, r.read())
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> Answer:
        return self.request("GET", path, **kw)

    def bearer(self, path: str, method: str = "GET", **kw: Any) -> Answer:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return self.request(method, path, headers=headers, **kw)

    def stop(self) -> int:
        """SIGTERM; the exit code (a minute without exiting is a hang, reported with stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(HANG)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        raise AssertionError(f"backup ui did not exit {HANG} s after SIGTERM:\n{self.stderr()[-4000:]}")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def stdout_after_first_line(self) -> bytes:
        return self.out.read_bytes().split(b"\n", 1)[1]


def start_ui(home: Path, *args: str, env: dict[str, str] | None = None) -> Ui:
    """``backup ui --no-browser --json ARGS...`` with ``home``; returns once its first line is in
    (its stdout and stderr go to files beside ``home``)."""
    stem = home.parent / f"ui-{time.monotonic_ns()}"
    out, err = stem.with_suffix(".out"), stem.with_suffix(".err")
    with open(out, "wb") as out_file, open(err, "wb") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backup", "ui", "--no-browser", "--json", *args],
            stdin=subprocess.DEVNULL,
            stdout=out_file,
            stderr=err_file,
            env={**os.environ, "KEEPMARK_HOME": str(home), **(env or {})},
        )
    deadline = time.monotonic() + START
    while b"\n" not in out.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.kill()
            proc.wait(HANG)
            text = err.read_text(errors="replace")
            raise AssertionError(f"backup ui printed no line (exit {proc.returncode}):\n{text}")
        time.sleep(0.02)
    doc = json.loads(out.read_bytes().split(b"\n", 1)[0])
    assert set(doc) == {"url", "port", "pid"}, doc
    return Ui(proc, doc["url"], doc["port"], doc["pid"], err, out)


@contextmanager
def running_ui(home: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Ui]:
    """``start_ui``; on leaving, SIGTERM, and it must exit 0 (its stderr is in the failure)."""
    ui = start_ui(home, *args, env=env)
    try:
        yield ui
    finally:
        code = ui.stop()
    assert code == 0, f"backup ui exited {code} after SIGTERM:\n{ui.stderr()}"


def session_of(ui: Ui) -> tuple[str, str]:
    """Exchange the URL's token for a session: (the Cookie header to send, the page's CSRF token)."""
    first = ui.get("/?token=" + ui.token)
    assert first.status == 303, first
    cookie = (first.header("set-cookie") or "").split(";", 1)[0]
    page = ui.get("/", headers={"Cookie": cookie})
    marker = 'data-csrf="'
    assert marker in page.text, page.text[:500]
    csrf = page.text.split(marker, 1)[1].split('"', 1)[0]
    return cookie, csrf
