"""The external drives mounted now (``mounted_drives``), and the drive areas a folder picker
starts from.

The rule: a drive is an entry directly under a drive area that is a mount point now
(``os.path.ismount``: it is on another device than the area holding it) and is not a symlink to
``/``. The areas: ``/Volumes`` on macOS (where the boot volume is such a symlink);
``/media/$USER`` and ``/run/media/$USER`` (udisks) and ``/media`` (mounts made by hand, older
systems) on Linux. On Windows the drives are the drive letters that exist, less the system drive
(``%SystemDrive%``). A folder in an area that is not a mount point is a mount point whose drive
went away: a folder on the computer's own disk, never a drive (the local target's own rule,
``backup.targets.local.mount_point_needed``).

A drive Keepmark already backs up to holds a target folder: a folder with the marker
``.keepmark-target`` (``backup.targets.local.MARKER``), the drive itself or a folder directly
under it; the folders in a target folder are the profiles backed up there.
"""

from __future__ import annotations

import getpass
import os
import shutil
import string
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.targets.local import MARKER

# Folders of a drive looked into for a marker: a drive's top level is small, and this is asked
# while a person waits.
_LOOK_AT = 500


@dataclass
class TargetFolder:
    """A folder on a drive that a Keepmark target uses, and the profiles backed up in it."""

    path: Path
    profiles: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "profiles": self.profiles}


@dataclass
class Drive:
    """One mounted drive: where, its name, its room (None when the system does not say)."""

    path: Path
    label: str
    free: int | None
    total: int | None
    target_folders: list[TargetFolder] = field(default_factory=list)

    @property
    def keepmark(self) -> bool:
        """Whether Keepmark already backs up to this drive."""
        return bool(self.target_folders)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "label": self.label,
            "free": self.free,
            "total": self.total,
            "keepmark": self.keepmark,
            "target_folders": [t.as_dict() for t in self.target_folders],
        }


@dataclass
class DriveList:
    drives: list[Drive] = field(default_factory=list)

    ok = True

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "drives": [d.as_dict() for d in self.drives]}


def user_name() -> str:
    """The login name (for ``/media/$USER``), or "" when there is none."""
    for var in ("USER", "LOGNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return ""


def drive_areas() -> list[Path]:
    """The folders whose entries are drives on this system (none on Windows: drive letters)."""
    if sys.platform == "darwin":
        return [Path("/Volumes")]
    if os.name == "nt":
        return []
    user = user_name()
    per_user = [Path("/media") / user, Path("/run/media") / user] if user else []
    return [*per_user, Path("/media")]


def drive_letters(*, system: bool) -> list[Path]:
    """The drive letters that exist (``C:\\``...), the system drive only when ``system``."""
    system_drive = os.environ.get("SYSTEMDRIVE", "C:").rstrip("\\/").upper()
    found = []
    for letter in string.ascii_uppercase:
        if not system and f"{letter}:" == system_drive:
            continue
        root = f"{letter}:\\"
        if os.path.isdir(root):
            found.append(Path(root))
    return found


def _entries(areas: Sequence[Path]) -> list[Path]:
    """The entries of every area (hidden ones left out), each once, in order."""
    seen: set[Path] = set()
    found: list[Path] = []
    for area in areas:
        try:
            with os.scandir(area) as it:
                names = sorted((e.name for e in it if not e.name.startswith(".")), key=str.casefold)
        except OSError:
            continue
        for name in names:
            path = area / name
            if path not in seen:
                seen.add(path)
                found.append(path)
    return found


def _points_at_root(path: Path) -> bool:
    """A symlink to ``/``: the boot volume in ``/Volumes``."""
    return path.is_symlink() and os.path.realpath(path) == os.path.realpath(os.sep)


def drive_paths(
    areas: Sequence[Path] | None = None, *, is_mount: Callable[[Path], bool] = os.path.ismount
) -> list[Path]:
    """The mount points of the drives mounted now: the entries of ``areas`` (default: this
    system's, ``drive_areas``; on Windows the drive letters) that ``is_mount`` says are mount
    points, less symlinks to ``/``."""
    if areas is None and os.name == "nt":
        return drive_letters(system=False)
    candidates = _entries(drive_areas() if areas is None else areas)
    return [p for p in candidates if not _points_at_root(p) and p.is_dir() and is_mount(p)]


def _profiles(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as it:
            return sorted(
                (e.name for e in it if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)),
                key=str.casefold,
            )
    except OSError:
        return []


def target_folders(drive: Path) -> list[TargetFolder]:
    """The folders on ``drive`` holding a Keepmark target marker: the drive itself, or a folder
    directly under it (the first few hundred looked at)."""
    folders = [drive] if (drive / MARKER).is_file() else []
    try:
        with os.scandir(drive) as it:
            for n, entry in enumerate(it):
                if n >= _LOOK_AT:
                    break
                try:
                    if entry.is_dir(follow_symlinks=False) and os.path.isfile(
                        os.path.join(entry.path, MARKER)
                    ):
                        folders.append(Path(entry.path))
                except OSError:
                    continue
    except OSError:
        pass
    return [TargetFolder(f, _profiles(f)) for f in sorted(folders, key=lambda p: str(p).casefold())]


def _label(path: Path) -> str:
    return path.name or str(path).rstrip("\\/") or str(path)


def describe_drive(path: Path) -> Drive:
    free: int | None = None
    total: int | None = None
    try:
        usage = shutil.disk_usage(path)
        free, total = usage.free, usage.total
    except OSError:
        pass
    return Drive(path, _label(path), free, total, target_folders(path))


def mounted_drives(
    areas: Sequence[Path] | None = None, *, is_mount: Callable[[Path], bool] = os.path.ismount
) -> DriveList:
    """The external drives mounted now (see the module docstring for the rule), each with its
    free and total bytes and the Keepmark target folders on it. ``areas``: the folders whose
    entries may be drives (default: this system's); ``is_mount``: the mount-point test (tests
    give their own, to stand for a drive without mounting one)."""
    return DriveList([describe_drive(p) for p in drive_paths(areas, is_mount=is_mount)])
