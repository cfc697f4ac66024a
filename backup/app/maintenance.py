"""``backup verify``, ``backup restore`` and ``backup prune``: what is on the targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.app.backups import verify_profile
from backup.app.results import ForProfile
from backup.app.workspace import targets_for
from backup.errors import TargetFailed, UsageError
from backup.home import state_dir
from backup.profile.model import Profile
from backup.runs.lock import run_lock
from backup.runs.prune import PruneResult, prune_target
from backup.runs.restore import RestoreResult
from backup.runs.restore import restore as restore_from
from backup.runs.verify import VerifyResult
from inventory.progress import Progress


@dataclass
class Verified:
    """Each chosen target's snapshot checked; ``mode`` says how (sizes, a sample read back, or
    every byte read back)."""

    profile: str
    mode: str
    targets: list[VerifyResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.targets)

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "ok": self.ok, "targets": [r.as_dict() for r in self.targets]}


def verify(
    profile: Profile,
    only: Sequence[str] = (),
    *,
    snapshot: str | None = None,
    read_data: bool = False,
    sample: float | None = None,
    progress: Progress | None = None,
) -> Verified:
    """Check that every original of each target's snapshot is there (``read_data``: read every
    one back and compare its SHA-256; ``sample``: that percentage of them)."""
    if sample is not None and not 0 < sample <= 100:
        raise UsageError(f"--sample {sample:g}: give a percentage above 0 and at most 100")
    mode = "read-data" if read_data else (f"sample {sample:g}%" if sample else "sizes")
    results = verify_profile(
        profile, only, snapshot=snapshot, read_data=read_data, sample=sample, progress=progress
    )
    return Verified(profile.name, mode, results)


Restored = ForProfile[RestoreResult]


def restore(
    profile: Profile,
    target: str,
    to: Path,
    *,
    snapshot: str | None = None,
    include: Sequence[str] = (),
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Restored:
    """Copy a snapshot's originals (or those matching ``include``) from ``target`` into ``to``,
    each checked by SHA-256; an existing different file is kept unless ``overwrite``."""
    [(cfg, made)] = targets_for(profile, [target])
    if isinstance(made, Exception):
        raise TargetFailed(f"{cfg.name}: {made}")
    result = restore_from(
        made, to, snapshot_id=snapshot, include=include, overwrite=overwrite, progress=progress
    )
    return Restored(profile.name, result)


@dataclass
class Pruned:
    profile: str
    dry_run: bool
    targets: list[PruneResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.targets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "targets": [r.as_dict() for r in self.targets],
        }


def prune(
    profile: Profile, only: Sequence[str] = (), *, dry_run: bool = False, progress: Progress | None = None
) -> Pruned:
    """Remove the snapshots the profile's ``[retention]`` does not keep, and the earlier
    versions only they referred to (``dry_run``: say what would go); ``progress``: stage
    ``prune``, one file per object removed, and its cancel is heeded between removals."""
    keep = profile.retention
    out = Pruned(profile.name, dry_run)
    with run_lock(state_dir(profile.name), "backup prune"):
        for cfg, target in targets_for(profile, only):
            if isinstance(target, Exception):
                out.targets.append(PruneResult(cfg.name, status="failed", error=str(target)))
            else:
                out.targets.append(
                    prune_target(target, keep.weekly, keep.monthly, dry_run=dry_run, progress=progress)
                )
    return out
