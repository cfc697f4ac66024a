"""Loopback ports for the test servers, and the one way a test waits for a server it started:
``start_on_free_port`` with a readiness probe (``answers_http``, ``answers_ssh``)."""

from __future__ import annotations

import http.client
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

_HELD: list[socket.socket] = []


def free_port() -> int:
    """A port nothing listens on now (a server started on it should retry if it is taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def refused_port() -> int:
    """A port that refuses connections for the whole session: bound, never listening, and held,
    so no server the tests start later can take it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    _HELD.append(s)
    port: int = s.getsockname()[1]
    return port


def free_ports(count: int) -> list[int]:
    """``count`` different free ports."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


class Started(Protocol):
    """A server process the tests started: its port, process and log."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None: ...


S = TypeVar("S", bound=Started)


def answers_http(method: str = "GET", path: str = "/", status: int | None = None) -> Callable[[int], bool]:
    """A readiness probe: whether the server on a port answers ``method path`` over HTTP (with
    ``status``, when one is given)."""

    def answers(port: int) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            response.read()
            return status is None or response.status == status
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    return answers


def answers_ssh(port: int) -> bool:
    """A readiness probe: whether the server on ``port`` greets with an SSH banner."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def start_on_free_port(
    start: Callable[[int], S], answers: Callable[[int], bool], what: str, timeout: float = 30.0
) -> S:
    """``start(port)`` on a free port, then wait until ``answers(port)``. A server that exits
    before it answers (the port was taken meanwhile) is started again on another port."""
    for attempt in range(3):
        server = start(free_port())
        deadline = time.monotonic() + timeout
        while server.proc.poll() is None and time.monotonic() < deadline:
            if answers(server.port):
                return server
            time.sleep(0.05)
        exited = server.proc.poll() is not None
        server.stop()
        if attempt == 2 or not exited:
            raise RuntimeError(f"{what} did not start: {server.log.read_text(errors='replace')[-2000:]}")
    raise AssertionError("unreachable")
