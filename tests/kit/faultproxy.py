"""A small HTTP/1.1 reverse proxy on 127.0.0.1 that forwards to one backend and can be told to
misbehave, for testing how clients cope with a flaky service.

Usage::

    with FaultProxy("127.0.0.1", backend_port) as proxy:
        client = make_client(proxy.url)
        proxy.fail_next(2, status=503, body=b"<Error><Code>SlowDown</Code></Error>")
        proxy.drop_next(1, match=lambda r: r.method == "PUT")
        ...
        assert proxy.failed == 2 and proxy.dropped == 1

Faults, each for the next ``n`` requests that ``match`` (a predicate on ``Request``, default
all), taken in the order they were asked for:

- ``fail_next``: answer with an error status (503 by default) and the given body, without
  forwarding the request;
- ``drop_next``: read the request, then close the connection without any reply;
- ``cut_next``: forward the request, send the response head and the first ``after`` bytes of
  its body, then close the connection (orderly: the client sees a body shorter than announced);
- ``slow_next``: wait ``seconds`` before forwarding (to make overlapping requests visible);
- ``drop_connections``: the next ``n`` connections are closed as soon as they are accepted.

Every request is recorded in ``log`` (method, target, what was done, headers) and counted in
``requests``, ``forwarded``, ``failed``, ``dropped``, ``cut``; ``refused`` counts closed
connections and ``max_in_flight`` the most requests handled at the same time. A request is
counted before the client gets any answer to it, so the counts are up to date as soon as the
client has its answer. Each request goes to the backend on a new connection (``Connection: close``);
the client's connection is kept alive where the response allows it. ``Expect: 100-continue``
is answered by the proxy itself. ``close()`` stops the proxy and joins all of its threads.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from http import HTTPStatus
from io import BufferedReader
from typing import NamedTuple

_MAX_LINE = 65536
_BLOCK = 256 * 1024


class Request(NamedTuple):
    """A request as the proxy saw it: ``target`` is the path with its query string."""

    method: str
    target: str
    headers: dict[str, str]


class Seen(NamedTuple):
    """One request and what the proxy did with it (forwarded, failed, dropped or cut), with
    the status it answered and the request's headers (names in lower case)."""

    method: str
    target: str
    action: str
    status: int | None
    headers: dict[str, str]


Match = Callable[[Request], bool]


@dataclass
class _Rule:
    action: str
    remaining: int
    match: Match | None
    status: int = 503
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0
    seconds: float = 0.0


class _Closed(Exception):
    """The peer closed the connection, or the proxy is stopping."""


