"""The second level of checking a profile (``backup profile check``): what can be checked on
this machine without a network. The folders that must exist, a logo and a font that must be
files, the stamped output outside the sources, a local target apart from the sources (and a
warning when it is on the same disk as one)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from backup.errors import Problem
from backup.profile.model import Profile, Target

SAME_DISK_FIX = (
    "a folder on the computer's own disk protects against deletion, not against losing or breaking "
    "the computer: back up to an external drive or a cloud target as well"
)


def inside(child: Path, parent: Path) -> bool:
    """Whether ``child`` is strictly inside ``parent``."""
    try:
        child.relative_to(parent)
    except ValueError:
        return False
    return child != parent


def device_of(path: Path) -> int | None:
    """The device of ``path``, or of its nearest existing ancestor (where a folder not made yet
    will be); None when nothing can be looked at."""
    for candidate in (path, *path.parents):
        try:
            return os.stat(candidate).st_dev
        except OSError:
            continue
    return None


def on_source_disk(
    profile: Profile, drive_away: Callable[[Path], Path | None] | None = None
) -> list[tuple[Target, Path]]:
    """Local targets on the same disk as a source folder (the same ``st_dev`` as the target's
    folder, or its nearest existing ancestor), each with that source folder. A target whose
    drive is away (``drive_away`` names its mount point) is left out: its ancestor is not where
    it will be."""
    found: list[tuple[Target, Path]] = []
    sources = [(f, device_of(f)) for f in profile.sources.folders if f.is_dir()]
    for t in profile.targets:
        if t.type != "local" or t.path is None:
            continue
        if any(t.path == f or inside(t.path, f) or inside(f, t.path) for f, _ in sources):
            continue  # an overlap: an error of its own
        if drive_away is not None and drive_away(t.path) is not None:
            continue
        device = device_of(t.path)
        same = next((f for f, d in sources if d is not None and d == device), None)
        if same is not None:
            found.append((t, same))
    return found


def check_on_disk(
    profile: Profile, drive_away: Callable[[Path], Path | None] | None = None
) -> tuple[list[Problem], list[Problem]]:
    """What can be checked on this machine without a network: (errors, warnings).
    ``drive_away``: the mount point a folder needs when that drive is not mounted now."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for folder in profile.sources.folders:
        if not folder.exists():
            errors.append(
                Problem(
                    "sources.folders",
                    f"{folder} does not exist",
                    "create it, connect its drive, or fix the path",
                )
            )
        elif not folder.is_dir():
            errors.append(Problem("sources.folders", f"{folder} is not a folder", "list folders, not files"))
    for folder in profile.sources.important:
        if not folder.is_dir():
            errors.append(
                Problem("sources.important", f"{folder} does not exist", "create it or fix the path")
            )
    logo = profile.watermark.logo
    if logo is not None and not logo.is_file():
        errors.append(
            Problem(
                "watermark.logo", f"{logo} does not exist", "give the path of a PNG logo, or remove the key"
            )
        )
    font = profile.watermark.font
    if font is not None and not font.is_file():
        errors.append(
            Problem("watermark.font", f"{font} does not exist", "give the path of a .ttf/.otf/.ttc font")
        )
    out = profile.watermark.output
    if out is not None and not profile.watermark.suffix:
        for folder in profile.sources.folders:
            if out == folder or inside(out, folder):
                errors.append(
                    Problem(
                        "watermark.output",
                        f"{out} is inside the source folder {folder}",
                        'choose a folder outside the sources, or set [watermark] suffix (e.g. "-wm") '
                        "so stamped copies are never taken for originals",
                    )
                )
    cert = profile.proof.tsa_certificate
    if cert is not None and not cert.is_file():
        errors.append(
            Problem(
                "proof.tsa_certificate",
                f"{cert} does not exist",
                "save the timestamp authority's CA certificate (PEM) there, or fix the path",
            )
        )
    for t in profile.targets:
        if t.type == "local" and t.path is not None:
            if any(t.path == f or inside(t.path, f) or inside(f, t.path) for f in profile.sources.folders):
                errors.append(
                    Problem(
                        f"target {t.name}.path",
                        f"{t.path} overlaps a source folder",
                        "back up to another drive or folder",
                    )
                )
            elif not t.path.exists():
                parent = t.path.parent
                hint = (
                    "connect the drive" if not parent.exists() else "it will be created by the first backup"
                )
                warnings.append(Problem(f"target {t.name}.path", f"{t.path} does not exist yet", hint))
    for t, folder in on_source_disk(profile, drive_away):
        warnings.append(
            Problem(
                f"target {t.name}.path",
                f"{t.path} is on the same disk as the source folder {folder}",
                SAME_DISK_FIX,
            )
        )
    if not profile.targets:
        warnings.append(
            Problem("targets", "no backup targets", "add at least two [[targets]], one of them off-site")
        )
    return errors, warnings
