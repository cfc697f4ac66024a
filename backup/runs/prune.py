"""``backup prune``: applies ``[retention] weekly, monthly`` to snapshots and versions.

Kept: the newest snapshot, the newest snapshot of each of the last ``weekly`` ISO weeks that
have one, and of each of the last ``monthly`` months that have one (UTC). Every other manifest
is removed, then every object under ``versions/`` that no kept snapshot refers to. Originals are
never removed (a deletion on the laptop never deletes a backup). An object that a retention lock
protects is left where it is and reported; that is not an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backup.errors import KeepmarkError
from backup.runs import layout
from backup.runs.snapshot import BadManifest, Snapshot, load_all
from backup.targets.base import Locked, ObjectError, Target, TargetError, Temporaries
from inventory.progress import Progress


@dataclass
class PruneResult:
    name: str
    status: str = "ok"
    kept: list[str] = field(default_factory=list)
    removed_snapshots: list[str] = field(default_factory=list)
    removed_versions: list[str] = field(default_factory=list)
    locked: list[dict[str, str | None]] = field(default_factory=list)
    temporaries: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "kept": self.kept,
            "removed_snapshots": self.removed_snapshots,
            "removed_versions": self.removed_versions,
            "locked": self.locked,
            "temporaries": self.temporaries,
            "error": self.error,
        }


def keep(snapshots: Sequence[Snapshot], weekly: int, monthly: int) -> set[str]:
    """The ids retention keeps."""
    newest_first = sorted(snapshots, key=lambda s: (s.finished, s.id), reverse=True)
    kept: set[str] = set()
    if newest_first:
        kept.add(newest_first[0].id)
    for count, bucket in ((weekly, _week), (monthly, _month)):
        seen: set[str] = set()
        for snap in newest_first:
            if len(seen) >= count:
                break
            b = bucket(snap)
            if b not in seen:
                seen.add(b)
                kept.add(snap.id)
    return kept


def _week(s: Snapshot) -> str:
    year, week, _ = s.time.isocalendar()
    return f"{year}-W{week:02d}"


def _month(s: Snapshot) -> str:
    return s.time.strftime("%Y-%m")


def prune_target(
    target: Target, weekly: int, monthly: int, *, dry_run: bool = False, progress: Progress | None = None
) -> PruneResult:
    """Apply retention to ``target`` (``dry_run``: only say what would go). Reports through
    ``progress`` (stage ``prune``, one file per object removed); a cancel stops it between two
    removals (manifests go before the versions they refer to, so what is left is consistent and
    the next prune finishes the work)."""
    progress = progress or Progress()
    result = PruneResult(target.name)
    try:
        target.open_session()
        snaps: list[Snapshot] = []
        for item in load_all(target):
            if isinstance(item, BadManifest):
                raise item  # never prune on a partial picture of what is kept
            snaps.append(item)
        kept_ids = keep(snaps, weekly, monthly)
        kept = [s for s in snaps if s.id in kept_ids]
        result.kept = sorted(kept_ids)
        referenced = {(e.path, e.sha256[:12]) for s in kept for e in s.entries}
        gone = [s.id for s in snaps if s.id not in kept_ids]
        versions = []
        for info in target.list(layout.VERSIONS):
            parsed = layout.parse_version_key(info.key)
            if parsed is not None and parsed not in referenced:
                versions.append(info.key)
        progress.started(
            "prune", len(gone) + len(versions), len(gone) + len(versions), "files", target=target.name
        )
        try:
            for sid in gone:
                if _remove(target, layout.snapshot_key(sid), result, dry_run):
                    result.removed_snapshots.append(sid)
                progress.file_done("prune", layout.snapshot_key(sid))
                progress.advanced("prune", 1)
            for key in versions:
                if _remove(target, key, result, dry_run):
                    result.removed_versions.append(key)
                progress.file_done("prune", key)
                progress.advanced("prune", 1)
        finally:
            progress.finished("prune")
        if isinstance(target, Temporaries) and not dry_run:
            result.temporaries = target.clean_temporaries()
    except (TargetError, ObjectError, OSError, KeepmarkError) as exc:
        result.status = "failed"
        result.error = str(exc)
    finally:
        target.close()
    return result


def _remove(target: Target, key: str, result: PruneResult, dry_run: bool) -> bool:
    if dry_run:
        return True
    try:
        target.delete(key)
    except Locked as exc:
        result.locked.append({"key": key, "until": exc.until})
        return False
    return True
