"""The ASGI middleware that stands before every route (the rules are in ``security``): the Host
header, then who is asking (a bearer token, a session cookie, or the URL's one-time token), then
the CSRF token of a cookie request that changes anything. It also sets the headers every answer
carries (no framing, no referrer to other sites, a content security policy that allows only the app's own
files)."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from backup.web.security import SESSION_COOKIE, SESSION_DAYS, Guard, Session

Scope = dict[str, Any]
Receive = Any
Send = Any

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
FORM_LIMIT = 1024 * 1024  # a request's body (a form or a JSON document) at most
# The paths that take a file, and the most each takes: a logo for the watermark, a suspected
# repost (a photo or a video) to prove. Each route checks what it is given besides.
UPLOAD_LIMITS = {"/api/watermark/logo": 5 * 1024 * 1024 + 64 * 1024, "/api/prove": 2 * 1024**3 + 64 * 1024}
OPEN_PATHS = ("/static/", "/favicon.ico", "/login")  # served without a session
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # forms then send their Origin; nothing leaves the app
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
        b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class GuardMiddleware:
    def __init__(self, app: Any, guard: Guard, locked_page: Any) -> None:
        self.app, self.guard, self.locked_page = app, guard, locked_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        if not self.guard.host_allowed(headers.get("host")):
            await _plain(send, 400, "the Host header names another site: refused")
            return
        origin = headers.get("origin")
        if origin is not None and not self.guard.host_allowed(origin.split("://", 1)[-1]):
            await _plain(send, 403, "a request from another site: refused")
            return
        scope.setdefault("state", {})
        if self.guard.bearer_ok(headers.get("authorization")):
            if scope["method"] in UNSAFE and not await _size_ok(send, headers, path):
                return
            scope["state"]["auth"], scope["state"]["session"] = "bearer", None
            await self.app(scope, receive, send)
            return
        session = self.guard.session(_cookie(headers.get("cookie")))
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if session is None and scope["method"] == "GET" and "token" in query:
            session = self.guard.exchange(query.pop("token"))
            if session is not None:  # the token leaves the address bar; the cookie stays
                where = quote(path) + ("?" + urlencode(query) if query else "")
                await _redirect_with_cookie(send, where, session)
                return
        if session is None:
            if path.startswith(OPEN_PATHS):
                scope["state"]["auth"], scope["state"]["session"] = None, None
                await self.app(scope, receive, send)
            elif path.startswith("/api/"):
                await _json(
                    send, 401, {"ok": False, "error": "not signed in: send Authorization: Bearer TOKEN"}
                )
            else:
                await self.locked_page(scope, receive, send)
            return
        scope["state"]["auth"], scope["state"]["session"] = "session", session
        if scope["method"] in UNSAFE and not await _size_ok(send, headers, path):
            return
        if scope["method"] in UNSAFE:
            receive, given = await _csrf_given(scope, receive, headers)
            if given is None or not Guard.csrf_ok(session, given):
                await _json(send, 403, {"ok": False, "error": "missing or wrong CSRF token: reload the page"})
                return
        await self.app(scope, receive, send)


async def _size_ok(send: Send, headers: dict[str, str], path: str) -> bool:
    """A request that sends a body says how long it is, and it is a form's size (a file's only
    where ``UPLOAD_LIMITS`` takes one); otherwise 411 or 413, and False."""
    limit = UPLOAD_LIMITS.get(path, FORM_LIMIT)
    length = headers.get("content-length")
    if length is None:
        if "transfer-encoding" in headers:
            await _json(send, 411, {"ok": False, "error": "send the body with a Content-Length"})
            return False
        return True
    if not length.isdigit() or int(length) > limit:
        await _json(send, 413, {"ok": False, "error": f"the body is larger than {limit} bytes"})
        return False
    return True


def _cookie(header: str | None) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is no session
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


async def _csrf_given(scope: Scope, receive: Receive, headers: dict[str, str]) -> tuple[Receive, str | None]:
    """The CSRF token of the request (header, else the form field ``csrf`` of a small urlencoded
    form, whose body is then handed on unchanged); ``receive`` to hand on."""
    if "x-csrf-token" in headers:
        return receive, headers["x-csrf-token"]
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return receive, None
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > FORM_LIMIT:
            return receive, None
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        message: dict[str, Any] = await receive()
        return message

    fields = dict(parse_qsl(body.decode("utf-8", "replace")))
    return replay, fields.get("csrf")


def _with_headers(send: Send) -> Send:
    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            names = {k.lower() for k, _ in message["headers"]}
            message["headers"] = list(message["headers"]) + [h for h in HEADERS if h[0] not in names]
        await send(message)

    return wrapped


async def _answer(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _plain(send: Send, status: int, text: str) -> None:
    await _answer(send, status, (text + "\n").encode(), b"text/plain; charset=utf-8")


async def _json(send: Send, status: int, doc: dict[str, Any]) -> None:
    await _answer(send, status, json.dumps(doc).encode(), b"application/json")


def session_cookie(session: Session) -> bytes:
    return (
        f"{SESSION_COOKIE}={session.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_DAYS * 86400}"
    ).encode()


async def _redirect_with_cookie(send: Send, location: str, session: Session) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"set-cookie", session_cookie(session)),
                (b"cache-control", b"no-store"),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
