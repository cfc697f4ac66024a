"""Where a piece was published: ``publication`` ledger entries.

Entry data: ``{"sha256": <the original's>, "platform": ..., "url": ..., "date": ...}``, plus
``"copy": <SHA-256 of the published file>`` when what was published is a recorded derivative
(a stamped copy) rather than the original itself.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from inventory.errors import InventoryError, NotFound
from inventory.ledger import chain as ledger

if TYPE_CHECKING:
    from inventory.store.inventory import Inventory

ENTRY = "publication"


class BadPublication(InventoryError):
    """A platform, URL or date that cannot be recorded as given."""


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", url.strip()):
        raise BadPublication(f"{url!r} is not a web address (http:// or https://)")
    return url.strip()


def check_date(text: str | None) -> str:
    """An ISO date (``2026-05-14``) or date and time; today's date when not given."""
    if text is None:
        return date.today().isoformat()
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise BadPublication(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def record(inv: Inventory, path: str, *, platform: str, url: str, when: str | None = None) -> ledger.Entry:
    """Record that the file at ``path`` (an original, or a stamped copy of one; or the SHA-256
    of a recorded original) was published."""
    if not platform.strip():
        raise BadPublication("the platform must not be empty")
    data: dict[str, Any] = {"platform": platform.strip(), "url": check_url(url), "date": check_date(when)}
    recorded = re.fullmatch(r"[0-9a-f]{64}", path) is not None and inv.has_content(path)
    sha = path if recorded else _file_sha(path)
    if recorded or inv.has_content(sha):
        data["sha256"] = sha
    else:
        source = inv.derivative_source(sha)
        if source is None:
            raise NotFound(
                f"{path}: neither an original in the inventory nor a recorded stamped copy of one "
                f"(SHA-256 {sha}); scan or stamp it first"
            )
        data["sha256"], data["copy"] = source, sha
    return inv.note(ENTRY, data)


def of(inv: Inventory, sha256: str) -> list[dict[str, Any]]:
    """Every publication recorded for an original, oldest first, with its ledger entry's seq
    and time."""
    return [{**e.data, "seq": e.seq, "recorded": e.time} for e in inv.ledger_entries_of(ENTRY, sha256)]


def every(inv: Inventory) -> list[dict[str, Any]]:
    """Every publication recorded, oldest first, with its ledger entry's seq and time."""
    return [{**e.data, "seq": e.seq, "recorded": e.time} for e in inv.ledger_entries_typed(ENTRY)]


def _file_sha(path: str) -> str:
    from inventory.store.derivatives import hash_file

    if not os.path.isfile(path):
        raise NotFound(f"{path}: no such file")
    try:
        return hash_file(path)[0]
    except OSError as exc:
        raise NotFound(f"{path}: cannot read: {exc.strerror or exc}") from exc
