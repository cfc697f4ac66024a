"""What a backup run reports: per target, and for the whole run (the ``--json`` documents of
``backup incremental`` and ``backup full``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TargetResult:
    name: str
    status: str = "ok"  # ok | partial | failed (| interrupted, in the catalog only)
    files: int = 0  # uploaded by this run
    bytes: int = 0
    snapshot: str | None = None
    error: str | None = None
    total_files: int = 0  # in the snapshot
    total_bytes: int = 0
    unchanged: int = 0
    versions: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    # Damaged copies found or known (path, key, sha256, problem, found_by): replaced by this
    # run, or found and not replaced (their upload failed: see ``failed``).
    repaired: list[dict[str, str]] = field(default_factory=list)
    damaged: list[dict[str, str]] = field(default_factory=list)
    read_back: dict[str, Any] | None = None  # a full run's read-back (backup.runs.readback)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "files": self.files,
            "bytes": self.bytes,
            "snapshot": self.snapshot,
            "error": self.error,
            "total_files": self.total_files,
            "total_bytes": self.total_bytes,
            "unchanged": self.unchanged,
            "versions": self.versions,
            "failed": self.failed,
            "repaired": self.repaired,
            "damaged": self.damaged,
            "read_back": self.read_back,
        }


@dataclass
class RunReport:
    kind: str
    scan: dict[str, Any] = field(default_factory=dict)
    targets: list[TargetResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.scan.get("errors") and all(t.status == "ok" for t in self.targets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ok": self.ok,
            "scan": self.scan,
            "targets": [t.as_dict() for t in self.targets],
        }
