"""When the weekly and monthly runs happen: ``weekly sun 03:00``, ``monthly 1 04:00``,
``daily 02:30`` or ``off``, in the creator's local time zone."""

from __future__ import annotations

from typing import NamedTuple

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


class Slot(NamedTuple):
    """A parsed schedule entry. ``day`` is a weekday (0 = Monday) or a day of the month."""

    every: str  # "daily" | "weekly" | "monthly" | "off"
    day: int | None = None
    hour: int = 0
    minute: int = 0


class ScheduleSyntaxError(ValueError):
    pass


def _clock(text: str) -> tuple[int, int]:
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ScheduleSyntaxError(f"{text!r} is not a time of day like 03:00")
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleSyntaxError(f"{text!r} is not a time of day like 03:00")
    return hour, minute


def parse_slot(text: str) -> Slot:
    words = text.strip().lower().split()
    if words == ["off"]:
        return Slot("off")
    if len(words) == 2 and words[0] == "daily":
        return Slot("daily", None, *_clock(words[1]))
    if len(words) == 3 and words[0] == "weekly":
        day = _FULL_NAMES.get(words[1], words[1])
        if day not in WEEKDAYS:
            raise ScheduleSyntaxError(f"{words[1]!r} is not a weekday (mon, tue, ... sun)")
        return Slot("weekly", WEEKDAYS.index(day), *_clock(words[2]))
    if len(words) == 3 and words[0] == "monthly":
        if not words[1].isdigit() or not 1 <= int(words[1]) <= 28:
            raise ScheduleSyntaxError(
                f"{words[1]!r} is not a day of the month from 1 to 28 (every month has it)"
            )
        return Slot("monthly", int(words[1]), *_clock(words[2]))
    raise ScheduleSyntaxError(f"{text!r} is not a schedule")
