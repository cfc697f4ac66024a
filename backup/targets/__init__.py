"""Backup targets behind one protocol (``base.Target``), made from a profile's [[targets]].

``base`` holds the protocol, the small optional protocols (``BatchUpload``, ``Temporaries``)
and the errors; ``local`` (a folder), ``memory`` (for tests), and the packages ``s3`` and
``rclone`` are the implementations."""

from __future__ import annotations

from pathlib import Path

from backup.profile import model
from backup.targets.base import Target, TargetError
from backup.targets.local import LocalTarget


def make_target(cfg: model.Target, profile: str, *, state_dir: Path, used_before: bool = False) -> Target:
    """The target a profile's [[targets]] entry describes (not opened yet)."""
    # s3 and rclone are imported only when a profile has such a target: boto3 alone takes a
    # good part of a second to import, and most commands never need it.
    if cfg.type == "local":
        assert cfg.path is not None
        return LocalTarget(cfg.name, cfg.path, profile, used_before=used_before)
    if cfg.type == "s3":
        from backup.targets.s3 import S3Target

        return S3Target.from_profile(cfg, profile, state_dir / "uploads")
    if cfg.type == "rclone":
        from backup.targets.rclone import RcloneTarget

        assert cfg.remote is not None
        return RcloneTarget(cfg.name, remote=cfg.remote, profile=profile)
    raise TargetError(f"{cfg.name}: unknown target type {cfg.type!r}")


def identity(cfg: model.Target) -> str:
    """What says where a target is, before it is opened: a changed place is a new target."""
    return cfg.describe()
