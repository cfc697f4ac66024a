"""Stand-ins for system tools a test must not run for real (systemctl, notify-send)."""

from __future__ import annotations

import stat
from pathlib import Path


def fake_tool(folder: Path, name: str, code: int = 0) -> Path:
    """A stand-in for a system tool (systemctl, notify-send) in ``folder`` that records how it was
    called and exits with ``code``; the file its calls are recorded in, one line each. Put
    ``folder`` first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / name
    log = folder / f"{name}.calls"
    tool.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexit {code}\n', encoding="utf-8")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return log
