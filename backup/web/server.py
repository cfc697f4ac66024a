"""Serving the app: a socket bound before anything is printed (so the first line's URL works at
once), uvicorn on it until Ctrl-C or SIGTERM, and the browser opened on the URL."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backup.errors import UsageError
from backup.web.security import Guard, is_loopback

SHUTDOWN_GRACE = 2  # seconds open event streams get to end when the app stops


@dataclass
class Serving:
    url: str
    port: int
    pid: int

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "port": self.port, "pid": self.pid}


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets that
    # say they are TCP; without it every answer on a kept-alive connection waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if os.name != "nt":  # on Windows this would let a second server take the same port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = "already in use" if port else (exc.strerror or str(exc))
        raise UsageError(f"cannot listen on {host}:{port}: {why}; choose another with --port") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(
    *,
    host: str,
    port: int,
    profile: str | None,
    password_hash: str | None,
    announce: Callable[[Serving], None],
    open_browser: bool,
) -> None:
    """Serve until stopped. ``announce`` gets the URL once the socket listens."""
    if not is_loopback(host) and password_hash is None:
        raise UsageError(
            f"--host {host}: the app listens on another address than 127.0.0.1 only with a password "
            "(set one with `backup ui --set-password`)"
        )
    import uvicorn

    from backup.web.app import Context, build
    from backup.web.memory import limit_arenas

    limit_arenas()
    sock = bind(host, port)
    port = sock.getsockname()[1]
    guard = Guard(port, host, password_hash=password_hash)
    ctx = Context(guard, default_profile=profile)
    app = build(ctx)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
        server_header=False,
    )
    server = uvicorn.Server(config)
    url = guard.login_url("/")
    if not is_loopback(host):
        url = f"http://{reachable_at(host)}:{port}/login"
    announce(Serving(url, port, os.getpid()))
    if open_browser:
        threading.Thread(target=_open, args=(guard.login_url("/"),), daemon=True).start()

    async def run() -> None:
        ctx.stopping = asyncio.Event()

        async def watch_exit() -> None:
            while not server.should_exit:
                await asyncio.sleep(0.1)
            ctx.stopping.set()  # type: ignore[union-attr]
            ctx.jobs.cancel_all()

        watcher = asyncio.ensure_future(watch_exit())
        try:
            await server.serve(sockets=[sock])
        finally:
            watcher.cancel()

    # uvicorn handles SIGINT and SIGTERM while it serves, then raises them again to whatever
    # handler was there before; with these, a stop asked for ends in exit 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stopped)
    try:
        asyncio.run(run())
    finally:
        sock.close()


def _stopped(signum: int, frame: Any) -> None:
    """The stop was asked for and is done."""


def reachable_at(host: str) -> str:
    """The address to give another device: the one listened on, or for every address this
    computer's first one on a network (an IPv4 one when there is)."""
    from backup.web.security import WILDCARDS, own_addresses

    if host not in WILDCARDS:
        return f"[{host}]" if ":" in host else host
    others = sorted(
        a for a in own_addresses() if a not in ("127.0.0.1", "[::1]") and not a.startswith("[fe80")
    )
    ipv4 = [a for a in others if not a.startswith("[")]
    return (ipv4 or others or ["127.0.0.1"])[0]


def _open(url: str) -> None:
    import webbrowser

    try:
        webbrowser.open(url)
    except Exception:  # no browser here: the printed URL is the way in
        pass
