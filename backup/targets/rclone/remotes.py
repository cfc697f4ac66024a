"""The remotes the creator has configured: ``rclone listremotes``, with the config rclone itself
would read (``RCLONE_CONFIG`` or its default place), so that a target typed as ``gdrive:Keepmark``
can be told apart from a folder path."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backup.targets.base import TargetError
from backup.targets.rclone.binary import find_rclone
from backup.targets.rclone.process import log_lines, reason_of


def list_remotes(rclone: Path | None = None) -> list[str]:
    """The names of the configured remotes (without the ``:``), in rclone's order; none when
    rclone has no config file. ``TargetError`` when rclone cannot be run or fails."""
    binary = rclone or find_rclone()
    try:
        proc = subprocess.run(
            [str(binary), "listremotes", "--ask-password=false", "--use-json-log"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise TargetError(f"rclone listremotes: {exc}") from None
    if proc.returncode != 0:
        reason = reason_of(log_lines(proc.stderr.decode("utf-8", "replace")))
        raise TargetError(f"rclone listremotes: {reason}")
    names = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        name = line.strip()
        if name.endswith(":"):
            names.append(name[:-1])
    return names
