"""``backup verify``: does a target still hold what its snapshot says?

Without reading data, every object of the snapshot must be present with the right size (one
listing of the target). With ``read_data`` every object is read back and its SHA-256 compared;
with ``sample`` a random share of them is. An original that changed after the snapshot is
looked for under ``versions/``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backup.errors import KeepmarkError
from backup.runs import layout
from backup.runs.plan import object_sha256
from backup.runs.snapshot import Entry, Snapshot, resolve
from backup.targets.base import ObjectError, ObjectInfo, Target, TargetError
from inventory.progress import Progress
from inventory.store.rows import Damage


@dataclass
class VerifyResult:
    name: str
    snapshot: str | None = None
    status: str = "ok"  # ok | damaged | failed
    checked: int = 0
    read: int = 0
    bytes_read: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    # For the inventory's record of damage (not in the JSON document): the originals found
    # missing, cut or altered, and the keys read back intact.
    damaged: list[Damage] = field(default_factory=list)
    intact: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "snapshot": self.snapshot,
            "checked": self.checked,
            "read": self.read,
            "bytes_read": self.bytes_read,
            "problems": self.problems,
            "error": self.error,
        }


class Locator:
    """Finds where a snapshot entry's bytes are: its original, or a kept version."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.objects: dict[str, ObjectInfo] = {i.key: i for i in target.list(layout.ORIGINALS)}
        self.versions: dict[tuple[str, str], ObjectInfo] = {}
        for info in target.list(layout.VERSIONS):
            parsed = layout.parse_version_key(info.key)
            if parsed:
                self.versions[parsed] = info

    def candidates(self, entry: Entry) -> list[ObjectInfo]:
        out = []
        original = self.objects.get(entry.key)
        if original is not None and original.size == entry.size:
            out.append(original)
        version = self.versions.get((entry.path, entry.sha256[:12]))
        if version is not None and version.size == entry.size:
            out.append(version)
        return out


def verify_target(
    target: Target,
    snapshot_id: str | None = None,
    *,
    read_data: bool = False,
    sample: float | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Check ``target``'s snapshot (the newest, or ``snapshot_id``): every original is there at
    its size; with ``read_data`` every one (with ``sample`` that percentage) is read back and
    its SHA-256 compared. Reports through ``progress`` (stage ``verify``)."""
    progress = progress or Progress()
    result = VerifyResult(target.name)
    try:
        target.open_session()
        snap: Snapshot = resolve(target, snapshot_id)
        result.snapshot = snap.id
        where = Locator(target)
        entries: Sequence[Entry] = snap.entries
        to_read: set[str] = set()
        if read_data:
            to_read = {e.path for e in entries}
        elif sample:
            k = max(1, round(len(entries) * sample / 100)) if entries else 0
            to_read = {e.path for e in random.sample(list(entries), min(k, len(entries)))}
        progress.started(
            "verify", len(entries), sum(e.size for e in entries if e.path in to_read), target=target.name
        )
        for entry in entries:
            result.checked += 1
            found = where.candidates(entry)
            if not found:
                original = where.objects.get(entry.key)
                why = "missing" if original is None else f"size {original.size}, expected {entry.size}"
                result.problems.append({"path": entry.path, "problem": why})
                result.damaged.append(Damage(target.name, entry.key, entry.path, entry.sha256, why))
            elif entry.path in to_read:
                seen = []
                for info in found:
                    sha, n = object_sha256(target, info.key, progress.stage("verify"))
                    result.read += 1
                    result.bytes_read += n
                    if sha == entry.sha256:
                        result.intact.append(info.key)
                        break
                    seen.append(sha)
                else:
                    why = f"content differs: SHA-256 {seen[0]}, expected {entry.sha256}"
                    result.problems.append({"path": entry.path, "problem": why})
                    result.damaged.append(Damage(target.name, entry.key, entry.path, entry.sha256, why))
            progress.file_done("verify", entry.path)
        if snap.inventory and target.stat(str(snap.inventory["key"])) is None:
            result.problems.append({"path": str(snap.inventory["key"]), "problem": "missing"})
        progress.finished("verify")
        result.status = "damaged" if result.problems else "ok"
    except (TargetError, ObjectError, OSError, KeepmarkError) as exc:
        result.status = "failed"
        result.error = str(exc)
    finally:
        target.close()
    return result
