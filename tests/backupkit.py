"""Helpers for backup-run tests: profiles with targets, and files to back up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import tomli_w


def write_profile(
    home: Path,
    sources: Sequence[Path],
    targets: Sequence[dict[str, Any]],
    *,
    name: str = "lily",
    **sections: dict[str, Any],
) -> Path:
    """A profile TOML in ``home``/profiles with these sources and [[targets]]."""
    doc: dict[str, Any] = {
        "account": {"name": "Lily Chen", "handle": "lily.shoots"},
        "sources": {"folders": [str(s) for s in sources]},
        "watermark": {"output": str(home.parent / "Stamped")},
        "targets": list(targets),
        **sections,
    }
    path = home / "profiles" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


def make_files(folder: Path, count: int, size: int = 20_000, seed: int = 0) -> dict[str, bytes]:
    """``count`` files of random bytes in a few subfolders; {relative path: bytes}."""
    out = {}
    for i in range(count):
        rel = f"{2024 + i % 3}/shoot {i % 4}/IMG_{seed:02d}{i:04d}.jpg"
        data = os.urandom(size + i)
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        out[rel] = data
    return out


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``: {relative path with '/': bytes}."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def kill_when(
    args: list[str], ready: Callable[[], bool], timeout: float = 120, env: dict[str, str] | None = None
) -> bool:
    """Start ``backup ARGS``; SIGKILL it as soon as ``ready()``; whether it was killed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "backup", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait()
    return proc.returncode == -signal.SIGKILL
