"""A profile's working state: its inventory, and scans of its source folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from backup.errors import StateError, UsageError
from backup.home import inventory_path, keepmark_home
from backup.profile.model import Profile
from inventory import DatabaseError, Inventory, Progress, ScanReport, Source, scan
from inventory.store.inventory import FileRow


def open_inventory(profile: Profile, *, create: bool = True) -> Inventory:
    """The profile's inventory database (created on first use unless ``create`` is False)."""
    try:
        return Inventory.open(inventory_path(profile.name), create=create)
    except DatabaseError as exc:
        raise StateError(str(exc)) from exc


def sources_for(profile: Profile, paths: Sequence[str] = ()) -> list[Source]:
    """The profile's source folders, or the given paths inside them."""
    roots = [os.path.abspath(f) for f in profile.sources.folders]
    if not paths:
        return [Source(r, r) for r in roots]
    out: list[Source] = []
    for p in paths:
        start = os.path.abspath(os.path.expanduser(p))
        owner = next((r for r in roots if start == r or start.startswith(r.rstrip(os.sep) + os.sep)), None)
        if owner is None:
            raise UsageError(
                f"{p}: not inside any source folder of profile {profile.name!r} "
                f"({', '.join(roots)}); add it to [sources] folders in {profile.file}"
            )
        out.append(Source(owner, start))
    return out


def excluded_folders(profile: Profile) -> list[str]:
    """Folders never scanned even inside a source: the stamped output (unless stamped copies
    sit beside their originals, told apart by a suffix) and Keepmark's own state."""
    out = [str(keepmark_home())]
    if profile.watermark.output is not None and not profile.watermark.suffix:
        out.append(str(profile.watermark.output))
    return out


def ignore_globs(profile: Profile) -> list[str]:
    """The profile's ignore globs, plus the stamped copies' names when they carry a suffix."""
    globs = list(profile.sources.ignore)
    if profile.watermark.suffix:
        globs += [f"*{profile.watermark.suffix}.*"]
    return globs


def scan_profile(
    profile: Profile,
    paths: Sequence[str] = (),
    *,
    progress: Progress | None = None,
    on_recorded: Callable[[list[FileRow]], None] | None = None,
    skip_newer: int | None = None,
) -> ScanReport:
    """Record new and changed files of the profile's source folders (or of ``paths`` in them);
    ``skip_newer``: see ``inventory.scan``."""
    sources = sources_for(profile, paths)
    with open_inventory(profile) as inv:
        report = scan(
            inv,
            sources,
            ignore=ignore_globs(profile),
            follow_symlinks=profile.sources.follow_symlinks,
            exclude=excluded_folders(profile),
            progress=progress,
            on_recorded=on_recorded,
            skip_newer=skip_newer,
        )
        checkpoint_now(profile, inv, after_scan=True)
        return report


def checkpoint_now(profile: Profile, inv: Inventory, *, after_scan: bool = False) -> None:
    """Sign a checkpoint of what was just recorded and send waiting timestamp requests. After
    a scan, entries that only note backup snapshots wait for the next checkpoint (so that a
    scan that found nothing new signs nothing). A checkpoint that cannot be made (the ledger
    no longer matches an earlier one) does not stop the work that recorded the content:
    ``backup ledger verify`` names the problem."""
    from backup.proof.store import ProofError, ProofStore
    from backup.runs.snapshot import SNAPSHOT_ENTRY

    try:
        ProofStore.for_profile(profile).checkpoint(inv, unless_only=(SNAPSHOT_ENTRY,) if after_scan else ())
    except ProofError:
        pass


def state_summary(profile: Profile) -> dict[str, object]:
    db = inventory_path(profile.name)
    return {"state_dir": str(Path(db).parent), "inventory": str(db), "inventory_exists": db.exists()}
