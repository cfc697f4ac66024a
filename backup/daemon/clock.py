"""The daemon's clock: the computer's local time, or for tests a given starting time.

``KEEPMARK_CLOCK`` (for tests only) sets what the clock reads when the process starts, as an
ISO 8601 time (``2026-11-22T10:00:00``; without an offset it is local time); from there it
advances with the real clock. It lets a test start a daemon "on a Tuesday" to see a missed
Sunday slot caught up, without waiting for a Sunday.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

CLOCK_ENV = "KEEPMARK_CLOCK"


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        # Only the real clock can be compared with the times other commands write (the
        # catalog's runs): a test clock would see them in its past or its future.
        self.real = start is None
        self._offset = timedelta(0)
        if start is not None:
            if start.tzinfo is None:
                start = start.astimezone()  # a naive time is local time
            self._offset = start - datetime.now().astimezone()

    @classmethod
    def from_env(cls) -> Clock:
        value = os.environ.get(CLOCK_ENV, "").strip()
        if not value:
            return cls()
        try:
            return cls(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError as exc:
            raise ValueError(
                f"{CLOCK_ENV}={value!r} is not an ISO 8601 time like 2026-11-22T10:00:00"
            ) from exc

    def now(self) -> datetime:
        """The local time, aware (with the local UTC offset)."""
        return datetime.now().astimezone() + self._offset

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()
