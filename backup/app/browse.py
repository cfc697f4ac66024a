"""The backups as the browser app shows them: each target with its snapshots, a snapshot browsed
as a folder tree, and a restore planned (what would be written, what is already there, what
conflicts) before it runs; prune with progress and cancel.

Paths are as a snapshot's manifest stores them: ``<source folder name>/<path>``, relative,
'/'-separated. Every path or name from outside is checked here: a folder path with '..' or an
empty part is refused, a snapshot is named by its exact id among the target's, and a restore
goes only to an absolute folder outside every target and outside Keepmark's own home.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.app.maintenance import Pruned, Restored
from backup.app.maintenance import prune as maintenance_prune
from backup.app.maintenance import restore as restore_files
from backup.app.workspace import open_inventory, targets_for
from backup.errors import NothingFound, StateError, TargetFailed, UsageError
from backup.home import keepmark_home
from backup.profile.model import Profile
from backup.runs import layout
from backup.runs.restore import choose
from backup.runs.snapshot import Entry, Snapshot, list_ids, load
from backup.targets.base import ObjectError, Target, TargetError, file_hash
from inventory.progress import Progress

TREE_LIMIT = 500  # entries of a folder one answer gives, by default
TREE_MOST = 2000  # the most it gives
PLAN_LISTED = 500  # paths each list of a restore plan names (the counts are always whole)
_SNAPSHOT_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,120}$")


# -- names and paths from outside ---------------------------------------------------------------


def snapshot_path(raw: str | None, field_name: str = "path") -> str:
    """A path inside a snapshot as a request gives it ('' for the top): '/'-separated, relative,
    with no '.', '..' or empty part; ``UsageError`` naming the field otherwise."""
    text = (raw or "").strip()
    if "\\" in text or "\x00" in text:
        raise UsageError(f"{field_name}={raw!r}: a snapshot path uses '/' and no NUL or '\\'")
    text = text.rstrip("/")  # a folder may be given as 'Shoots/2026/'; '/etc' stays absolute
    if not text:
        return ""
    why = layout.unsafe_path(text)
    if why is not None:
        raise UsageError(f"{field_name}={raw!r}: not a path inside the snapshot ({why})")
    return text


def exact_glob(path: str) -> str:
    """A glob that matches ``path`` and nothing else (``[1].jpg`` is not a character class)."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in path)


def _target(profile: Profile, name: str) -> Target:
    names = [t.name for t in profile.targets]
    if name not in names:
        raise NothingFound(f"target={name!r}: no such target in profile {profile.name} ({', '.join(names)})")
    [(cfg, made)] = targets_for(profile, [name])
    if isinstance(made, Exception):
        raise TargetFailed(f"{cfg.name}: {made}")
    return made


# A manifest is never rewritten: one read serves every folder of it while it stays as it was.
_KEPT = 4
_SNAPSHOTS: OrderedDict[tuple[str, str, int, float | None], Snapshot] = OrderedDict()
_LOCK = threading.Lock()


def _snapshot(target: Target, wanted: str) -> Snapshot:
    """The snapshot ``wanted`` (its exact id, or ``latest``) of an open target."""
    if wanted != "latest" and not _SNAPSHOT_ID.match(wanted):
        raise UsageError(f"snapshot={wanted!r}: not a snapshot id")
    ids = list_ids(target)
    if not ids:
        raise NothingFound(f"{target.name}: no snapshots yet (run `backup full` first)")
    sid = ids[-1] if wanted == "latest" else wanted
    if sid not in ids:
        raise NothingFound(f"{target.name}: no snapshot {wanted!r} (see `backup snapshots`)")
    info = target.stat(layout.snapshot_key(sid))
    if info is None:
        raise NothingFound(f"{target.name}: no snapshot {sid!r}")
    memo = (target.describe(), sid, info.size, info.mtime)
    with _LOCK:
        found = _SNAPSHOTS.get(memo)
        if found is not None:
            _SNAPSHOTS.move_to_end(memo)
            return found
    snap = load(target, sid)
    if info.mtime is not None:
        with _LOCK:
            _SNAPSHOTS[memo] = snap
            while len(_SNAPSHOTS) > _KEPT:
                _SNAPSHOTS.popitem(last=False)
    return snap


def open_snapshot(profile: Profile, target: str, snapshot: str) -> Snapshot:
    """The snapshot ``snapshot`` (an exact id, or ``latest``) of the profile's target ``target``."""
    made = _target(profile, target)
    try:
        made.open_session()
        return _snapshot(made, snapshot)
    except (TargetError, ObjectError, OSError) as exc:
        raise TargetFailed(f"{target}: {exc}") from exc
    finally:
        made.close()


# -- a snapshot as folders ------------------------------------------------------------------------


