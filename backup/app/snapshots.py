"""``backup snapshots``: each target's snapshots, read from the target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backup.app.workspace import targets_for
from backup.profile.model import Profile
from backup.runs.snapshot import BadManifest, load_all
from backup.targets.base import ObjectError, TargetError


@dataclass
class TargetSnapshots:
    name: str
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    damaged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "snapshots": self.snapshots, "error": self.error}
        if self.damaged:
            doc["damaged"] = self.damaged
        return doc


@dataclass
class SnapshotList:
    profile: str
    targets: list[TargetSnapshots] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.error is None and not t.damaged for t in self.targets)

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "targets": [t.as_dict() for t in self.targets]}


def list_snapshots(profile: Profile, only: Sequence[str] = ()) -> SnapshotList:
    """The snapshots on each chosen target, oldest first; a target that cannot be read, or a
    damaged manifest, is reported and the others go on."""
    out = SnapshotList(profile.name)
    for cfg, target in targets_for(profile, only):
        entry = TargetSnapshots(cfg.name)
        out.targets.append(entry)
        if isinstance(target, Exception):
            entry.error = str(target)
            continue
        try:
            target.open_session()
            for snap in load_all(target):
                if isinstance(snap, BadManifest):
                    entry.damaged.append(str(snap))
                else:
                    entry.snapshots.append(snap.summary())
        except (TargetError, ObjectError, OSError) as exc:
            entry.error = str(exc)
        finally:
            target.close()
    return out
