"""Which video encoder a stamped copy is written with, and its options."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import lru_cache

from inventory.media.ffmpeg import ffmpeg_exe, no_window
from watermark.errors import WatermarkError
from watermark.style import VideoSettings

ENCODERS = ("libx264", "libx265", "h264_videotoolbox", "hevc_videotoolbox")


@lru_cache(maxsize=1)
def available_encoders() -> frozenset[str]:
    """The encoders this ffmpeg build has."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-encoders"], capture_output=True, **no_window()
    )
    names = re.findall(r"^\s*[VAS][\w.]{5}\s+(\S+)", proc.stdout.decode("utf-8", "replace"), re.M)
    return frozenset(names)


def choose_encoder(codec: str, source_codec: str) -> str:
    """The encoder for ``settings.codec``: ``auto`` keeps the source's family (HEVC stays HEVC,
    anything else becomes H.264), on VideoToolbox when this is a Mac whose ffmpeg has it."""
    encoders = available_encoders()
    if codec == "auto":
        family = "hevc" if source_codec in ("hevc", "h265") else "h264"
        hardware = f"{family}_videotoolbox"
        if sys.platform == "darwin" and hardware in encoders:
            return hardware
        return "libx265" if family == "hevc" else "libx264"
    if codec not in ENCODERS:
        raise WatermarkError(f"video codec {codec!r} is not one of auto, {', '.join(ENCODERS)}")
    if codec not in encoders:
        where = " (VideoToolbox exists only on macOS)" if codec.endswith("_videotoolbox") else ""
        raise WatermarkError(f"this ffmpeg has no {codec} encoder{where}; use auto or libx264")
    return codec


def quality(crf: int) -> int:
    """x264/x265 CRF (lower is better, 18-28 usual) to VideoToolbox's -q:v (1-100, higher is
    better): CRF 20 -> 65, 23 -> 60, 28 -> 51."""
    return max(1, min(100, round(100 - 1.75 * crf)))


def encoder_args(encoder: str, settings: VideoSettings, *, bitrate_kbps: int | None = None) -> list[str]:
    """The video encoder options. VideoToolbox has no CRF: ``-q:v`` (Apple silicon), or a
    bitrate when ``bitrate_kbps`` is given (Intel Macs have no constant-quality mode)."""
    args = ["-c:v", encoder]
    if encoder in ("libx264", "libx265"):
        args += ["-crf", str(settings.crf), "-preset", settings.preset]
    elif bitrate_kbps:
        args += ["-b:v", f"{bitrate_kbps}k"]
    else:
        args += ["-q:v", str(quality(settings.crf))]
    if encoder == "libx265":
        args += ["-x265-params", "log-level=error"]
    if encoder in ("libx265", "hevc_videotoolbox"):
        args += ["-tag:v", "hvc1"]  # Apple players want hvc1, not hev1
    return [*args, "-pix_fmt", "yuv420p"]
