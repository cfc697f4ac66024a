"""Atomic file writes for Keepmark's own files (profiles, exports), on the same helper the
stamper uses for its outputs: a temporary name in the same folder, fsync, rename, fsync the
folder."""

from __future__ import annotations

from pathlib import Path

from watermark.atomic import write_atomic


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old file or the new, never half.
    An existing file keeps its permissions."""
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    write_atomic(path, data, mode)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
