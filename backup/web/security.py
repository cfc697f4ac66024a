"""Who may use the app, checked on every request before anything else runs.

- The server listens on 127.0.0.1 unless a password is set (``backup ui --set-password``): then
  it may listen on another address, and a password sign-in stands in for the URL's token.
- ``backup ui`` prints a URL with a random token. The token, given once in the URL
  (``/?token=T``), is exchanged for a session cookie (HttpOnly, SameSite=Strict) and the browser is
  sent on to the same page without it; the same URL opened again gets no second session. Scripts
  send the token as ``Authorization: Bearer T`` on every request instead.
- A request with a cookie session that changes anything (POST, PUT, PATCH, DELETE) carries the
  session's CSRF token in the ``X-CSRF-Token`` header or a ``csrf`` form field; bearer requests
  need none (a browser never sends that header by itself).
- The Host header must be ``127.0.0.1:PORT`` or ``localhost:PORT`` (or the address the server was
  told to listen on): a page on another site that rebinds its DNS name to 127.0.0.1 is refused.

The password is kept as an scrypt hash (salt and cost beside it) in ``ui-password`` in the
Keepmark home, mode 0600, never in a profile.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.errors import UsageError
from inventory.atomic import write_atomic

SESSION_COOKIE = "keepmark_session"
SESSION_DAYS = 30  # a session unused this long is forgotten
PASSWORD_FILE = "ui-password"
LOOPBACK = ("127.0.0.1", "localhost")
WILDCARDS = ("0.0.0.0", "::")
# scrypt's cost: 2^15 x 8 x 1 takes about 32 MiB and a few tens of milliseconds.
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
MIN_PASSWORD = 10


@dataclass
class Session:
    id: str
    csrf: str
    lang: str | None = None
    profile: str | None = None
    used: float = field(default_factory=time.time)
    wizard: dict[str, Any] = field(default_factory=dict)  # the setup's answers until it ends
    notes: list[str] = field(default_factory=list)  # said once on the next page


class Guard:
    """The server's token, its sessions and the hosts it answers to."""

    def __init__(self, port: int, host: str = "127.0.0.1", *, password_hash: str | None = None) -> None:
        self.token = secrets.token_urlsafe(32)
        self.port = port
        self.host = host
        self.password_hash = password_hash
        self._exchanged = False
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    # -- hosts ------------------------------------------------------------------------------

    def set_port(self, port: int) -> None:
        self.port = port

    def host_allowed(self, header: str | None) -> bool:
        if not header:
            return False
        names = set(LOOPBACK)
        if self.host in WILDCARDS:  # any address of this computer's (a tablet uses its LAN one)
            names |= own_addresses()
        elif self.host != "127.0.0.1":
            names.add(self.host)
        return header.lower() in {f"{n}:{self.port}" for n in names}

    # -- the token --------------------------------------------------------------------------

    def bearer_ok(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), self.token.encode())

    def exchange(self, token: str) -> Session | None:
        """The URL's token for a new session, once; None for a wrong or used token."""
        with self._lock:
            if self._exchanged or not hmac.compare_digest(token.encode(), self.token.encode()):
                return None
            self._exchanged = True
        return self.new_session()

    def login_url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}?token={self.token}"

    # -- sessions ---------------------------------------------------------------------------

    def new_session(self) -> Session:
        s = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        with self._lock:
            self._forget_old()
            self._sessions[s.id] = s
        return s

    def session(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        with self._lock:
            s = self._sessions.get(cookie)
            if s is not None:
                s.used = time.time()
            return s

    def _forget_old(self) -> None:
        limit = time.time() - SESSION_DAYS * 86400
        for key in [k for k, s in self._sessions.items() if s.used < limit]:
            del self._sessions[key]

    @staticmethod
    def csrf_ok(session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), session.csrf.encode())

    # -- the password -----------------------------------------------------------------------

    def password_ok(self, password: str) -> bool:
        return self.password_hash is not None and check_password(password, self.password_hash)


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64), for ``ui-password``."""
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short: at least {MIN_PASSWORD} characters")
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 1024 * 1024, **SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def password_file(home: Path) -> Path:
    return home / PASSWORD_FILE


def read_password_hash(home: Path) -> str | None:
    try:
        doc = json.loads(password_file(home).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{password_file(home)}: cannot be read ({exc}); set the password again") from exc
    value = doc.get("hash") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


def save_password(home: Path, password: str) -> Path:
    path = password_file(home)
    home.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (json.dumps({"hash": hash_password(password)}) + "\n").encode(), mode=0o600)
    return path


def own_addresses() -> set[str]:
    """This computer's IP addresses, as a Host header writes them (IPv6 in brackets): never a
    name, which another site could point at this computer (DNS rebinding)."""
    import psutil

    found: set[str] = set()
    for addresses in psutil.net_if_addrs().values():
        for a in addresses:
            ip = a.address.split("%", 1)[0]  # an IPv6 zone is not part of a Host header
            if ":" in ip and not ip.startswith("["):
                found.add(f"[{ip.lower()}]")
            elif ip.count(".") == 3:
                found.add(ip)
    return found


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1")
