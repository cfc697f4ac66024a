"""Where a piece was published: ``publication`` ledger entries.

Entry data: ``{"sha256": <the original's>, "platform": ..., "url": ..., "date": ...}``, plus
``"copy": <SHA-256 of the published file>`` when what was published is a recorded derivative
(a stamped copy) rather than the original itself.

An entry written by ``backup publish import`` (``record_import``) also has ``"source":
"import"``, ``"export"`` (the export's file or folder name), and where known ``"caption"``,
``"media"`` (the published file's path inside the export), ``"export_sha256"`` (the SHA-256 of
that file: the platform's recompressed copy, a published derivative of the original) and
``"match"`` (how it was matched: ``exact``, ``perceptual``, ``features`` or ``video``); its
``url`` is left out when the export gives no link (Instagram's gives none).

``of()`` and ``every()`` give each entry's data with ``seq`` and ``recorded``, and ``url``,
``copy``, ``caption``, ``source``, ``export_sha256`` always present (None when the entry lacks
them; ``source`` is ``"add"`` for entries written by ``backup publish add``).
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


def record_import(
    inv: Inventory,
    sha256: str,
    *,
    platform: str,
    date: str,
    export: str,
    url: str | None = None,
    caption: str | None = None,
    copy: str | None = None,
    export_sha256: str | None = None,
    media: str | None = None,
    match: str | None = None,
) -> ledger.Entry:
    """Record a publication read from a platform's export (``backup publish import``): the
    original ``sha256`` (recorded), matched to the export's ``media`` file (``export_sha256``)
    by ``match``; ``copy`` when that file is byte for byte a recorded stamped copy."""
    if not inv.has_content(sha256):
        raise NotFound(f"{sha256}: no original in the inventory has this SHA-256")
    if not platform.strip():
        raise BadPublication("the platform must not be empty")
    data: dict[str, Any] = {
        "sha256": sha256,
        "platform": platform.strip(),
        "date": _checked_as_given(date),
        "source": "import",
        "export": export,
    }
    if url is not None:
        data["url"] = check_url(url)
    optional = {
        "caption": caption,
        "copy": copy,
        "export_sha256": export_sha256,
        "media": media,
        "match": match,
    }
    for key, value in optional.items():
        if value is not None and str(value).strip():
            data[key] = value.strip() if key == "caption" else value
    return inv.note(ENTRY, data)


def _checked_as_given(text: str) -> str:
    """A date or time as the export reader wrote it (``2024-05-14``, ``2024-05-14T10:22:33Z``),
    once ``check_date`` accepts it: the form an import run again compares with."""
    check_date(text)
    return text.strip()


def key(platform: str, url: str | None, export_sha256: str | None, date: str) -> str:
    """What makes two publications the same one, for an import run twice: the platform, the
    link or the exported file's SHA-256 (both when there are both), and the date."""
    return "|".join((platform.strip().casefold(), url or "", export_sha256 or "", date))


def key_of(p: dict[str, Any]) -> str:
    """``key`` of a recorded publication (as ``of``/``every`` give it)."""
    return key(str(p.get("platform") or ""), p.get("url"), p.get("export_sha256"), str(p.get("date") or ""))


_ALWAYS = ("url", "copy", "caption", "export_sha256")


def _shown(e: ledger.Entry) -> dict[str, Any]:
    data = {k: e.data.get(k) for k in _ALWAYS}
    return {**data, "source": "add", **e.data, "seq": e.seq, "recorded": e.time}


def of(inv: Inventory, sha256: str) -> list[dict[str, Any]]:
    """Every publication recorded for an original, oldest first, with its ledger entry's seq
    and time."""
    return [_shown(e) for e in inv.ledger_entries_of(ENTRY, sha256)]


def every(inv: Inventory) -> list[dict[str, Any]]:
    """Every publication recorded, oldest first, with its ledger entry's seq and time."""
    return [_shown(e) for e in inv.ledger_entries_typed(ENTRY)]


def _file_sha(path: str) -> str:
    from inventory.store.derivatives import hash_file

    if not os.path.isfile(path):
        raise NotFound(f"{path}: no such file")
    try:
        return hash_file(path)[0]
    except OSError as exc:
        raise NotFound(f"{path}: cannot read: {exc.strerror or exc}") from exc
