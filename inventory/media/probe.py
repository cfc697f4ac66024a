"""The one probe of a media file: what ``ffmpeg -i`` says about it, parsed one way.

``probe(path)`` runs ``ffmpeg -i`` once and returns a ``Probe``: the container, every stream
(codec, stored size, display rotation, frame rate, sample aspect ratio, bitrate; audio sample
rate and channel layout), the duration and start time, the creation time, and ffmpeg's own
judgements of a file it cannot read (a weakly guessed format, a missing index, invalid data).
The inventory's video facts (``inventory.record.video``) and the stamper (``watermark.video``)
both read it; each words its own verdict from these fields.

Rotations are counted as ffmpeg's display matrix counts them: degrees counter-clockwise, 0, 90,
180 or 270 (a portrait iPhone clip, whose display matrix says -90, is 270). ffmpeg before 5
printed the old ``rotate`` tag instead, a clockwise angle: it is read as the fallback.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from inventory.media.ffmpeg import last_error, run

PROBE_TIMEOUT = 120

_INPUT = re.compile(r"^Input #0, (.+?), from ", re.M)
_STREAM = re.compile(r"^\s*Stream #0:(\d+)\S*: (Video|Audio|Data|Subtitle|Attachment): (.*)$")
_SIZE = re.compile(r"[ ,](\d+)x(\d+)(?=[ ,\[\]]|$)")
_FPS = re.compile(r" (\d+(?:\.\d+)?)(k?) (fps|tbr)")
_FPS_TEXT = re.compile(r"([\d.]+) fps")
_SAR = re.compile(r"SAR (\d+):(\d+)")
_KBPS = re.compile(r"(\d+) kb/s")
_HZ = re.compile(r"(\d+) Hz, ([^,]+)")
_DISPLAY = re.compile(r"(?:Display Matrix|displaymatrix): rotation of (-?\d+(?:\.\d+)?) degrees")
_OLD_ROTATE = re.compile(r"^\s*rotate\s*:\s*(-?\d+(?:\.\d+)?)", re.M)
_DURATION = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_START = re.compile(r"Duration:[^\n]*?, start: (-?\d+(?:\.\d+)?)")
_CREATION = re.compile(r"creation_time\s*:\s*(\S+)")
_BRAND = re.compile(r"^\s*major_brand\s*:\s*(\S*)", re.M)


@dataclass(frozen=True)
class VideoStream:
    index: int  # the stream's number in the file (``0:index``)
    codec: str  # "h264", "hevc", "prores", "mjpeg" (an attached picture)...
    width: int | None  # as stored (before rotation)
    height: int | None
    rotation: int  # display rotation: 0, 90, 180 or 270, counter-clockwise
    has_matrix: bool  # a display matrix (or rotate tag) is there, even one that says 0
    fps: float  # frames per second (ffmpeg's "fps", else its "tbr"); 0.0 when not said
    fps_text: str | None  # the "fps" figure as printed ("29.97", "30")
    sar: tuple[int, int]  # sample aspect ratio; (1, 1) when not said
    bitrate_kbps: int | None
    attached_pic: bool  # cover art, not the video itself

    @property
    def display_size(self) -> tuple[int, int] | None:
        if self.width is None or self.height is None:
            return None
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True)
class AudioStream:
    index: int
    codec: str
    sample_rate: int  # 48000 when not said
    layout: str  # ffmpeg's channel layout name: "mono", "stereo", "5.1(side)", or "<n>c"


@dataclass(frozen=True)
class Probe:
    """What ``ffmpeg -i`` tells about one file."""

    formats: tuple[str, ...]  # ffmpeg's demuxer names, ("mov", "mp4", ...); () if it could not open
    brand: str | None  # the ISO-BMFF major brand ("isom", "qt"), when there is one
    duration: float | None  # seconds
    creation_time: str | None  # as written in the file (the first one printed)
    videos: tuple[VideoStream, ...]  # in file order, attached pictures included
    audio: tuple[AudioStream, ...]
    kinds: tuple[str, ...]  # the kind of every stream, in order: "video", "audio", "data"...
    weak_guess: bool  # ffmpeg guessed the format from a weak signature ("misdetection possible")
    moov_missing: bool  # an MP4/MOV without its index: cut short while being written or copied
    invalid_data: bool  # "Invalid data found when processing input"
    error: str  # why ffmpeg could not open it: its last meaningful line ("" when it did)
    start: float | None = None  # seconds: the time of the file's first frame or sample, as read

    @property
    def opened(self) -> bool:
        """ffmpeg recognised the file and listed what is in it."""
        return bool(self.formats)

    @property
    def video(self) -> VideoStream | None:
        """The video stream that is the video (the first that is not cover art)."""
        return next((v for v in self.videos if not v.attached_pic), None)

    @property
    def first_video(self) -> VideoStream | None:
        """The first video stream of any kind (what ``-map 0:v:0`` decodes)."""
        return self.videos[0] if self.videos else None

    @property
    def duration_ms(self) -> int | None:
        return None if self.duration is None else round(self.duration * 1000)

    @property
    def mov_family(self) -> bool:
        """An MP4 or MOV file (ffmpeg's ``mov`` demuxer)."""
        return "mov" in self.formats

    def container(self, path: str | os.PathLike[str]) -> str:
        """ "mov" for a QuickTime file, else "mp4" (for the ``mov`` family; the extension decides
        for a QuickTime file without an ``ftyp`` box)."""
        if self.brand is not None:
            return "mov" if self.brand.startswith("qt") else "mp4"
        return "mp4" if os.fspath(path).lower().endswith((".mp4", ".m4v")) else "mov"


def probe(path: str | os.PathLike[str], timeout: float = PROBE_TIMEOUT) -> Probe:
    """Run ``ffmpeg -i path`` and parse what it prints.

    Raises ``OSError`` when ffmpeg cannot be run and ``subprocess.TimeoutExpired`` when it does
    not finish within ``timeout`` seconds; a file ffmpeg cannot read is not an exception (see
    ``Probe.opened``, ``weak_guess``, ``moov_missing``, ``invalid_data``, ``error``)."""
    name = os.fspath(path)
    proc = run(["-hide_banner", "-nostdin", "-i", name], timeout)
    return parse(proc.stderr.decode("utf-8", "replace"), name)


def parse(text: str, path: str | None = None) -> Probe:
    """A ``Probe`` from the text ``ffmpeg -i`` printed (``path``: the file's name in it)."""
    found = _INPUT.search(text)
    formats = tuple(found.group(1).split(",")) if found else ()
    brand = _BRAND.search(text)
    videos: list[VideoStream] = []
    audio: list[AudioStream] = []
    kinds: list[str] = []
    for index, kind, desc, follow in _stream_blocks(text):
        kinds.append(kind.lower())
        if kind == "Video":
            videos.append(_video(index, desc, follow))
        elif kind == "Audio":
            audio.append(_audio(index, desc))
    dur = _DURATION.search(text)
    creation = _CREATION.search(text)
    start = _START.search(text)
    return Probe(
        formats=formats,
        brand=brand.group(1) if brand else None,
        duration=(int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3))) if dur else None,
        creation_time=creation.group(1) if creation else None,
        videos=tuple(videos),
        audio=tuple(audio),
        kinds=tuple(kinds),
        weak_guess="misdetection possible" in text,
        moov_missing="moov atom not found" in text,
        invalid_data="Invalid data found" in text,
        error="" if found else last_error(text, path),
        start=float(start.group(1)) if start else None,
    )


