"""``backup init`` and ``backup profile list|show|check``: the creator's accounts."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.app.timestamps import Chosen, choose_authority, install, proof_section
from backup.app.workspace import state_summary
from backup.errors import Problem, ProfileError, ProfileNotFound, UsageError
from backup.profile.load import available, load, locate

__all__ = ["check", "init", "list_profiles", "load", "require_name", "show"]
from backup.profile.model import Profile
from backup.profile.ondisk import check_on_disk
from backup.profile.setup import create_profile
from backup.profile.specs import Lookups, Remotes, S3Options
from backup.profile.write import Schedule
from inventory.atomic import atomic_write_text


@dataclass
class Created:
    profile: Profile
    timestamps: Chosen | None = None  # the timestamp authority chosen; None: none

    def as_dict(self) -> dict[str, Any]:
        p = self.profile
        return {
            "ok": True,
            "profile": p.name,
            "file": str(p.file),
            "settings": p.as_dict(),
            "timestamps": self.timestamps.as_dict() if self.timestamps else None,
        }


def init(
    name: str,
    *,
    account: str,
    handle: str,
    sources: Sequence[str],
    targets: Sequence[str] = (),
    important: Sequence[str] = (),
    ignore: Sequence[str] = (),
    output: str | None = None,
    overwrite: bool = False,
    endpoint: str | None = None,
    region: str | None = None,
    addressing: str | None = None,
    aws_profile: str | None = None,
    incremental: str | None = None,
    full: str | None = None,
    on_battery: bool | None = None,
    tsa: str | None = None,
    tsa_certificate: str | None = None,
    no_tsa: bool = False,
) -> Created:
    """Write ``<home>/profiles/NAME.toml`` from these answers, checked before it is written.
    ``targets`` are specs as typed: a folder path, ``s3://bucket/prefix``, ``rclone:remote:path``
    or ``remote:path`` naming a configured rclone remote; ``endpoint``, ``region``,
    ``addressing`` and ``aws_profile`` go to every S3 target. ``incremental`` and ``full`` are
    schedule slots (``weekly sun 03:00``, ``monthly 1 04:00``, ``off``; the defaults when None).
    Trusted timestamps: ``tsa`` names an offered authority (key or address) or any address with
    its CA ``tsa_certificate``; ``no_tsa`` chooses none; else the first public authority offered
    (``backup.proof.authorities``) is chosen, its certificate copied into the home, and the
    profile's ``[proof]`` says what is sent (only a hash of each checkpoint)."""
    authority = choose_authority(tsa, certificate=tsa_certificate, no_tsa=no_tsa)
    defaults = Schedule()
    schedule = Schedule(
        incremental if incremental is not None else defaults.incremental,
        full if full is not None else defaults.full,
        on_battery if on_battery is not None else defaults.on_battery,
    )
    profile = create_profile(
        name,
        account=account,
        handle=handle,
        sources=sources,
        targets=targets,
        important=important,
        ignore=ignore,
        output=output,
        overwrite=overwrite,
        s3=S3Options(endpoint, region, addressing, aws_profile),
        lookups=LOOKUPS,
        schedule=schedule,
    )
    chosen = install(authority, default=not tsa) if authority is not None else None
    # The [proof] table after what create_profile wrote and checked (its own render has none).
    text = Path(profile.file).read_text(encoding="utf-8")
    atomic_write_text(Path(profile.file), text.rstrip("\n") + "\n\n" + proof_section(chosen))
    return Created(load(str(profile.file)), chosen)


def configured_remotes() -> Remotes:
    """The rclone remotes in the config rclone reads (``RCLONE_CONFIG`` or its default place)."""
    from backup.targets.base import TargetError
    from backup.targets.rclone import list_remotes

    try:
        return Remotes(tuple(list_remotes()))
    except TargetError as exc:
        return Remotes(problem=str(exc))


def drive_away(path: Path) -> Path | None:
    """The mount point ``path`` needs when that drive is not mounted now, else None (the local
    target's own rule: ``/Volumes/X``, ``/media/X``, ``/mnt/X``, ``/run/media/USER/X``)."""
    from backup.targets.local import mount_point_needed

    point = mount_point_needed(path)
    return point if point is not None and not os.path.ismount(point) else None


LOOKUPS = Lookups(remotes=configured_remotes, drive_away=drive_away)


@dataclass
class ProfileList:
    """Every profile in the Keepmark home, each valid or not, and which one is selected."""

    profiles: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"profiles": self.profiles}


def list_profiles(selected: str | None = None) -> ProfileList:
    chosen = None
    try:
        chosen = locate(selected)
    except ProfileNotFound:
        if selected:
            raise
    rows = []
    for path in available():
        entry: dict[str, Any] = {"name": path.stem, "file": str(path), "selected": path == chosen}
        try:
            p = load(str(path))
            entry.update(account=p.account.name, handle=p.account.handle, valid=True)
        except ProfileError as exc:
            entry.update(valid=False, error=str(exc))
        rows.append(entry)
    return ProfileList(rows)


@dataclass
class ProfileShown:
    profile: Profile

    def as_dict(self) -> dict[str, Any]:
        p = self.profile
        return {"profile": p.name, "file": str(p.file), **state_summary(p), "settings": p.as_dict()}


def show(profile: Profile) -> ProfileShown:
    return ProfileShown(profile)


@dataclass
class ProfileCheck:
    """A profile checked as ``backup profile check`` checks it: parsed (each problem naming its
    key), then against the disk (source folders, logo, font, the targets' places)."""

    file: Path
    profile: Profile | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.profile is not None and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "file": str(self.file),
            "problems": [p.as_dict() for p in self.problems],
            "warnings": [p.as_dict() for p in self.warnings],
        }


def check(ref: str | None) -> ProfileCheck:
    """Check the profile ``ref`` names (a name or a path; ``ProfileNotFound`` if none)."""
    path = locate(ref)
    try:
        profile = load(str(path))
    except ProfileError as exc:
        return ProfileCheck(Path(exc.file), None, exc.problems)
    errors, warnings = check_on_disk(profile, drive_away)
    return ProfileCheck(path, profile, errors, warnings + _named_like_remotes(profile))


def _named_like_remotes(profile: Profile) -> list[Problem]:
    """Local targets whose folder is named like ``gdrive:Keepmark`` after a configured rclone
    remote (what ``backup init --target gdrive:Keepmark`` wrote before it knew remotes)."""
    found = []
    remotes: tuple[str, ...] | None = None
    for t in profile.targets:
        if t.type != "local" or t.path is None:
            continue
        head, colon, rest = t.path.name.partition(":")
        if not colon or not head:
            continue
        if remotes is None:
            remotes = configured_remotes().names
        if head in remotes:
            found.append(
                Problem(
                    f"target {t.name}.path",
                    f"the folder {t.path.name!r} is named like the rclone remote {head!r}: backups to "
                    "it stay on this computer",
                    f'to back up to the remote, write type = "rclone" and remote = "{head}:{rest}"',
                )
            )
    return found


def require_name(positional: str | None, option: str | None) -> str:
    """The new profile's name, given once (as NAME or as --profile)."""
    chosen = positional or option
    if not chosen:
        raise UsageError(
            "give the new profile's name: backup init NAME --account ... --handle ... --source DIR"
        )
    if positional and option and positional != option:
        raise UsageError(f"two names given ({positional} and --profile {option}): give one")
    return chosen


def profile_names() -> list[str]:
    """The names of the profiles in the Keepmark home."""
    return [p.stem for p in available()]
