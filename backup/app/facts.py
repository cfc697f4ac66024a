"""What the state directory says about a profile's backups, read without opening a target:
the catalog's runs per target, and which originals some target does not hold yet. Shared by
``backup status`` and ``backup check``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from backup.app.workspace import open_inventory, source_labels
from backup.daemon.schedule import GOOD
from backup.home import inventory_path, state_dir
from backup.profile.model import Profile
from backup.runs import layout
from backup.runs.catalog import Catalog, catalog_path
from backup.runs.plan import wanted_files
from backup.runs.snapshot import parse_time as snapshot_time
from inventory.store.rows import FileRow


def parse_time(stamp: str | None) -> datetime | None:
    return snapshot_time(stamp) if stamp else None


def runs_by_target(profile: Profile) -> dict[str, list[dict[str, Any]]]:
    """Every run the catalog logged, per target, newest first."""
    path = catalog_path(state_dir(profile.name))
    out: dict[str, list[dict[str, Any]]] = {t.name: [] for t in profile.targets}
    if not path.exists():
        return out
    with Catalog(path) as catalog:
        runs = catalog.runs()
    for run in runs:
        out.setdefault(run["target"], []).append(run)
    return out


def served(profile: Profile) -> dict[str, datetime]:
    """For each kind of run, when the newest one that reached every target of the profile
    started (by hand or by the daemon), as the catalog logged it: the earliest of the targets'
    newest good runs of that kind. A kind missing from the answer has not reached them all."""
    path = catalog_path(state_dir(profile.name))
    out: dict[str, datetime] = {}
    if not path.exists() or not profile.targets:
        return out
    with Catalog(path) as catalog:
        for kind in ("full", "incremental"):
            starts = catalog.last_starts(kind, GOOD)
            times = [parse_time(starts.get(t.name)) for t in profile.targets]
            if all(times):
                out[kind] = min(t for t in times if t is not None)
    return out


def newest(
    runs: list[dict[str, Any]], kinds: tuple[str, ...], statuses: tuple[str, ...] = GOOD
) -> dict[str, Any] | None:
    return next((r for r in runs if r["kind"] in kinds and r["status"] in statuses), None)


def newest_snapshot(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((r for r in runs if r["snapshot"]), None)


def unprotected(profile: Profile) -> list[dict[str, Any]]:
    """Originals (present in the source folders) that some target does not hold, as far as the
    catalog knows: path, first_seen and the targets that lack it. Worked out in SQLite, and
    remembered while neither the inventory, the catalog nor the profile changes (the browser
    app asks again on every page)."""
    if not profile.targets or not inventory_path(profile.name).exists():
        return []
    catalog = catalog_path(state_dir(profile.name))
    names = [t.name for t in profile.targets]
    key = (
        str(profile.file),
        tuple(names),
        tuple(str(f) for f in profile.sources.folders),
        db_stamp(inventory_path(profile.name)),
        db_stamp(catalog),
    )
    found = _UNPROTECTED.get(profile.name)
    if found is not None and found[0] == key:
        return [dict(item) for item in found[1]]
    with open_inventory(profile, create=False) as inv:
        if catalog.exists():
            labels = source_labels(profile, keep=False, inv=inv)
            prefixes = {
                root: f"{layout.ORIGINALS}{labels.get(root) or layout.source_label(root)}/"
                for root in inv.present_roots()
            }
            rows = inv.lacking_on(str(catalog), names, prefixes)
        else:  # nothing backed up yet: every file lacks every target
            rows = [(d.file.path, d.first_seen, list(names)) for d in inv.current_files_dated()]
    result = [{"path": path, "first_seen": seen, "missing_on": lacking} for path, seen, lacking in rows]
    _UNPROTECTED[profile.name] = (key, result)
    return [dict(item) for item in result]


# profile name -> (what the answer was worked out from, the answer)
_UNPROTECTED: dict[str, tuple[tuple[Any, ...], list[dict[str, Any]]]] = {}


def db_stamp(db: Path) -> tuple[tuple[int, int] | None, ...]:
    """What changes whenever a SQLite database in WAL mode is written: its file's and its
    write-ahead log's size and modification time."""
    out: list[tuple[int, int] | None] = []
    for path in (db, db.with_name(db.name + "-wal")):
        try:
            st = path.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


def missing_on(profile: Profile, rows: Sequence[FileRow]) -> list[list[str]]:
    """For each recorded file, the names of the profile's targets that do not hold it (as the
    catalog knows: a row there is written only once the object is durable on the target)."""
    path = catalog_path(state_dir(profile.name))
    stored: dict[str, dict[str, str]] = {}
    if path.exists():
        with Catalog(path) as catalog:
            stored = {t.name: catalog.stored(t.name) for t in profile.targets}
    return [
        [t.name for t in profile.targets if stored.get(t.name, {}).get(want.key) != want.sha256]
        for want in wanted_files(rows, source_labels(profile, keep=False))
    ]