def _stream_blocks(text: str) -> list[tuple[int, str, str, str]]:
    """(index, kind, the stream line's description, the indented lines under it) per stream."""
    blocks: list[tuple[int, str, str, str]] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _STREAM.match(line)
        if m is None:
            continue
        follow: list[str] = []
        for nxt in lines[i + 1 :]:
            if _STREAM.match(nxt) or not nxt.startswith("    "):
                break
            follow.append(nxt)
        blocks.append((int(m.group(1)), m.group(2), m.group(3), "\n".join(follow)))
    return blocks


def _video(index: int, desc: str, follow: str) -> VideoStream:
    dims = _SIZE.search(desc)
    fps_m = _FPS.search(desc)
    fps_text = _FPS_TEXT.search(desc)
    sar_m = _SAR.search(desc)
    sar = (int(sar_m.group(1)), int(sar_m.group(2))) if sar_m else (1, 1)
    rate = _KBPS.search(desc)
    rotation, has_matrix = _rotation(follow)
    return VideoStream(
        index=index,
        codec=desc.split(" ", 1)[0].strip(","),
        width=int(dims.group(1)) if dims else None,
        height=int(dims.group(2)) if dims else None,
        rotation=rotation,
        has_matrix=has_matrix,
        fps=float(fps_m.group(1)) * (1000 if fps_m.group(2) else 1) if fps_m else 0.0,
        fps_text=fps_text.group(1) if fps_text else None,
        sar=sar if sar[0] and sar[1] else (1, 1),
        bitrate_kbps=int(rate.group(1)) if rate else None,
        attached_pic="(attached pic)" in desc,
    )


def _rotation(block: str) -> tuple[int, bool]:
    m = _DISPLAY.search(block)
    if m is not None:
        return round(float(m.group(1))) % 360, True
    old = _OLD_ROTATE.search(block)  # ffmpeg < 5 printed the clockwise "rotate" tag
    if old is not None:
        return -round(float(old.group(1))) % 360, True
    return 0, False


def _audio(index: int, desc: str) -> AudioStream:
    hz = _HZ.search(desc)
    layout = hz.group(2).strip() if hz else "stereo"
    if not re.fullmatch(r"[\w.()+-]+", layout):
        channels = re.match(r"(\d+) channels", layout)
        layout = f"{channels.group(1)}c" if channels else "stereo"
    return AudioStream(
        index=index,
        codec=desc.split(" ", 1)[0].strip(","),
        sample_rate=int(hz.group(1)) if hz else 48000,
        layout=layout,
    )
