"""Names on a remote: remote strings (``name:folder``), the profile's root under them, temporary
names, and what an ``rclone lsjson`` item says about an object."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from backup.targets.base import ObjectInfo
from inventory.atomic import TMP_SUFFIX

_TIME_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


def root_of(remote: str, profile: str) -> str:
    """``remote`` (``name:path``) with the profile's folder added."""
    base = remote
    while base.endswith("//"):
        base = base[:-1]
    if base.endswith(":/") or base.endswith(":"):
        return base + profile
    return base.rstrip("/") + "/" + profile


def remote_name(remote: str) -> str | None:
    """The rclone.conf section ``remote`` names; None for an on-the-fly ``:type,...:`` one."""
    if remote.startswith(":"):
        return None
    return remote.split(":", 1)[0].split(",", 1)[0]


def join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def temp_key(key: str) -> str:
    """A temporary name in the folder of ``key``, for a staged upload."""
    folder = key.rpartition("/")[0]
    return join(folder, f".km-{secrets.token_hex(4)}{TMP_SUFFIX}")


def hidden(rel: str) -> bool:
    """An rclone partial upload or a staged upload: never shown as an object."""
    return any(part.endswith(TMP_SUFFIX) for part in rel.split("/"))


def line_break(text: str) -> bool:
    """Whether a name holds a line break (``--files-from-raw`` lists, ``cat`` and ``hashsum``
    filters cannot name it)."""
    return "\n" in text or "\r" in text


def parse_time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    m = _TIME_RE.match(value)
    if m is None:
        return None
    frac = (m.group(2) or "")[:6].ljust(6, "0")
    zone = m.group(3) or "Z"
    text = f"{m.group(1)}.{frac}{'+00:00' if zone == 'Z' else zone}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc).timestamp()
    except ValueError:
        return None


def info_of(key: str, item: Mapping[str, Any]) -> ObjectInfo:
    """The ``ObjectInfo`` of one ``rclone lsjson`` item."""
    hashes = {str(k).lower(): str(v).lower() for k, v in (item.get("Hashes") or {}).items() if v}
    return ObjectInfo(key, int(item.get("Size", -1)), hashes, parse_time(item.get("ModTime")))