@dataclass
class TreeEntry:
    name: str
    path: str
    kind: str  # "folder" | "file"
    size: int  # a folder: the bytes of every file under it
    files: int = 0  # a folder: how many files are under it
    sha256: str | None = None
    mtime: str | None = None

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "path": self.path, "kind": self.kind, "size": self.size}
        if self.kind == "folder":
            doc["files"] = self.files
        else:
            doc["sha256"], doc["mtime"] = self.sha256, self.mtime
        return doc


@dataclass
class SnapshotTree:
    """One folder of a snapshot: its sub-folders (with how many files and bytes under each),
    then its files, a page of them."""

    profile: str
    target: str
    snapshot: dict[str, Any]
    path: str
    entries: list[TreeEntry] = field(default_factory=list)
    total: int = 0  # entries in the folder
    offset: int = 0
    limit: int = TREE_LIMIT
    files: int = 0  # files under the folder, at any depth
    bytes: int = 0
    select: str | None = None

    ok = True

    @property
    def parents(self) -> list[dict[str, str]]:
        """The breadcrumbs: each folder from the top down to this one."""
        parts = self.path.split("/") if self.path else []
        return [{"name": p, "path": "/".join(parts[: i + 1])} for i, p in enumerate(parts)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "target": self.target,
            "snapshot": self.snapshot,
            "path": self.path,
            "parents": self.parents,
            "entries": [e.as_dict() for e in self.entries],
            "count": len(self.entries),
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "more": self.offset + len(self.entries) < self.total,
            "files": self.files,
            "bytes": self.bytes,
            "select": self.select,
        }


def folder_of(snap: Snapshot, path: str) -> tuple[list[TreeEntry], int, int]:
    """The entries of the folder ``path`` of a snapshot, folders first, each group by name as
    people sort it; and the files and bytes under it. ``NothingFound`` if there is no such folder."""
    prefix = f"{path}/" if path else ""
    folders: dict[str, TreeEntry] = {}
    files: list[TreeEntry] = []
    count = size = 0
    for e in snap.entries:
        if not e.path.startswith(prefix):
            continue
        count += 1
        size += e.size
        rest = e.path[len(prefix) :]
        head, sep, _ = rest.partition("/")
        if sep:
            folder = folders.get(head)
            if folder is None:
                folder = folders[head] = TreeEntry(head, prefix + head, "folder", 0)
            folder.files += 1
            folder.size += e.size
        else:
            files.append(TreeEntry(head, e.path, "file", e.size, sha256=e.sha256, mtime=e.mtime))
    if not count and path:
        if any(e.path == path for e in snap.entries):
            raise UsageError(f"path={path!r}: a file of snapshot {snap.id}, not a folder")
        raise NothingFound(f"snapshot {snap.id} has no folder {path!r}")

    def order(entry: TreeEntry) -> tuple[str, str]:
        return (entry.name.casefold(), entry.name)

    return sorted(folders.values(), key=order) + sorted(files, key=order), count, size


def snapshot_tree(
    profile: Profile,
    target: str,
    snapshot: str,
    path: str | None = None,
    *,
    select: str | None = None,
    offset: int | None = None,
    limit: int = TREE_LIMIT,
) -> SnapshotTree:
    """The folder ``path`` of a target's snapshot, a page of ``limit`` entries from ``offset``.
    ``select``: a file to show chosen; without ``path`` its folder is shown, and without
    ``offset`` the page that holds it."""
    if not 1 <= limit <= TREE_MOST:
        raise UsageError(f"limit={limit}: give a number from 1 to {TREE_MOST}")
    if offset is not None and offset < 0:
        raise UsageError(f"offset={offset}: 0 or more")
    chosen = snapshot_path(select, "select") or None
    folder = snapshot_path(path)
    if path is None and chosen is not None:
        folder = chosen.rsplit("/", 1)[0] if "/" in chosen else ""
    snap = open_snapshot(profile, target, snapshot)
    entries, files, size = folder_of(snap, folder)
    if chosen is not None and not any(e.path == chosen for e in snap.entries):
        raise NothingFound(f"select={chosen!r}: no such file in snapshot {snap.id}")
    if offset is None:
        offset = 0
        at = next((i for i, e in enumerate(entries) if e.path == chosen), None)
        if at is not None:
            offset = at // limit * limit
    return SnapshotTree(
        profile.name,
        target,
        snap.summary(),
        folder,
        entries[offset : offset + limit],
        len(entries),
        offset,
        limit,
        files,
        size,
        chosen,
    )


# -- where a restore may go ------------------------------------------------------------------------


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # another drive (Windows)
        return False


