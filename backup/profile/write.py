"""Writing a new profile (``backup init``): a commented TOML file a creator can read and edit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import tomli_w

from backup.errors import UsageError
from backup.profile.model import DEFAULT_FULL, DEFAULT_INCREMENTAL, DEFAULT_TEXT
from backup.profile.specs import parse_target
from inventory.atomic import atomic_write_text

__all__ = ["Schedule", "parse_target", "render", "write_profile"]


class Schedule(NamedTuple):
    """The [schedule] a new profile gets."""

    incremental: str = DEFAULT_INCREMENTAL
    full: str = DEFAULT_FULL
    on_battery: bool = True


def _v(value: object) -> str:
    """A TOML value, quoted and escaped as TOML wants it."""
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def render(
    *,
    account: str,
    handle: str,
    sources: Sequence[str],
    targets: Sequence[dict[str, str]],
    important: Sequence[str] = (),
    ignore: Sequence[str] = (),
    output: str | None = None,
    schedule: Schedule | None = None,
) -> str:
    schedule = schedule or Schedule()
    folders = [os.path.abspath(os.path.expanduser(s)) for s in sources]
    lines = [
        "# Keepmark profile: one creator account. Every key is described in profiles/example.toml.",
        "# No secrets here: S3 uses the AWS credential chain, rclone its own rclone.conf.",
        "",
        "[account]",
        f"name = {_v(account)}",
        f"handle = {_v(handle.lstrip('@'))}",
        "",
        "[sources]",
        "# Folders you shoot and export into; everything in them is inventoried and backed up.",
        f"folders = {_v(folders)}",
        "# Subfolders backed up in real time by the daemon.",
        f"important = {_v([os.path.abspath(os.path.expanduser(i)) for i in important])}",
        "# Extra files to leave out (globs); OS litter and partial downloads are always left out.",
        f"ignore = {_v(list(ignore))}",
        "",
        "[watermark]",
        f"text = {_v(DEFAULT_TEXT)}",
        'position = "bottom-right"',
        "opacity = 0.4",
        "size = 0.05",
    ]
    if output:
        lines.append(f"output = {_v(os.path.abspath(os.path.expanduser(output)))}")
    for t in targets:
        lines += ["", "[[targets]]"] + [f"{k} = {_v(v)}" for k, v in t.items()]
    lines += [
        "",
        "[schedule]",
        "# In your local time: weekly DAY HH:MM, monthly DAY-OF-MONTH HH:MM, daily HH:MM, or off.",
        f"incremental = {_v(schedule.incremental)}",
        f"full = {_v(schedule.full)}",
        "# false: scheduled runs wait for mains power.",
        f"on_battery = {_v(schedule.on_battery)}",
        "",
        "[retention]",
        "weekly = 8",
        "monthly = 12",
        "",
    ]
    return "\n".join(lines)


def write_profile(path: Path, text: str, *, overwrite: bool = False) -> None:
    if path.exists() and not overwrite:
        raise UsageError(f"{path} already exists: choose another name, or pass --force to replace it")
    atomic_write_text(path, text)
