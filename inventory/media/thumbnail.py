"""Thumbnails: a photo or a video's poster frame as a small upright JPEG.

A JPEG is decoded through Pillow's draft mode (the decoder scales by 1/2, 1/4 or 1/8 on the
way, reading a fraction of the pixels), every photo is turned upright by its EXIF orientation,
HEIC and AVIF go through pillow-heif. A video's poster is the frame at a tenth of its length (at
most 1 s in: past a fade from black), scaled by ffmpeg in the same pass.
"""

from __future__ import annotations

import io
import subprocess

from inventory.errors import EXIT_FAILED, KeepmarkError
from inventory.media.ffmpeg import ffmpeg_exe, last_error, no_window
from inventory.media.heif import looks_like_heif, register_heif
from inventory.media.orientation import orientation_of, upright

QUALITY = 80
POSTER_AT = 1.0  # seconds into a video, at most


class ThumbnailError(KeepmarkError):
    """The file cannot be turned into a thumbnail (unreadable, not a picture)."""

    exit_code = EXIT_FAILED


def photo_thumbnail(path: str, side: int) -> bytes:
    """A JPEG at most ``side`` pixels on its longer side, upright."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open(path, "rb") as f:
            if looks_like_heif(f.read(16)):
                register_heif()
        with Image.open(path) as im:
            orientation = orientation_of(im.getexif())
            if im.format == "JPEG":
                im.draft("RGB", (side, side))  # the decoder scales down as it reads
            im.load()
            small = im.convert("RGB") if im.mode != "RGB" else im.copy()
        small.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        small = upright(small, orientation)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=QUALITY)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"{path}: cannot make a thumbnail ({exc})") from exc
    return out.getvalue()


def video_frame(path: str, at: float, side: int | None = None, codec: str = "mjpeg") -> bytes:
    """The frame of a video at ``at`` seconds, as one picture (``codec``: mjpeg or png), scaled
    by ffmpeg in the same pass to at most ``side`` pixels on its longer side when given."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-ss", f"{max(0.0, at):.3f}"]
    cmd += ["-i", path, "-frames:v", "1"]
    if side is not None:
        cmd += ["-vf", f"scale='if(gt(iw,ih),{side},-2)':'if(gt(iw,ih),-2,{side})'"]
    cmd += ["-f", "image2pipe", "-vcodec", codec, *(["-q:v", "4"] if codec == "mjpeg" else []), "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=120, check=False, **no_window())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ThumbnailError(f"{path}: cannot read a frame ({exc})") from exc
    if proc.returncode != 0 or not proc.stdout:
        raise ThumbnailError(f"{path}: cannot read a frame ({last_error(proc.stderr, path)})")
    frame: bytes = proc.stdout
    return frame


def video_poster(path: str, side: int, duration_ms: int | None) -> bytes:
    """The poster frame of a video as a JPEG at most ``side`` pixels on its longer side."""
    return video_frame(path, min(POSTER_AT, (duration_ms or 0) / 10000), side)