def restore_destination(profile: Profile, to: str) -> tuple[Path, bool]:
    """The folder a restore may write into, and whether it exists already: an absolute path,
    not a file, not inside a target's folder or Keepmark's home (its state). ``UsageError``
    naming the folder and why not."""
    raw = (to or "").strip()
    if not raw:
        raise UsageError("to: empty; give the absolute path of the folder to restore into")
    if "\x00" in raw:
        raise UsageError(f"to={to!r}: not a folder path")
    raw = os.path.expanduser(raw)
    if not os.path.isabs(raw):
        raise UsageError(f"to={to}: a relative path; give an absolute folder path, e.g. {Path.home()}")
    folder = Path(os.path.normpath(raw))
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"to={folder}: is a file, not a folder")
    real = os.path.realpath(folder)
    home = os.path.realpath(keepmark_home())
    if _inside(real, home):
        raise UsageError(f"to={folder}: inside Keepmark's own folder {home}; choose another folder")
    for t in profile.targets:
        if t.type == "local" and t.path is not None:
            where = os.path.realpath(os.path.expanduser(str(t.path)))
            if _inside(real, where):
                raise UsageError(
                    f"to={folder}: inside target {t.name}'s folder {where}; choose another folder"
                )
    return folder, folder.is_dir()


# -- a restore, planned then run ------------------------------------------------------------------


def include_for(snap: Snapshot, items: Sequence[str]) -> list[str]:
    """Exact globs for the chosen files and folders of a snapshot (``[]``: the whole of it)."""
    paths = [snapshot_path(p, "paths") for p in items]
    if not paths:
        raise UsageError("paths: choose at least one file or folder to restore")
    if "" in paths:
        return []
    known_files = {e.path for e in snap.entries}
    for p in paths:
        if p not in known_files and not any(e.path.startswith(p + "/") for e in snap.entries):
            raise NothingFound(f"paths: {p!r} is no file or folder of snapshot {snap.id}")
    return [exact_glob(p) for p in paths]


@dataclass
class RestorePlan:
    """What a restore would do, before it runs: the files it would write, those already there
    with the same content, and the conflicts (a different file there already; kept unless
    ``overwrite``)."""

    profile: str
    target: str
    snapshot: str
    to: str
    exists: bool  # the folder is there already (else the restore creates it)
    paths: list[str]
    overwrite: bool
    files: int = 0
    bytes: int = 0
    write: list[str] = field(default_factory=list)
    write_count: int = 0
    same: list[str] = field(default_factory=list)
    same_count: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    conflict_count: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The restore would write every file: nothing refused, no conflict left standing."""
        return not self.refused and (self.overwrite or not self.conflict_count)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "target": self.target,
            "snapshot": self.snapshot,
            "to": self.to,
            "exists": self.exists,
            "paths": self.paths,
            "overwrite": self.overwrite,
            "files": self.files,
            "bytes": self.bytes,
            "write": self.write,
            "write_count": self.write_count,
            "same": self.same,
            "same_count": self.same_count,
            "conflicts": self.conflicts,
            "conflict_count": self.conflict_count,
            "refused": self.refused,
            "ok": self.ok,
        }


def restore_plan(
    profile: Profile,
    target: str,
    snapshot: str,
    paths: Sequence[str],
    to: str,
    *,
    overwrite: bool = False,
) -> RestorePlan:
    """What restoring ``paths`` (files and folders of the snapshot; '' the whole of it) into
    ``to`` would do; nothing is written. A file already there is read only when its size is
    the snapshot's (to tell the same content from a conflict)."""
    folder, exists = restore_destination(profile, to)
    snap = open_snapshot(profile, target, snapshot)
    include = include_for(snap, paths)
    plan = RestorePlan(
        profile.name, target, snap.id, str(folder), exists, [snapshot_path(p) for p in paths], overwrite
    )
    for entry in choose(snap.entries, include, snap.id):
        plan.files += 1
        plan.bytes += entry.size
        _plan_one(plan, folder, entry)
    return plan


def _plan_one(plan: RestorePlan, folder: Path, entry: Entry) -> None:
    why = layout.unsafe_path(entry.path)
    if why is not None:
        plan.refused.append({"path": entry.path, "error": f"refused: {why}"})
        return
    dest = folder.joinpath(*entry.path.split("/"))
    if not os.path.lexists(dest):
        plan.write_count += 1
        if len(plan.write) < PLAN_LISTED:
            plan.write.append(entry.path)
        return
    if dest.is_symlink() or not dest.is_file():
        plan.refused.append({"path": entry.path, "error": f"{dest} exists and is not a regular file"})
        return
    st = dest.stat()
    if st.st_size == entry.size and file_hash("sha256", dest) == entry.sha256:
        plan.same_count += 1
        if len(plan.same) < PLAN_LISTED:
            plan.same.append(entry.path)
        return
    plan.conflict_count += 1
    if len(plan.conflicts) < PLAN_LISTED:
        from backup.runs.snapshot import iso_from_ns

        plan.conflicts.append(
            {
                "path": entry.path,
                "dest": str(dest),
                "size": entry.size,
                "mtime": entry.mtime,
                "existing_size": st.st_size,
                "existing_mtime": iso_from_ns(st.st_mtime_ns),
            }
        )


