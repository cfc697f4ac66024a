"""What a run does about damaged copies on a target (a part of ``engine.TargetRun``).

A copy is damaged when the object under an original's key holds bytes that are neither the
original's nor a content the inventory ever recorded for it: a flipped byte on a disk, a cut
upload, an object rewritten behind Keepmark's back. Such a copy is replaced and never kept under
``versions/`` (it is not an earlier version of anything). A run learns of one in three ways:
a finding of ``backup verify`` (or an earlier read-back) kept in the inventory's ``damaged``
table, which a ``full`` or ``repair`` run replaces without a look; a full run's comparison that
reads the object; and a full run's rotating read-back (``backup.runs.readback``), which reads
the object whatever hash the target stores for it. Each replacement is reported in
``TargetResult.repaired``; the use case records it in the inventory and the ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from backup.runs.catalog import Catalog, StoredObject
from backup.runs.plan import Want, object_sha256
from backup.runs.readback import READ_BACK, ReadBack
from backup.runs.results import TargetResult
from backup.runs.snapshot import iso
from backup.targets.base import ObjectError, ObjectInfo, Target


class Repairs:
    """The damaged-copy handling of a target run; ``TargetRun`` sets these attributes."""

    t: Target
    catalog: Catalog
    result: TargetResult
    started: datetime
    damaged: dict[str, Mapping[str, str]]
    recorded: Callable[[str], bool] | None
    read_back: ReadBack | None
    _found: dict[str, dict[str, str]]
    _found_lock: threading.Lock

    def _bytes(self, n: int) -> None: ...

    def _put(
        self,
        want: Want,
        prior: ObjectInfo | None,
        known: StoredObject | None = None,
        *,
        compared: bool = False,
        old_sha: str | None = None,
        found_by: str | None = None,
    ) -> int:
        raise NotImplementedError  # TargetRun._put

    def _upload(self, want: Want) -> int:
        self.t.put_file(want.key, Path(want.src), want.sha256, want.size, self._bytes, mtime_ns=want.mtime_ns)
        return want.size

    def _replace(self, want: Want) -> int:
        """Upload an original over a copy known to be damaged, which is not kept."""
        finding = self.damaged[want.key]
        self._note_found(want, finding.get("problem", "damaged"), finding.get("found_by", "verify"))
        return self._upload(want)

    def _read_back(self, want: Want, info: ObjectInfo) -> int:
        """Read the object back byte for byte, whatever hash the target stores for it; replace
        it unless it holds the original."""
        rb = self.read_back
        assert rb is not None  # only called when there is a read-back
        try:
            sha, n = object_sha256(self.t, info.key)
        except (ObjectError, OSError) as exc:
            rb.count(0, damaged=True)
            self._note_found(want, f"unreadable: {exc}", READ_BACK)
            return self._upload(want)
        same = sha == want.sha256 and n == want.size
        rb.count(n, damaged=not same and not self._earlier(sha, want))
        if same:
            return -1
        return self._put(want, info, compared=True, old_sha=sha, found_by=READ_BACK)

    def _earlier(self, sha: str, want: Want) -> bool:
        """Whether an object holding ``sha`` under ``want.key`` is an earlier content of the
        original (kept under versions/), rather than a damaged copy."""
        return sha != want.sha256 and (self.recorded is None or self.recorded(sha))

    def _note_found(self, want: Want, problem: str, found_by: str) -> None:
        """Damage found under ``want.key`` (from an upload thread); reported when the upload of
        its replacement ends (``_take_found``)."""
        item = {"path": want.path, "key": want.key, "sha256": want.sha256, "problem": problem}
        with self._found_lock:
            self._found[want.key] = {**item, "found_by": found_by}

    def _take_found(self, want: Want, *, stored: bool) -> dict[str, str] | None:
        """The damage found under ``want.key``, once its replacement was ``stored`` (or not)."""
        with self._found_lock:
            found = self._found.pop(want.key, None)
        if found is None and not stored and want.key in self.damaged:
            found = {"path": want.path, "key": want.key, "sha256": want.sha256, **self.damaged[want.key]}
        return found

    def _log_read_back(self) -> None:
        """Log a completed read-back in the catalog (the next run reads the next share; ``backup
        status`` says when the last one was, how much it read and what it found)."""
        rb = self.read_back
        if rb is None:
            return
        self.result.read_back = rb.as_dict()
        self.catalog.log_run(
            self.t.name,
            READ_BACK,
            iso(self.started),
            "damaged" if rb.damaged else "ok",
            files=rb.files,
            bytes=rb.bytes,
            snapshot=self.result.snapshot,
            error=f"{rb.damaged} damaged" if rb.damaged else None,
        )
