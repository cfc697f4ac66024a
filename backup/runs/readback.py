"""The full run's rotating read-back: each full run reads back, byte for byte, a share of the
originals a target holds (``1/cycle`` of them), so that every stored byte is read again at
least once every ``cycle`` full runs (a year of monthly runs by default) without a whole read
each month.

Which share a run reads is fixed by the key alone: an original's turn is a number from 0 to
``cycle - 1`` made from the SHA-256 of its key, and the target's n-th completed read-back reads
the originals whose turn is ``n mod cycle``. So ``cycle`` completed full runs read every original
the target held through them, however many files came and went. The count of completed
read-backs is in the backup catalog (its ``runs`` rows of kind ``read-back``).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

READ_BACK = "read-back"  # the kind of the catalog's runs rows
COUNTED = ("ok", "damaged")  # the statuses of a completed read-back


def turn_of(key: str, cycle: int) -> int:
    """Which read-back of a ``cycle`` reads the object under ``key`` (0 to ``cycle - 1``)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % cycle


class ReadBack:
    """One full run's read-back on one target: which originals it reads, and what it found.
    ``done`` is the number of read-backs the target completed before this one."""

    def __init__(self, cycle: int, done: int) -> None:
        if cycle < 1:
            raise ValueError(f"a read-back cycle is at least 1, not {cycle}")
        self.cycle = cycle
        self.turn = done % cycle
        self.files = 0
        self.bytes = 0
        self.damaged = 0
        self._lock = threading.Lock()

    def chosen(self, key: str) -> bool:
        return self.cycle == 1 or turn_of(key, self.cycle) == self.turn

    def count(self, nbytes: int, *, damaged: bool) -> None:
        """One original read back (from any upload thread)."""
        with self._lock:
            self.files += 1
            self.bytes += nbytes
            self.damaged += int(damaged)

    def as_dict(self) -> dict[str, Any]:
        return {
            "share": f"1/{self.cycle}",
            "turn": self.turn + 1,
            "files": self.files,
            "bytes": self.bytes,
            "damaged": self.damaged,
        }
