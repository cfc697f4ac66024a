"""``probe_target``: a target spec, read as ``backup init --target`` reads it, tried for real
before any profile uses it.

The target is made as a backup run makes it (``make_target`` for a folder; ``S3Target`` and
``RcloneTarget`` for the others, with the short waits a person can sit through: two attempts,
seconds to connect, so that a server that is down answers in seconds, not minutes). Its session
is opened, a small object is written under the probe folder, read back and compared, and
removed (in a ``finally``), with the folders the probe made: a probe leaves nothing behind and
never creates a profile.

The probe folder plays the part of a profile's folder on the target: ``.keepmark-probe``, which
no profile can be named (a profile name starts with a letter or digit), and the object in it is
``probe-<16 random hex digits>``, a key ``check_key`` accepts.

The grade words are ``backup check``'s: S3 and rclone targets are off-site; a folder is not,
and one on the same disk as a source folder (``same disk``: the profile check's own rule,
``on_source_disk``, or a folder inside a source or holding one) protects against deletion, not
against losing or breaking the computer.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from backup.app.check import OFFSITE
from backup.app.profiles import LOOKUPS, drive_away
from backup.app.said import Fact, Said, said
from backup.errors import KeepmarkError, Problem, UsageError
from backup.profile.model import Account, Profile, Sources
from backup.profile.model import Target as TargetConfig
from backup.profile.ondisk import device_of, inside, on_source_disk
from backup.profile.specs import S3Options, s3_settings, target_table, unique_name
from backup.profile.validate import parse
from backup.targets import make_target
from backup.targets.base import Target, TargetError
from backup.targets.local import MARKER, LocalTarget, mount_point_needed

PROBE_FOLDER = ".keepmark-probe"
# The waits of an interactive check (a backup run waits longer: it is not watched).
_S3_WAITS: dict[str, Any] = {"max_attempts": 2, "connect_timeout": 5.0, "read_timeout": 30.0}
_RCLONE_WAITS: dict[str, Any] = {"contimeout": 10.0, "timeout": 30.0, "retries": 1, "low_level_retries": 2}


@dataclass
class Probe:
    """What trying ``spec`` showed. ``error``: one line naming the spec and what failed."""

    spec: str
    ok: bool = False
    type: str | None = None
    name: str | None = None
    where: Said | None = None
    off_site: bool = False
    same_disk_as_sources: bool = False
    error: str | None = None
    sources_given: bool = False

    @property
    def protection(self) -> str | None:
        """``off-site``; for a folder ``same disk`` or ``another disk`` than the sources; None
        when that is not known (the spec was refused, or a folder was probed without sources)."""
        if self.type is None:
            return None
        if self.off_site:
            return "off-site"
        if not self.sources_given:
            return None
        return "same disk" if self.same_disk_as_sources else "another disk"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "spec": self.spec,
            "type": self.type,
            "name": self.name,
            "where": None if self.where is None else str(self.where),
            "where_said": None if self.where is None else self.where.as_dict(),
            "off_site": self.off_site,
            "same_disk_as_sources": self.same_disk_as_sources,
            "protection": self.protection,
            "error": self.error,
        }


def one_line(text: str) -> str:
    return " ".join(text.split())


def target_config(spec: str, s3: S3Options, aws_profile: str | None = None) -> TargetConfig:
    """The target ``spec`` names, as ``backup init --target`` would write it and its profile
    check would read it back (``parse``); ``UsageError`` naming the spec and why not."""
    table = unique_name(target_table(spec, flag="target", lookups=LOOKUPS), set())
    is_s3 = table["type"] == "s3"
    table.update(s3_settings(s3, [table["bucket"]] if is_s3 else []))
    if aws_profile is not None:
        if not is_s3:
            raise UsageError(f"target {spec}: aws_profile is only for S3 targets")
        if not aws_profile.strip():
            raise UsageError(f"target {spec}: aws_profile is empty; give a credentials section's name")
        table["aws_profile"] = aws_profile.strip()
    # The profile around the target is a stand-in: a source no target can be in or hold.
    raw = {"account": {"name": "-", "handle": "-"}, "sources": {"folders": [os.devnull]}, "targets": [table]}
    profile, problems = parse(raw, Path(os.devnull), PROBE_FOLDER)
    if profile is None or not profile.targets:
        first = problems[0] if problems else Problem("target", "not a usable target")
        key = first.key.partition(".")[2] or first.key
        fix = f"; {first.fix}" if first.fix else ""
        raise UsageError(f"target {spec}: {key}: {first.message}{fix}")
    return profile.targets[0]


def _mount_point(path: Path) -> Path:
    """The mount point holding ``path`` (or its nearest existing folder)."""
    for candidate in (path, *path.parents):
        if os.path.ismount(candidate):
            return candidate
    return Path(path.anchor or os.sep)


def where_local(path: Path) -> Said:
    point = mount_point_needed(path)
    if point is not None:
        return said("a folder on the drive mounted at {mount}", mount=str(point))
    device = device_of(path)
    own = {device_of(Path.home()), device_of(Path(os.sep))}
    if device is None or device in own:
        return said("a folder on this computer's own disk")
    return said("a folder on the drive mounted at {mount}", mount=str(_mount_point(path)))


def where(cfg: TargetConfig, remote_type: str | None = None) -> Said:
    """Where the target is, as a sentence."""
    if cfg.type == "s3":
        place = (
            said("S3 bucket {bucket} (folder {folder})", bucket=str(cfg.bucket), folder=cfg.prefix)
            if cfg.prefix
            else said("S3 bucket {bucket}", bucket=str(cfg.bucket))
        )
        if cfg.endpoint_url:
            return said("{place} at endpoint {endpoint}", place=place, endpoint=cfg.endpoint_url)
        if cfg.region:
            return said("{place} on Amazon S3 ({region})", place=place, region=cfg.region)
        return said("{place} on Amazon S3", place=place)
    if cfg.type == "rclone":
        remote = cfg.remote or ""
        if remote.startswith(":"):
            backend = remote[1:].split(":", 1)[0].split(",", 1)[0]
            return said("an rclone {backend} backend given in the spec", backend=backend)
        name, _, folder = remote.partition(":")
        facts: dict[str, Fact] = {"name": name, "type": remote_type or "", "folder": folder.strip("/")}
        if remote_type and folder.strip("/"):
            return said("rclone remote {name} (type {type}), folder {folder}", **facts)
        if remote_type:
            return said("rclone remote {name} (type {type})", **facts)
        if folder.strip("/"):
            return said("rclone remote {name}, folder {folder}", **facts)
        return said("rclone remote {name}", **facts)
    assert cfg.path is not None
    return where_local(cfg.path)


def same_disk(cfg: TargetConfig, sources: Sequence[Path]) -> bool:
    """Whether a folder target is on the same disk as a source folder (the profile check's rule),
    or inside one, or holds one."""
    if cfg.type != "local" or cfg.path is None or not sources:
        return False
    folders = tuple(Path(os.path.abspath(os.path.expanduser(s))) for s in sources)
    t = cfg.path
    if any(t == f or inside(t, f) or inside(f, t) for f in folders):
        return True
    profile = Profile(PROBE_FOLDER, Path(os.devnull), Account("", ""), Sources(folders), targets=(cfg,))
    return bool(on_source_disk(profile, drive_away))


def probe_target(
    spec: str,
    *,
    sources: Sequence[Path] = (),
    endpoint: str | None = None,
    region: str | None = None,
    addressing: str | None = None,
    aws_profile: str | None = None,
) -> Probe:
    """Try the target ``spec`` (a folder path, ``s3://bucket/prefix``, ``rclone:remote:path``
    or ``remote:path``; ``endpoint``, ``region``, ``addressing`` and ``aws_profile`` for an S3
    one): open it, write a small object, read it back, compare, remove it. Never raises for a
    bad spec or a failing target: ``ok`` is False and ``error`` says why, in one line."""
    probe = Probe(spec)
    try:
        cfg = target_config(spec, S3Options(endpoint, region, addressing), aws_profile)
    except KeepmarkError as exc:
        probe.error = one_line(str(exc))
        return probe
    probe.type, probe.name, probe.where = cfg.type, cfg.name, where(cfg)
    probe.off_site = cfg.type in OFFSITE
    probe.same_disk_as_sources = same_disk(cfg, sources)
    probe.sources_given = bool(sources)
    probe.error = _try(cfg, probe)
    probe.ok = probe.error is None
    return probe


def _made(cfg: TargetConfig) -> Target:
    if cfg.type == "s3":
        from backup.targets.s3 import S3Target

        try:
            return S3Target(
                cfg.name,
                bucket=cfg.bucket or "",
                profile=PROBE_FOLDER,
                prefix=cfg.prefix,
                endpoint_url=cfg.endpoint_url,
                region=cfg.region,
                aws_profile=cfg.aws_profile,
                addressing_style=cfg.addressing_style,
                resume_dir=None,
                **_S3_WAITS,
            )
        except ValueError as exc:
            raise TargetError(str(exc)) from None
    if cfg.type == "rclone":
        from backup.targets.rclone import RcloneTarget

        return RcloneTarget(cfg.name, remote=cfg.remote or "", profile=PROBE_FOLDER, **_RCLONE_WAITS)
    # A folder target keeps no state: state_dir is used by S3 targets only.
    return make_target(cfg, PROBE_FOLDER, state_dir=Path(tempfile.gettempdir()))


class _Before(NamedTuple):
    """What a folder target had before the probe: the probe removes only what it made."""

    base: bool
    marker: bool


def _try(cfg: TargetConfig, probe: Probe) -> str | None:
    """The probe's steps; the error line, or None when every step worked."""
    key = f"probe-{secrets.token_hex(8)}"
    data = f"Keepmark probe {key}\n".encode() + os.urandom(64)
    step = "cannot be set up"
    error: str | None = None
    written = False
    target: Target | None = None
    before: _Before | None = None
    try:
        target = _made(cfg)
        if isinstance(target, LocalTarget):
            before = _Before(target.base.exists(), (target.base / MARKER).exists())
        step = "cannot be opened"
        target.open_session()
        probe.where = where(cfg, getattr(target, "remote_type", None))
        step = "cannot be written to"
        written = True
        target.put_bytes(key, data)
        step = "cannot be read back"
        with target.open(key) as f:
            back = f.read()
        if back != data:
            error = f"read back {len(back)} bytes that are not the {len(data)} written"
    except Exception as exc:  # a probe reports every failure, it never raises
        error = f"{step}: {one_line(str(exc)) or type(exc).__name__}"
    finally:
        if target is not None:
            left = _clean(target, key, written, before)
            error = error or left
    return f"target {probe.spec}: {error}" if error else None


def _clean(target: Target, key: str, written: bool, before: _Before | None) -> str | None:
    """Remove the probe object and the folders the probe made; the error line when the object
    could not be removed (it is then left behind)."""
    left = None
    try:
        if written:
            try:
                target.delete(key)
            except Exception as exc:
                left = f"the probe object {PROBE_FOLDER}/{key} could not be removed: {one_line(str(exc))}"
        if isinstance(target, LocalTarget):
            _remove_made(target, before)
        elif written:
            _rclone_rmdir(target)
    finally:
        target.close()
    return left


def _remove_made(target: LocalTarget, before: _Before | None) -> None:
    made: list[Path] = [target.root]
    if before is not None and not before.marker:
        made.append(target.base / MARKER)
    if before is not None and not before.base:
        made.append(target.base)
    for path in made:
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()  # only when empty
            else:
                path.unlink()
        except OSError:
            pass


def _rclone_rmdir(target: Target) -> None:
    """An rclone remote's probe folder, removed when empty (object stores have none)."""
    from backup.targets.rclone import RcloneTarget, find_rclone

    if not isinstance(target, RcloneTarget):
        return
    try:
        binary = target.rclone or find_rclone()
        subprocess.run(
            [
                str(binary),
                "rmdir",
                "--ask-password=false",
                "--contimeout=10s",
                "--timeout=30s",
                "--",
                target.root,
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, KeepmarkError):
        pass
