"""Videos with real content for the matching tests and benchmarks: slow pans and zooms across
real photos, cut from one photo to the next, encoded by the ffmpeg imageio-ffmpeg ships; and
clips cut from them as a repost would be (trimmed, scaled down, re-encoded)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from inventory.media.ffmpeg import ffmpeg_exe
from tests.kit.photos import photo


def pan_video(
    path: Path,
    photos: Sequence[str],
    seconds: float,
    size: tuple[int, int] = (640, 360),
    fps: int = 25,
) -> Path:
    """``seconds`` of video: one shot per photo (in turn), each a slow zoom and pan across it."""
    width, height = size
    frames = round(seconds * fps)
    shot = frames / len(photos)
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg_exe(), "-y", "-v", "error", "-nostdin",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p", str(path),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for i in range(frames):
            k = min(int(i / shot), len(photos) - 1)
            t = (i - k * shot) / shot  # 0..1 through the shot
            src = photo(photos[k])
            # The window: the widest of the frame's aspect that fits, zooming from 100% to 70%
            # of it while sliding from one side to the other (direction alternates per shot).
            aspect = width / height
            full_w = min(src.width, src.height * aspect)
            zoom = 1.0 - 0.3 * t
            w = full_w * zoom
            h = w / aspect
            slide = t if k % 2 == 0 else 1 - t
            left = (src.width - w) * slide
            top = (src.height - h) * (0.5 + 0.3 * (slide - 0.5))
            frame = src.resize((width, height), Image.Resampling.BILINEAR, box=(left, top, left + w, top + h))
            proc.stdin.write(frame.tobytes())
        proc.stdin.close()
        err = proc.stderr.read() if proc.stderr else b""
    finally:
        code = proc.wait()
    if code != 0:
        raise RuntimeError(f"ffmpeg could not make {path}: {err.decode(errors='replace')[-300:]}")
    return path


def cut_clip(source: Path, path: Path, start: float, seconds: float, width: int = 320, crf: int = 30) -> Path:
    """A repost of part of ``source``: ``seconds`` from ``start``, scaled to ``width``, re-encoded."""
    cmd = [
        ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-ss", f"{start:.3f}", "-i", str(source),
        "-t", f"{seconds:.3f}", "-vf", f"scale={width}:-2", "-c:v", "libx264", "-preset", "veryfast",
        "-crf", str(crf), "-an", str(path),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return path
