"""The second level of checking a profile (``backup profile check``): what can be checked on
this machine without a network. The folders that must exist, a logo and a font that must be
files, the stamped output outside the sources, a local target apart from the sources."""

from __future__ import annotations

from pathlib import Path

from backup.errors import Problem
from backup.profile.model import Profile


def inside(child: Path, parent: Path) -> bool:
    """Whether ``child`` is strictly inside ``parent``."""
    try:
        child.relative_to(parent)
    except ValueError:
        return False
    return child != parent


def check_on_disk(profile: Profile) -> tuple[list[Problem], list[Problem]]:
    """What can be checked on this machine without a network: (errors, warnings)."""
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
    if not profile.targets:
        warnings.append(
            Problem("targets", "no backup targets", "add at least two [[targets]], one of them off-site")
        )
    return errors, warnings
