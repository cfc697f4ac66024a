"""Numbers and times as a person reads them."""

from __future__ import annotations

from datetime import datetime


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover


def when(stamp: str | None, *, seconds: bool = False) -> str:
    """A time as Keepmark stores it (ISO 8601, in UTC with ``Z`` or with an offset) in this
    computer's local time, for text output: ``2026-11-24T02:15:37.598092Z`` is ``2026-11-24
    10:15 +08:00`` in Shanghai. JSON documents keep the stored form. A time without an offset
    (a camera's clock) is shown as written; text that is not a time, unchanged."""
    if not stamp:
        return "-"
    if len(stamp) == 10:
        return stamp  # a date alone (2026-05-14)
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    if moment.tzinfo is None:
        return moment.strftime(shape)
    local = moment.astimezone()
    offset = local.strftime("%z") or "+0000"
    return f"{local.strftime(shape)} {offset[:3]}:{offset[3:5]}"
