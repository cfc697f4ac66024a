"""Desktop notifications, where the platform has a way: ``notify-send`` (Linux desktops),
``osascript`` (macOS). Optional: when neither is there, or it fails, nothing happens (the log
has the message either way). A silent failure is the worst failure of a backup tool, so a
failed scheduled run and a worse health grade are announced."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

log = logging.getLogger("keepmark.daemon")


def _command(title: str, message: str) -> list[str] | None:
    if sys.platform == "darwin":
        tool = shutil.which("osascript")
        if tool is None:
            return None

        def quoted(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

        return [tool, "-e", f"display notification {quoted(message)} with title {quoted(title)}"]
    tool = shutil.which("notify-send")
    if tool is None:
        return None
    return [tool, "--app-name=Keepmark", title, message]


def notify(title: str, message: str) -> bool:
    """Show a notification; whether one could be shown. Never raises."""
    log.warning("%s: %s", title, message)
    cmd = _command(title, message)
    if cmd is None:
        return False
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0
