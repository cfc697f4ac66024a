"""The ffmpeg binary that imageio-ffmpeg ships: finding it, running it, and reading its errors.

Every ffmpeg process in Keepmark (the probe, the frame hashes, the stamper's encode) is started
with the path ``ffmpeg_exe()`` gives, without a console window on Windows (``no_window()``),
and every failure is told in one line made by ``last_error()`` from what ffmpeg wrote on stderr.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The path of the bundled ffmpeg (found once per process)."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    """The bundled ffmpeg's version, or "unknown" (it is recorded beside video hashes)."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_version())
    except Exception:  # pragma: no cover - reported as unknown rather than failing a scan
        return "unknown"


def no_window() -> dict[str, Any]:
    """``subprocess`` arguments that keep ffmpeg from opening a console window on Windows."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return {"creationflags": subprocess.CREATE_NO_WINDOW}  # type: ignore[attr-defined]
    return {}


def run(args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with ``args`` (everything after the executable), its output captured.

    Raises ``OSError`` when it cannot be started and ``subprocess.TimeoutExpired`` (the
    process killed) when it runs longer than ``timeout`` seconds; a failure of ffmpeg itself
    is in the return code and stderr."""
    return subprocess.run(
        [ffmpeg_exe(), *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, **no_window()
    )


# ---------------------------------------------------------------------------------------------
# One line out of ffmpeg's stderr

# "[vost#0:0/libx264 @ 0x55d9...] " and the like: ffmpeg's name for the object that speaks.
_PREFIX = re.compile(r"^\[([^\]]+?) @ (?:0x)?[0-9a-fA-F]+\]\s*")
# Lines that only repeat that something failed, or describe the files: never the reason.
_GENERIC = (
    "At least one output file",
    "Conversion failed",
    "Could not open encoder",
    "Error closing",
    "Error muxing",
    "Error opening",
    "Error sending frames",
    "Error submitting",
    "Error while filtering",
    "Error while opening encoder",
    "Error writing trailer",
    "Exiting normally",
    "Input #",
    "Last message repeated",
    "Nothing was written",
    "Output #",
    "Task finished with error",
    "Terminating thread",
)
REASON_LIMIT = 300


def clean_line(line: str) -> str:
    """ffmpeg's ``[vost#0:0/libx264 @ 0x55d9...] [enc:libx264 @ 0x...] message`` as
    ``libx264: message`` (ffmpeg's internal object names and addresses dropped)."""
    line = line.strip()
    name = ""
    while (m := _PREFIX.match(line)) is not None:
        found = m.group(1)
        if "#" not in found:
            name = found.rsplit(":", 1)[-1]
        line = line[m.end() :]
    return f"{name}: {line}" if name and line else line


def _generic(line: str) -> bool:
    return line.startswith(_GENERIC) or line.split(": ", 1)[-1].startswith(_GENERIC)


def last_error(stderr: str | bytes, path: str | None = None, default: str = "unreadable") -> str:
    """ffmpeg's last meaningful error line, on one line: object prefixes cleaned, the file's
    own ``path`` left out (the caller names the file once), generic follow-ups such as
    "Conversion failed!" skipped unless nothing else was said; ``default`` when stderr is empty."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    lines: list[str] = []
    for raw in text.splitlines():
        line = clean_line(raw)
        if path and path in line:
            line = line.replace(path, "").replace(": :", ":").replace("  ", " ").strip(" :.'") or line
        if line:
            lines.append(line)
    meaningful = [line for line in lines if not _generic(line)]
    return (meaningful or lines or [default])[-1][:REASON_LIMIT]