def check_restore(profile: Profile, target: str, snapshot: str, paths: Sequence[str], to: str) -> None:
    """What a restore is asked is possible (the target, the snapshot, the paths in it, the
    folder): ``UsageError`` or ``NothingFound`` naming what is not, before a job starts."""
    restore_destination(profile, to)
    include_for(open_snapshot(profile, target, snapshot), paths)


def chosen(profile: Profile, target: str | None) -> list[str]:
    """``[target]`` when it is one of the profile's targets (``[]``: all of them)."""
    if target is None or target == "":
        return []
    names = [t.name for t in profile.targets]
    if target not in names:
        raise NothingFound(
            f"target={target!r}: no such target in profile {profile.name} ({', '.join(names)})"
        )
    return [target]


@dataclass
class RestoreDone:
    """``backup restore``'s document, and whether the folder was created for it."""

    restored: Restored
    created: bool

    @property
    def ok(self) -> bool:
        return self.restored.ok

    def as_dict(self) -> dict[str, Any]:
        return {**self.restored.as_dict(), "created": self.created}


def restore_paths(
    profile: Profile,
    target: str,
    snapshot: str,
    paths: Sequence[str],
    to: str,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> RestoreDone:
    """Restore ``paths`` (files and folders of the snapshot, exactly those) into ``to``: a file
    already there with other content is kept unless ``overwrite``."""
    folder, exists = restore_destination(profile, to)
    snap = open_snapshot(profile, target, snapshot)
    include = include_for(snap, paths)
    done = restore_files(
        profile, target, folder, snapshot=snap.id, include=include, overwrite=overwrite, progress=progress
    )
    return RestoreDone(done, not exists)


# -- the backups page ------------------------------------------------------------------------------


@dataclass
class TargetView:
    name: str
    type: str
    address: str  # the folder, bucket or remote alone (the page gives the type in its language)
    snapshots: list[dict[str, Any]] = field(default_factory=list)  # newest first
    error: str | None = None
    damaged_manifests: list[str] = field(default_factory=list)
    damaged_copies: list[dict[str, str]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "address": self.address,
            "error": self.error,
            "snapshots": self.snapshots,
            "damaged_manifests": self.damaged_manifests,
            "damaged_copies": self.damaged_copies,
            "state": self.state,
        }


@dataclass
class BackupsView:
    profile: str
    retention: dict[str, int]
    targets: list[TargetView] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.error is None and not t.damaged_manifests and not t.damaged_copies for t in self.targets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "ok": self.ok,
            "retention": self.retention,
            "targets": [t.as_dict() for t in self.targets],
        }


def damaged_copies(profile: Profile) -> dict[str, list[dict[str, str]]]:
    """The open findings of damaged copies, by target (what ``backup repair`` would replace)."""
    try:
        inv = open_inventory(profile, create=False)
    except StateError:
        return {}
    with inv:
        rows = inv.open_damage()
    out: dict[str, list[dict[str, str]]] = {}
    for d in rows:
        out.setdefault(d.target, []).append(
            {"path": d.path, "problem": d.problem, "found_by": d.found_by, "found": d.found}
        )
    return out


def backups_view(profile: Profile) -> BackupsView:
    """Every target of the profile: its state (the catalog's last snapshot and read-back), its
    snapshots newest first (read from the target), and what is damaged on it."""
    from backup.app.snapshots import list_snapshots
    from backup.app.status import status

    listed = {t.name: t for t in list_snapshots(profile).targets}
    states = {t["name"]: t for t in status(profile).as_dict()["targets"]}
    damage = damaged_copies(profile)
    view = BackupsView(
        profile.name, {"weekly": profile.retention.weekly, "monthly": profile.retention.monthly}
    )
    for cfg in profile.targets:
        found = listed.get(cfg.name)
        view.targets.append(
            TargetView(
                cfg.name,
                cfg.type,
                cfg.address(),
                list(reversed(found.snapshots)) if found else [],
                found.error if found else None,
                list(found.damaged) if found else [],
                damage.get(cfg.name, []),
                states.get(cfg.name, {}),
            )
        )
    return view


# -- prune, with progress and cancel ---------------------------------------------------------------


def prune(
    profile: Profile, only: Sequence[str] = (), *, dry_run: bool = False, progress: Progress | None = None
) -> Pruned:
    """``backup prune`` (``maintenance.prune``, with ``progress``: stage ``prune``, one file per
    object removed, stopping at its cancel between removals) of the targets named."""
    for name in only:
        chosen(profile, name)  # an unknown target is refused by name, before anything is read
    return maintenance_prune(profile, only, dry_run=dry_run, progress=progress)