class FaultProxy:
    """A threaded reverse proxy from ``127.0.0.1:<port>`` to ``backend_host:backend_port``."""

    def __init__(self, backend_host: str, backend_port: int, *, port: int = 0, timeout: float = 30.0) -> None:
        self.backend = (backend_host, backend_port)
        self.timeout = timeout
        self.requests = 0
        self.forwarded = 0
        self.failed = 0
        self.dropped = 0
        self.cut = 0
        self.refused = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.log: list[Seen] = []
        self._rules: list[_Rule] = []
        self._refuse = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"faultproxy-{self.port}", daemon=True
        )
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- faults -----------------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int = 503,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        match: Match | None = None,
    ) -> None:
        """Answer the next ``n`` matching requests with ``status`` and ``body``."""
        self._add(_Rule("fail", n, match, status=status, body=body, headers=dict(headers or {})))

    def drop_next(self, n: int, *, match: Match | None = None) -> None:
        """Close the connection of the next ``n`` matching requests without replying."""
        self._add(_Rule("drop", n, match))

    def cut_next(self, n: int, *, after: int = 0, match: Match | None = None) -> None:
        """Forward the next ``n`` matching requests but cut each response ``after`` body bytes."""
        self._add(_Rule("cut", n, match, after=after))

    def slow_next(self, n: int, seconds: float, *, match: Match | None = None) -> None:
        """Forward the next ``n`` matching requests after waiting ``seconds``."""
        self._add(_Rule("slow", n, match, seconds=seconds))

    def drop_connections(self, n: int) -> None:
        """Close the next ``n`` connections as soon as they are accepted."""
        with self._lock:
            self._refuse += n

    def clear(self) -> None:
        """Forget the faults not yet used."""
        with self._lock:
            self._rules.clear()
            self._refuse = 0

    def pending(self) -> int:
        """How many faults are still to come."""
        with self._lock:
            return sum(r.remaining for r in self._rules) + self._refuse

    def seen(self, action: str | None = None, match: Match | None = None) -> list[Seen]:
        """The logged requests, filtered by action and by a predicate on a ``Request``."""
        with self._lock:
            log = list(self.log)
        return [
            s
            for s in log
            if (action is None or s.action == action)
            and (match is None or match(Request(s.method, s.target, s.headers)))
        ]

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _take(self, req: Request) -> _Rule | None:
        with self._lock:
            self.requests += 1
            for rule in self._rules:
                if rule.remaining > 0 and (rule.match is None or rule.match(req)):
                    rule.remaining -= 1
                    return rule
        return None

    def _record(self, req: Request, action: str, status: int | None) -> None:
        with self._lock:
            self.log.append(Seen(req.method, req.target, action, status, req.headers))
            if action == "forwarded":
                self.forwarded += 1
            elif action == "failed":
                self.failed += 1
            elif action == "dropped":
                self.dropped += 1
            elif action == "cut":
                self.cut += 1

    # -- life -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop accepting, close every connection and join every thread."""
        self._stopping.set()
        self._acceptor.join()
        with suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for s in sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        for t in threads:
            t.join()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                refuse = self._refuse > 0
                if refuse:
                    self._refuse -= 1
                    self.refused += 1
            if refuse:
                _reset(conn)
                conn.close()
                continue
            conn.settimeout(self.timeout)
            t = threading.Thread(
                target=self._serve, args=(conn,), name=f"faultproxy-{self.port}-conn", daemon=True
            )
            with self._lock:
                self._threads = [x for x in self._threads if x.is_alive()]
                self._threads.append(t)
                self._sockets.add(conn)
            t.start()

    def _track(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.add(s)
        if self._stopping.is_set():
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def _untrack(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(s)
        with suppress(OSError):
            s.close()

    # -- one client connection --------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while not self._stopping.is_set():
                head = _read_head(reader)
                if head is None:
                    return
                if not self._one(conn, reader, head):
                    return
        except (_Closed, OSError, ValueError):
            return
        finally:
            with suppress(OSError):
                reader.close()
            self._untrack(conn)

    def _one(self, conn: socket.socket, reader: BufferedReader, head: list[bytes]) -> bool:
        """Handle one request; False when the client connection must be closed."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._handle(conn, reader, head)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _handle(self, conn: socket.socket, reader: BufferedReader, head: list[bytes]) -> bool:
        method, target, version = _request_line(head[0])
        headers = _headers(head[1:])
        req = Request(method, target, headers)
        expects = headers.get("expect", "").lower() == "100-continue"
        rule = self._take(req)
        if rule is not None and rule.action == "slow":
            self._stopping.wait(rule.seconds)
            rule = None
        if rule is not None and rule.action == "drop":
            if not expects:
                _skip_body(reader, headers)
            self._record(req, "dropped", None)
            _reset(conn)
            return False
        if rule is not None and rule.action == "fail":
            if not expects:
                _skip_body(reader, headers)
            reason = _reason(rule.status)
            extra = "".join(f"{k}: {v}\r\n" for k, v in rule.headers.items())
            answer = (
                f"HTTP/1.1 {rule.status} {reason}\r\nContent-Length: {len(rule.body)}\r\n{extra}"
                "Connection: close\r\n\r\n"
            ).encode("latin-1") + (b"" if method == "HEAD" else rule.body)
            self._record(req, "failed", rule.status)
            conn.sendall(answer)
            _linger_close(conn, reader)
            return False
        if expects:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            backend = socket.create_connection(self.backend, timeout=self.timeout)
        except OSError:
            _skip_body(reader, headers)
            body = b"backend unreachable"
            self._record(req, "failed", 502)
            conn.sendall(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (len(body), body)
            )
            return False
        self._track(backend)
        try:
            return self._forward(conn, reader, backend, req, head, version, rule)
        finally:
            self._untrack(backend)

    def _forward(
        self,
        conn: socket.socket,
        reader: BufferedReader,
        backend: socket.socket,
        req: Request,
        head: list[bytes],
        version: str,
        rule: _Rule | None,
    ) -> bool:
        out = [head[0]]
        for line in head[1:]:
            name = line.split(b":", 1)[0].strip().lower()
            if name not in (b"expect", b"connection", b"keep-alive", b"proxy-connection"):
                out.append(line)
        out.append(b"Connection: close\r\n")
        backend.sendall(b"".join(out) + b"\r\n")
        for block in _body(reader, req.headers):
            backend.sendall(block)
        breader = backend.makefile("rb")
        try:
            while True:
                rhead = _read_head(breader)
                if rhead is None:
                    raise _Closed
                status = int(rhead[0].split(None, 2)[1])
                if status >= 200:
                    break
            rheaders = _headers(rhead[1:])
            no_body = req.method == "HEAD" or status in (204, 304)
            framed = (
                no_body or "content-length" in rheaders or "chunked" in rheaders.get("transfer-encoding", "")
            )
            client_close = req.headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
            keep = framed and not client_close and rule is None
            lines = [rhead[0]]
            for line in rhead[1:]:
                name = line.split(b":", 1)[0].strip().lower()
                if name not in (b"connection", b"keep-alive"):
                    lines.append(line)
            lines.append(b"\r\n" if keep else b"Connection: close\r\n\r\n")
            self._record(req, "forwarded" if rule is None else "cut", status)
            conn.sendall(b"".join(lines))
            if rule is not None:  # cut
                budget = rule.after
                if not no_body:
                    for block in _body(breader, rheaders, to_eof=True):
                        if budget <= 0:
                            break
                        conn.sendall(block[:budget])
                        budget -= len(block)
                return False  # an orderly close: the client sees a short body
            if not no_body:
                for block in _body(breader, rheaders, to_eof=True):
                    conn.sendall(block)
            return keep
        finally:
            with suppress(OSError):
                breader.close()


# -- HTTP/1.1 framing -------------------------------------------------------------------------


def _read_head(reader: BufferedReader) -> list[bytes] | None:
    """The request or status line and header lines (with their CRLF), or None at a clean EOF."""
    lines: list[bytes] = []
    while True:
        line = reader.readline(_MAX_LINE)
        if not line:
            if lines:
                raise _Closed
            return None
        if line in (b"\r\n", b"\n"):
            if not lines:
                continue  # stray CRLF between requests
            return lines
        lines.append(line)


def _request_line(line: bytes) -> tuple[str, str, str]:
    method, target, version = line.decode("latin-1").split()
    return method, target, version


def _headers(lines: list[bytes]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        out[name.strip().lower()] = value.strip()
    return out


def _body(reader: BufferedReader, headers: dict[str, str], *, to_eof: bool = False) -> Iterator[bytes]:
    """The raw bytes of a message body (chunk framing included, to relay as-is)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = reader.readline(_MAX_LINE)
            if not size_line:
                raise _Closed
            yield size_line
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:
                    trailer = reader.readline(_MAX_LINE)
                    if not trailer:
                        raise _Closed
                    yield trailer
                    if trailer in (b"\r\n", b"\n"):
                        return
            left = size + 2  # data and its CRLF
            while left:
                block = reader.read(min(left, _BLOCK))
                if not block:
                    raise _Closed
                left -= len(block)
                yield block
    elif "content-length" in headers:
        left = int(headers["content-length"])
        while left:
            block = reader.read(min(left, _BLOCK))
            if not block:
                raise _Closed
            left -= len(block)
            yield block
    elif to_eof:
        while block := reader.read1(_BLOCK):
            yield block


def _skip_body(reader: BufferedReader, headers: dict[str, str]) -> None:
    for _block in _body(reader, headers):
        pass


def _linger_close(conn: socket.socket, reader: BufferedReader) -> None:
    """Close after an answer the client may still be sending into: stop writing, let the client
    read the answer and close, then close our side."""
    with suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(2.0)
        while reader.read1(_BLOCK):
            pass


def _reset(conn: socket.socket) -> None:
    """Make closing ``conn`` send a reset: no reply, no orderly end."""
    with suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
