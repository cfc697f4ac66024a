"""Real media for tests, made with Pillow, pillow-heif and the ffmpeg that imageio-ffmpeg ships."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from PIL import Image

from backup.app.samples import make_video, scene
from inventory.media.ffmpeg import ffmpeg_exe
from inventory.media.heif import register_heif

__all__ = ["register_heif"]


def exif(
    taken: str | None = "2026:05:14 19:42:10",
    orientation: int = 1,
    make: str = "Apple",
    model: str = "iPhone 15 Pro",
) -> Any:
    e = Image.Exif()
    e[0x010F] = make
    e[0x0110] = model
    e[0x0112] = orientation
    if taken:
        e.get_ifd(0x8769)[0x9003] = taken
    return e


def jpeg(path: Path, size: tuple[int, int] = (640, 480), seed: int = 1, **exif_args: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    scene(*size, seed).save(path, format="JPEG", quality=88, exif=exif(**exif_args))
    return path


def png(path: Path, size: tuple[int, int] = (320, 240), seed: int = 2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    scene(*size, seed).save(path, format="PNG")
    return path


def heic(path: Path, size: tuple[int, int] = (640, 480), seed: int = 3, **exif_args: Any) -> Path:
    register_heif()
    path.parent.mkdir(parents=True, exist_ok=True)
    scene(*size, seed).save(path, quality=80, exif=exif(**exif_args))
    return path


def video(path: Path, seconds: float = 2.0, size: str = "320x240") -> Path:
    make_video(path, seconds=seconds, size=size)
    return path


def rotated_video(source: Path, path: Path, degrees: int = 90) -> Path:
    """A copy of ``source`` whose display matrix says: rotate by ``degrees`` (as phones do)."""
    cmd = [
        ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-display_rotation", str(degrees),
        "-i", str(source), "-c", "copy", str(path),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def truncated(source: Path, path: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
