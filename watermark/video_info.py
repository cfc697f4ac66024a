"""What the stamper needs to know about a video, from the one probe (``inventory.media.probe``),
and the one-line reason when it cannot stamp it."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from inventory.media.probe import AudioStream, Probe, probe
from watermark.errors import BadInput

__all__ = ["AudioStream", "VideoInfo", "probe_video", "video_info"]


@dataclass(frozen=True)
class VideoInfo:
    """A video the stamper can stamp: an MP4 or MOV file with a video stream."""

    container: str  # "mp4" or "mov"
    stream: int  # index of the video stream that is stamped
    codec: str  # "h264", "hevc", ...
    width: int  # as stored (before rotation)
    height: int
    rotation: int  # 0, 90, 180 or 270, counter-clockwise
    fps: float
    sar: tuple[int, int]
    duration: float  # seconds
    bitrate_kbps: int | None
    audio: tuple[AudioStream, ...]
    first_video: bool = True  # the stamped stream is the file's first video stream (``0:v:0``)

    @property
    def display_size(self) -> tuple[int, int]:
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


def probe_video(path: Path, found: Probe | None = None) -> VideoInfo:
    """Read ``path``'s header with ``ffmpeg -i`` (unless ``found``, its probe, is given); raise
    ``BadInput`` with a one-line reason for anything that is not an MP4 or MOV file with a
    video stream."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not path.is_file():
        raise BadInput(f"{path}: not a file")
    if size == 0:
        raise BadInput(f"{path}: empty file (0 bytes)")
    if found is None:
        try:
            found = probe(path)
        except subprocess.TimeoutExpired as exc:
            raise BadInput(f"{path}: ffmpeg could not read its header in {exc.timeout:.0f} s") from None
    return video_info(path, found)


def video_info(path: Path, found: Probe) -> VideoInfo:
    """The stamper's view of a probed file, or ``BadInput`` saying why it cannot be stamped."""
    if found.weak_guess:
        # ffmpeg guessed a format from a weak signature: random or foreign bytes, never a video
        raise BadInput(f"{path}: not a video ffmpeg can read (unrecognised data)")
    if not found.opened:
        if found.moov_missing:
            raise BadInput(f"{path}: truncated or incomplete video (its index, the moov atom, is missing)")
        if found.invalid_data:
            raise BadInput(f"{path}: not a video ffmpeg can read (invalid data)")
        raise BadInput(f"{path}: cannot read: {found.error}")
    fmt = ",".join(found.formats)
    video = found.video
    if not found.mov_family:
        if video is None:
            raise BadInput(f"{path}: not a video (ffmpeg reads it as {fmt!r} data without a video stream)")
        raise BadInput(f"{path}: unsupported format {fmt!r} (MP4 and MOV videos can be stamped)")
    if video is None:
        kinds = sorted(set(found.kinds))
        has = f" (it has {' and '.join(kinds)} only)" if kinds else ""
        raise BadInput(f"{path}: no video stream{has}")
    if video.width is None or video.height is None:
        raise BadInput(f"{path}: video stream without a frame size")
    first = found.first_video
    return VideoInfo(
        container=found.container(path),
        stream=video.index,
        codec=video.codec,
        width=video.width,
        height=video.height,
        rotation=video.rotation,
        fps=video.fps,
        sar=video.sar,
        duration=found.duration or 0.0,
        bitrate_kbps=video.bitrate_kbps,
        audio=found.audio,
        first_video=first is not None and first.index == video.index,
    )
