"""``backup ui`` in a subprocess, and a plain HTTP client for it (http.client: no cookies, no
redirects followed, every header as sent)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANG = 60  # seconds without exiting after SIGTERM that count as a hang


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
    """A running ``backup ui``: its first line, its process, what it wrote on stderr."""

    proc: subprocess.Popen[bytes]
    url: str
    port: int
    pid: int
    err: list[bytes] = field(default_factory=list)

    @property
    def token(self) -> str:
        return self.url.split("token=", 1)[1]

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
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(HANG)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"backup ui did not exit {HANG} s after SIGTERM: {self.stderr()}") from None
        return code

    def stderr(self) -> str:
        return b"".join(self.err).decode("utf-8", "replace")


def start_ui(home: Path, *args: str, env: dict[str, str] | None = None) -> Ui:
    """``backup ui --no-browser --json ARGS...`` with ``home``; returns once its first line is in."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "backup", "ui", "--no-browser", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "KEEPMARK_HOME": str(home), **(env or {})},
    )
    err: list[bytes] = []
    assert proc.stderr is not None and proc.stdout is not None
    threading.Thread(target=lambda: err.extend(iter(proc.stderr.readline, b"")), daemon=True).start()  # type: ignore[union-attr]
    first = proc.stdout.readline()
    if not first:
        proc.wait(HANG)
        raise AssertionError(f"backup ui printed nothing (exit {proc.returncode}): {b''.join(err).decode()}")
    doc = json.loads(first)
    assert set(doc) == {"url", "port", "pid"}, doc
    return Ui(proc, doc["url"], doc["port"], doc["pid"], err)


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
