"""UTC timestamps as the inventory writes them: ISO 8601 with a trailing ``Z``."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    """The current time, e.g. ``2026-11-24T02:08:38.123456Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
