"""``backup snapshots``: each target's snapshots, read from the target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backup.app.workspace import targets_for
from backup.profile.model import Profile
from backup.runs import layout
from backup.runs.snapshot import BadManifest, load
from backup.targets.base import ObjectError, Target, TargetError


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
            for summary in summaries(target):
                if isinstance(summary, str):
                    entry.damaged.append(summary)
                else:
                    entry.snapshots.append(summary)
        except (TargetError, ObjectError, OSError) as exc:
            entry.error = str(exc)
        finally:
            target.close()
    return out


# (the target, the manifest's key, its size and time) -> its summary, or why it is damaged.
# A manifest is never rewritten: one read is enough while it stays as it was (the browser app
# lists the snapshots on every visit).
_SUMMARIES: dict[tuple[str, str, int, float | None], dict[str, Any] | str] = {}


def summaries(target: Target) -> list[dict[str, Any] | str]:
    """The summary of each snapshot on ``target``, oldest first; a damaged manifest's problem."""
    found = []
    for info in target.list(layout.SNAPSHOTS):
        name = info.key[len(layout.SNAPSHOTS) :]
        if name.endswith(".json") and "/" not in name:
            found.append(info)
    out: list[dict[str, Any] | str] = []
    for info in sorted(found, key=lambda i: i.key):
        memo = (target.describe(), info.key, info.size, info.mtime)
        summary = _SUMMARIES.get(memo)
        if summary is None:
            try:
                summary = load(target, info.key[len(layout.SNAPSHOTS) : -len(".json")]).summary()
            except BadManifest as exc:
                summary = str(exc)
            if info.mtime is not None:  # without a time, a rewrite could not be told apart
                _SUMMARIES[memo] = summary
        out.append(dict(summary) if isinstance(summary, dict) else summary)
    return out
