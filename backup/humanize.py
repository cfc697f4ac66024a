"""Numbers and times as a person reads them."""

from __future__ import annotations


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


def when(stamp: str | None) -> str:
    """``2026-11-24T02:15:37.598092Z`` -> ``2026-11-24 02:15Z``."""
    if not stamp:
        return "-"
    return stamp[:10] + " " + stamp[11:16] + "Z"
