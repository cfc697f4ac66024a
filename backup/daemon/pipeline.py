"""What happens to a file whose write has finished: inventory record -> stamped copy (photos
and videos) -> if it is under one of the profile's important folders, a backup to every target
now. Each stage skips what is already done (an unchanged file is not recorded again, a copy
already made with the same style is not made again, a target that holds the file is not sent
it again), so running a file through twice, after a kill, changes nothing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backup.profile.model import Profile
from backup.runs.lock import Busy
from inventory.progress import Progress
from inventory.store.inventory import FileRow


@dataclass
class BatchResult:
    stamped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    backed_up: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # important files whose backup must wait
    unsettled: list[str] = field(default_factory=list)  # found still being written: for the settler


def important_rows(profile: Profile, paths: Sequence[str] | None = None) -> list[FileRow]:
    """The recorded files under the profile's important folders (those of ``paths`` only, if
    given), as backup runs take them."""
    from backup.app.workspace import open_inventory

    folders = [os.path.abspath(f) for f in profile.sources.important]
    if not folders:
        return []
    with open_inventory(profile) as inv:
        rows = inv.current_files(paths)
    out = []
    for row in rows:
        path = row.path
        if any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders):
            out.append(row)
    return out


def process(
    profile: Profile, paths: Sequence[str] | None, stop: Progress, *, settle_ns: int = 0
) -> BatchResult:
    """Run settled files through the pipeline; ``None``: everything in the source folders (the
    reconciliation on start), except files modified in the last ``settle_ns`` nanoseconds,
    which may still be being written: they are returned in ``unsettled``."""
    import time

    from backup.app.scan import record
    from backup.app.stamp import stamp_profile
    from inventory.record.scan import STILL_WRITTEN

    result = BatchResult()
    targets = paths if paths is None else [p for p in paths if os.path.lexists(p)]
    if targets is not None and not targets:
        return result
    scan = record(
        profile,
        targets or (),
        progress=stop,
        skip_newer=time.time_ns() - settle_ns if paths is None else None,
    )
    result.unsettled = [s["path"] for s in scan.skipped if s["reason"] == STILL_WRITTEN]
    for item in scan.errors:
        result.failed.append({"source": item["path"], "error": item["error"]})
    report = stamp_profile(profile, targets or (), progress=stop, scan=False)
    result.stamped = report.stamped
    result.failed.extend(report.failed)
    stop.check()
    if profile.targets and profile.sources.important:
        rows = important_rows(profile, targets)
        if paths is None:
            rows = not_on_every_target(profile, rows)
        if rows:
            result.waiting = [r.path for r in rows]
            from backup.app.backups import back_up_files

            try:
                results = back_up_files(profile, rows)
            except Busy:
                return result  # another run holds the lock: tried again shortly
            result.waiting = []
            result.backed_up = [r.as_dict() for r in results]
    return result


def not_on_every_target(profile: Profile, rows: Sequence[FileRow]) -> list[FileRow]:
    """Those of ``rows`` that some target of the profile does not hold (as the catalog knows)."""
    from backup.daemon.facts import missing_on

    if not profile.targets or not rows:
        return []
    return [row for row, lacking in zip(rows, missing_on(profile, rows), strict=True) if lacking]
