"""Stamp a video: the mark rendered once by Pillow, overlaid by one ffmpeg filter graph.

The ffmpeg binary is the one imageio-ffmpeg ships. Python never touches a frame: the mark is
saved once as a PNG (cropped to the pixels it covers) and ffmpeg's ``overlay`` filter blends it
on every frame while the encoder runs. What a phone wrote is kept:

- rotation: the frames are decoded as stored (``-noautorotate``), the mark is turned to match
  the stored orientation so it lands in the *visual* corner, and the output carries the same
  display matrix as the source, so players show it the same way;
- timing: frames pass through with their own timestamps (no frame is duplicated or dropped);
- sound: every audio stream is stream-copied, byte for byte (unless credits are added);
- container: MP4 stays MP4, MOV stays MOV.

Rotations are counted as ffmpeg's display matrix counts them: degrees counter-clockwise,
0, 90, 180 or 270 (a portrait iPhone clip, whose display matrix says -90, is 270).

The optional opening and closing credits (the account card, fading in and out) are made in
the same filter graph (``loop``, ``fade``, ``concat``, silence from ``anullsrc``) rather than
with moviepy: the card is one Pillow picture, and composing it in moviepy would cost an extra
encode of the card and a concat pass, for nothing ffmpeg's filters do not already do.

The output is written to a hidden temporary file beside ``dst`` (``.NAME.XXXX.keepmark-tmp``),
fsynced and renamed, so a crash never leaves a truncated file under the final name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from inventory.atomic import TMP_SUFFIX, atomic_path
from watermark.errors import BadInput, BadOutput, WatermarkError
from watermark.style import Style, VideoSettings

if TYPE_CHECKING:
    from fractions import Fraction

    from PIL import Image

__all__ = [
    "ENCODERS",
    "TMP_SUFFIX",
    "AudioStream",
    "VideoInfo",
    "VideoResult",
    "available_encoders",
    "choose_encoder",
    "ffmpeg_exe",
    "probe_video",
    "stamp_video",
    "write_mark",
]

ENCODERS = ("libx264", "libx265", "h264_videotoolbox", "hevc_videotoolbox")
CARD_BACKGROUND = (17, 17, 20)
CARD_SIZE = 0.09  # height of the card's mark, as a fraction of the short side

Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class VideoResult:
    """What ``stamp_video`` wrote (read back from the output file)."""

    output: Path
    width: int  # as displayed (rotation applied)
    height: int
    duration_ms: int
    codec: str  # the encoder used, e.g. "libx264"
    rotation: int  # display rotation kept: 0, 90, 180 or 270 (counter-clockwise)


@dataclass(frozen=True)
class AudioStream:
    index: int
    codec: str
    sample_rate: int
    layout: str  # ffmpeg's channel layout name: "mono", "stereo", "5.1(side)"...


@dataclass(frozen=True)
class VideoInfo:
    """What one ``ffmpeg -i`` tells about a video file."""

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

    @property
    def display_size(self) -> tuple[int, int]:
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


# ---------------------------------------------------------------------------------------------
# Probing


_INPUT = re.compile(r"^Input #0, (.+?), from ", re.M)
_STREAM = re.compile(r"^\s*Stream #0:(\d+)\S*: (Video|Audio|Data|Subtitle|Attachment): (.*)$")
_SIZE = re.compile(r"[ ,](\d+)x(\d+)(?=[ ,\[]|$)")
_FPS = re.compile(r" (\d+(?:\.\d+)?)(k?) (fps|tbr)")
_DISPLAY = re.compile(r"(?:Display Matrix|displaymatrix): rotation of (-?\d+(?:\.\d+)?) degrees")
_OLD_ROTATE = re.compile(r"^\s*rotate\s*:\s*(-?\d+)", re.M)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_PREFIX = re.compile(r"^\[([^\]]+?) @ (?:0x)?[0-9a-fA-F]+\]\s*")
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
    "Last message repeated",
    "Nothing was written",
    "Task finished with error",
    "Terminating thread",
)


def _clean(line: str) -> str:
    """ffmpeg's ``[vost#0:0/libx264 @ 0x55d9...] [enc:libx264 @ 0x...] message`` as
    ``libx264: message`` (ffmpeg's internal object names dropped)."""
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


def _last_error(stderr: str) -> str:
    """ffmpeg's last meaningful error line, on one line (its generic follow-ups such as
    "Conversion failed!" skipped)."""
    lines = [_clean(raw) for raw in stderr.splitlines()]
    lines = [line for line in lines if line]
    meaningful = [line for line in lines if not _generic(line)]
    pick = (meaningful or lines or ["ffmpeg failed without a message"])[-1]
    return pick[:300]


def _stream_blocks(text: str) -> list[tuple[int, str, str, str]]:
    """(index, kind, the stream line's description, the lines that follow it) per stream."""
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


def _rotation(block: str) -> int:
    m = _DISPLAY.search(block)
    if m is not None:
        return round(float(m.group(1))) % 360
    old = _OLD_ROTATE.search(block)  # ffmpeg < 5 printed the clockwise "rotate" tag
    if old is not None:
        return -int(old.group(1)) % 360
    return 0


def _container(fmt: str, text: str, path: Path) -> str:
    brand = re.search(r"^\s*major_brand\s*:\s*(\S*)", text, re.M)
    if brand is not None:
        return "mov" if brand.group(1).startswith("qt") else "mp4"
    return "mp4" if path.suffix.lower() in (".mp4", ".m4v") else "mov"  # QuickTime without ftyp


def _read_header(path: Path) -> str:
    try:
        proc = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired as exc:
        raise BadInput(f"{path}: ffmpeg could not read its header in {exc.timeout:.0f} s") from None
    return proc.stderr.decode("utf-8", "replace")


def probe_video(path: Path) -> VideoInfo:
    """Read ``path``'s header with ``ffmpeg -i``; raise ``BadInput`` with a one-line reason for
    anything that is not an MP4 or MOV file with a video stream."""
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
    text = _read_header(path)
    if "misdetection possible" in text:
        # ffmpeg guessed a format from a weak signature: random or foreign bytes, never a video
        raise BadInput(f"{path}: not a video ffmpeg can read (unrecognised data)")
    found = _INPUT.search(text)
    if found is None:
        if "moov atom not found" in text:
            raise BadInput(f"{path}: truncated or incomplete video (its index, the moov atom, is missing)")
        if "Invalid data found" in text:
            raise BadInput(f"{path}: not a video ffmpeg can read (invalid data)")
        raise BadInput(f"{path}: cannot read: {_last_error(text)}")
    fmt = found.group(1)
    blocks = _stream_blocks(text)
    videos = [b for b in blocks if b[1] == "Video" and "(attached pic)" not in b[2]]
    if "mov" not in fmt.split(","):
        if not videos:
            raise BadInput(f"{path}: not a video (ffmpeg reads it as {fmt!r} data without a video stream)")
        raise BadInput(f"{path}: unsupported format {fmt!r} (MP4 and MOV videos can be stamped)")
    if not videos:
        kinds = sorted({b[1].lower() for b in blocks})
        has = f" (it has {' and '.join(kinds)} only)" if kinds else ""
        raise BadInput(f"{path}: no video stream{has}")
    index, _, desc, follow = videos[0]
    dims = _SIZE.search(desc)
    if dims is None:
        raise BadInput(f"{path}: video stream without a frame size")
    fps_m = _FPS.search(desc)
    fps = 0.0
    if fps_m is not None:
        fps = float(fps_m.group(1)) * (1000 if fps_m.group(2) else 1)
    sar_m = re.search(r"SAR (\d+):(\d+)", desc)
    sar = (int(sar_m.group(1)), int(sar_m.group(2))) if sar_m else (1, 1)
    if sar[0] == 0 or sar[1] == 0:
        sar = (1, 1)
    rate_m = re.search(r"(\d+) kb/s", desc)
    dur = _DURATION.search(text)
    duration = int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3)) if dur else 0.0
    audio: list[AudioStream] = []
    for a_index, kind, a_desc, _ in blocks:
        if kind != "Audio":
            continue
        hz = re.search(r"(\d+) Hz, ([^,]+)", a_desc)
        layout = hz.group(2).strip() if hz else "stereo"
        if not re.fullmatch(r"[\w.()+-]+", layout):
            channels = re.match(r"(\d+) channels", layout)
            layout = f"{channels.group(1)}c" if channels else "stereo"
        audio.append(
            AudioStream(
                index=a_index,
                codec=a_desc.split(" ", 1)[0].strip(","),
                sample_rate=int(hz.group(1)) if hz else 48000,
                layout=layout,
            )
        )
    return VideoInfo(
        container=_container(fmt, text, path),
        stream=index,
        codec=desc.split(" ", 1)[0].strip(","),
        width=int(dims.group(1)),
        height=int(dims.group(2)),
        rotation=_rotation(follow),
        fps=fps,
        sar=sar,
        duration=duration,
        bitrate_kbps=int(rate_m.group(1)) if rate_m else None,
        audio=tuple(audio),
    )


# ---------------------------------------------------------------------------------------------
# Encoders


@lru_cache(maxsize=1)
def available_encoders() -> frozenset[str]:
    """The encoders this ffmpeg build has."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-encoders"], capture_output=True)
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


def _quality(crf: int) -> int:
    """x264/x265 CRF (lower is better, 18-28 usual) to VideoToolbox's -q:v (1-100, higher is
    better): CRF 20 -> 65, 23 -> 60, 28 -> 51."""
    return max(1, min(100, round(100 - 1.75 * crf)))


def _encoder_args(encoder: str, settings: VideoSettings, *, bitrate_kbps: int | None = None) -> list[str]:
    """The video encoder options. VideoToolbox has no CRF: ``-q:v`` (Apple silicon), or a
    bitrate when ``bitrate_kbps`` is given (Intel Macs have no constant-quality mode)."""
    args = ["-c:v", encoder]
    if encoder in ("libx264", "libx265"):
        args += ["-crf", str(settings.crf), "-preset", settings.preset]
    elif bitrate_kbps:
        args += ["-b:v", f"{bitrate_kbps}k"]
    else:
        args += ["-q:v", str(_quality(settings.crf))]
    if encoder == "libx265":
        args += ["-x265-params", "log-level=error"]
    if encoder in ("libx265", "hevc_videotoolbox"):
        args += ["-tag:v", "hvc1"]  # Apple players want hvc1, not hev1
    return [*args, "-pix_fmt", "yuv420p"]


# ---------------------------------------------------------------------------------------------
# The mark and the credits card, as PNG files in stored orientation

_TO_STORED = {90: "ROTATE_270", 180: "ROTATE_180", 270: "ROTATE_90"}


def _to_stored(im: Image.Image, rotation: int) -> Image.Image:
    """Turn a picture drawn upright (as displayed) into the orientation the frames are stored
    in: a player rotates stored frames by ``rotation`` degrees counter-clockwise, so we turn
    the other way."""
    from PIL import Image

    name = _TO_STORED.get(rotation)
    return im if name is None else im.transpose(getattr(Image.Transpose, name))


def write_mark(
    style: Style, fields: Mapping[str, str], info: VideoInfo, path: Path
) -> tuple[int, int] | None:
    """Render the mark once for the displayed size, turn it to the stored orientation, crop it
    to the pixels it covers and save it as a PNG. Returns where its top-left corner goes on the
    stored frame, or None when the mark covers nothing."""
    from watermark.mark import render_mark

    overlay = _to_stored(render_mark(style, info.display_size, fields).overlay(), info.rotation)
    box = overlay.getchannel("A").getbbox()
    if box is None:
        return None
    overlay.crop(box).save(path, format="PNG", compress_level=1)
    return box[0], box[1]


def _write_card(style: Style, fields: Mapping[str, str], info: VideoInfo, path: Path) -> None:
    """The account card for the credits: the mark's body, opaque and large, centred on a dark
    background, the size of the stored frames."""
    from PIL import Image

    from watermark.mark import render_mark

    card_style = replace(style, position="center", opacity=1.0, size=CARD_SIZE, margin=0.06)
    width, height = info.display_size
    card = Image.new("RGBA", (width, height), (*CARD_BACKGROUND, 255))
    card.alpha_composite(render_mark(card_style, (width, height), fields).overlay())
    _to_stored(card.convert("RGB"), info.rotation).save(path, format="PNG", compress_level=1)


# ---------------------------------------------------------------------------------------------
# The filter graph


def _frame_rate(fps: float) -> Fraction:
    """ffmpeg prints rounded rates (29.97, 23.98): back to the exact NTSC rates, else a fraction."""
    from fractions import Fraction

    for base in (24, 30, 48, 60, 120, 240):
        if abs(fps - base * 1000 / 1001) < 0.01:
            return Fraction(base * 1000, 1001)
    if fps <= 0:
        return Fraction(30)
    if abs(fps - round(fps)) < 0.01:
        return Fraction(round(fps))
    return Fraction(fps).limit_denominator(1001)


@dataclass(frozen=True)
class _Card:
    seconds: float  # exact length: a whole number of frames
    frames: int


def _card(seconds: float, rate: Fraction) -> _Card | None:
    if seconds <= 0:
        return None
    frames = max(1, round(seconds * rate))
    return _Card(float(frames / rate), frames)


def _card_chain(label: str, out: str, card: _Card, rate: Fraction, fade: float, sar: str) -> str:
    step = 1 / rate  # one frame: the card's time base, so that frame N is at pts N
    chain = f"[{label}]loop=loop={card.frames - 1}:size=1:start=0,"
    chain += f"settb={step.numerator}/{step.denominator},setpts=N"
    fade = min(max(fade, 0.0), card.seconds / 2)
    if fade > 0:
        chain += f",fade=t=in:st=0:d={fade:.3f},fade=t=out:st={card.seconds - fade:.3f}:d={fade:.3f}"
    return f"{chain},setsar={sar}[{out}]"


def _filter_graph(
    info: VideoInfo,
    mark_at: tuple[int, int] | None,
    opening: _Card | None,
    closing: _Card | None,
    fade: float,
) -> tuple[str, list[str]]:
    """The one filter graph, and the ``-map`` options for its outputs. Inputs: 0 the video,
    then the mark (when it covers anything), then the card (when there are credits)."""
    main = f"[0:{info.stream}]"
    card_input = 1
    if mark_at is not None:
        x, y = mark_at
        main_chain = f"{main}[1:v]overlay=x={x}:y={y}:eof_action=repeat"
        card_input = 2
    else:
        main_chain = f"{main}null"
    if opening is None and closing is None:
        return f"{main_chain}[v]", ["-map", "[v]", *_audio_maps(info)]
    rate = _frame_rate(info.fps)
    sar = f"{info.sar[0]}/{info.sar[1]}"
    parts = [f"{main_chain},setsar={sar}[main]"]
    cards = [c for c in (opening, closing) if c is not None]
    if len(cards) == 2:
        parts.append(f"[{card_input}:v]split=2[card0][card1]")
        sources = ["card0", "card1"]
    else:
        parts.append(f"[{card_input}:v]null[card0]")
        sources = ["card0"]
    segments: list[str] = []
    n_audio = len(info.audio)

    def card_segment(card: _Card, name: str) -> None:
        parts.append(_card_chain(sources.pop(0), name, card, rate, fade, sar))
        segments.append(f"[{name}]")
        for k, stream in enumerate(info.audio):
            silence = f"{name}_a{k}"
            parts.append(
                f"anullsrc=r={stream.sample_rate}:cl={stream.layout},"
                f"atrim=duration={card.seconds:.6f}[{silence}]"
            )
            segments.append(f"[{silence}]")

    if opening is not None:
        card_segment(opening, "opening")
    segments.append("[main]")
    segments.extend(f"[0:{stream.index}]" for stream in info.audio)
    if closing is not None:
        card_segment(closing, "closing")
    outs = "[v]" + "".join(f"[a{k}]" for k in range(n_audio))
    parts.append(f"{''.join(segments)}concat=n={len(cards) + 1}:v=1:a={n_audio}{outs}")
    maps = ["-map", "[v]"]
    for k in range(n_audio):
        maps += ["-map", f"[a{k}]"]
    return ";".join(parts), maps


def _audio_maps(info: VideoInfo) -> list[str]:
    maps: list[str] = []
    for stream in info.audio:
        maps += ["-map", f"0:{stream.index}"]
    return maps


# ---------------------------------------------------------------------------------------------
# Running ffmpeg


def _run(cmd: Sequence[str], total: float, progress: Progress | None) -> None:
    """Run ffmpeg (``-progress pipe:1`` in ``cmd``), report progress, raise WatermarkError with
    its last meaningful error line when it fails. The process is killed if we are interrupted."""
    import tempfile

    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True
        )
        try:
            done = 0.0
            assert proc.stdout is not None
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and progress is not None and value.lstrip("-").isdigit():
                    now = min(total, int(value) / 1e6)
                    if now > done:
                        done = now
                        progress(done, total)
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if code != 0:
        raise WatermarkError(f"ffmpeg failed: {_last_error(stderr)}")
    if "partial file" in stderr:
        raise _Truncated(_last_error(stderr))


class _Truncated(Exception):
    """The source's data ends before its index says it does."""


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass  # gone already; or a leftover .keepmark-tmp, which scans ignore


def _check_paths(src: Path, dst: Path) -> None:
    if dst.exists() and dst.is_dir():
        raise BadOutput(f"{dst}: is a folder")
    same = dst.resolve() == src.resolve()
    if not same and dst.exists():
        try:
            same = os.path.samefile(src, dst)
        except OSError:
            same = False
    if same:
        raise BadOutput(f"{dst}: is the source itself; the original is never overwritten")


# ---------------------------------------------------------------------------------------------
# The public function


def stamp_video(
    src: Path,
    dst: Path,
    style: Style,
    fields: Mapping[str, str],
    settings: VideoSettings,
    *,
    progress: Progress | None = None,
) -> VideoResult:
    """Write ``src`` with ``style``'s mark to ``dst`` (same container, same display rotation,
    same frame timing, every audio stream copied untouched); ``src`` is only read.

    ``settings.codec`` picks the encoder (``auto``: the source's family, VideoToolbox on a Mac);
    ``crf``/``preset`` apply to x264/x265, and map to ``-q:v`` for VideoToolbox.

    With credits (``settings.credits.opening``/``closing`` > 0) the account card is shown for
    that many seconds before/after the video, fading in and out over ``credits.fade`` seconds,
    with silence under it. The sound is then re-encoded (AAC) so it can be joined to the
    silence, and stays in sync; without credits it is never re-encoded.

    ``progress(done_seconds, total_seconds)`` is called as ffmpeg goes, with increasing values.

    Raises ``BadInput`` (a one-line reason) for a file that is not a readable MP4/MOV video,
    ``BadOutput`` when ``dst``'s folder cannot be written, ``WatermarkError`` when ffmpeg fails.
    On any failure or interrupt nothing is left under ``dst``'s name.
    """
    src, dst = Path(src), Path(dst)
    info = probe_video(src)
    encoder = choose_encoder(settings.codec, info.codec)
    _check_paths(src, dst)
    rate = _frame_rate(info.fps)
    opening = _card(settings.credits.opening, rate)
    closing = _card(settings.credits.closing, rate)
    total = info.duration + sum(c.seconds for c in (opening, closing) if c is not None)
    done = 0.0

    def report(seconds: float, _total: float) -> None:
        nonlocal done
        if progress is not None and seconds > done:
            done = seconds
            progress(seconds, total)

    import tempfile

    with tempfile.TemporaryDirectory(prefix="keepmark-video-") as work, ExitStack() as stack:
        mark_png = Path(work) / "mark.png"
        card_png = Path(work) / "card.png"
        mark_at = write_mark(style, fields, info, mark_png)
        if opening or closing:
            _write_card(style, fields, info, card_png)
        try:
            tmp = stack.enter_context(atomic_path(dst))
        except OSError as exc:
            raise BadOutput(f"{dst.parent}: cannot write there: {exc.strerror or exc}") from None
        graph, maps = _filter_graph(info, mark_at, opening, closing, settings.credits.fade)
        inputs = ["-noautorotate", "-i", str(src)]
        if mark_at is not None:
            inputs += ["-i", str(mark_png)]
        if opening or closing:
            inputs += ["-i", str(card_png)]
        audio = ["-c:a", "copy"] if not (opening or closing) else ["-c:a", "aac", "-b:a", "192k"]

        def command(video_args: list[str]) -> list[str]:
            return [
                ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-nostats",
                "-progress", "pipe:1", "-stats_period", "0.25", "-y",
                *inputs, "-filter_complex", graph, *maps,
                *video_args, "-fps_mode", "passthrough", *audio,
                "-map_metadata", "0", "-movflags", "+faststart",
                "-f", info.container, str(tmp),
            ]  # fmt: skip

        try:
            try:
                _run(command(_encoder_args(encoder, settings)), total, report)
            except WatermarkError:
                if not encoder.endswith("_videotoolbox"):
                    raise
                # no constant-quality mode on this Mac: ask for the source's bitrate instead
                bitrate = info.bitrate_kbps or max(2000, info.width * info.height * 4 // 1000)
                _run(command(_encoder_args(encoder, settings, bitrate_kbps=bitrate)), total, report)
        except _Truncated:
            raise BadInput(f"{src}: truncated or damaged: its data ends before its index says") from None
        out = _probe_output(tmp)
        if out.rotation != info.rotation:
            # this ffmpeg did not carry the display matrix through the filter graph (or the
            # first frames were the card's): write it with a stream-copy remux
            out = _remux_rotation(tmp, info)
        cards = total - info.duration
        if out.duration < total - max(0.25, 3 / max(info.fps, 1.0)):
            raise BadInput(
                f"{src}: truncated or damaged: its video data ends at {out.duration - cards:.2f} s "
                f"of the {info.duration:.2f} s its header announces"
            )
    report(total, total)
    width, height = out.display_size
    return VideoResult(
        output=dst,
        width=width,
        height=height,
        duration_ms=round(out.duration * 1000),
        codec=encoder,
        rotation=out.rotation,
    )


def _probe_output(path: Path) -> VideoInfo:
    try:
        return probe_video(path)
    except BadInput as exc:
        raise WatermarkError(f"ffmpeg wrote an unreadable file: {exc}") from None


def _remux_rotation(path: Path, info: VideoInfo) -> VideoInfo:
    """Rewrite ``path`` (in place, through a sibling temporary file) with ``info``'s display
    rotation, streams copied."""
    fixed = path.with_name(f"{path.name[: -len(TMP_SUFFIX)]}.rotated{TMP_SUFFIX}")
    try:
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-nostats", "-y",
            "-display_rotation", str(info.rotation), "-i", str(path),
            "-map", "0", "-c", "copy", "-map_metadata", "0", "-movflags", "+faststart",
            "-f", info.container, str(fixed),
        ]  # fmt: skip
        _run(cmd, info.duration, None)
        os.replace(fixed, path)
    finally:
        _remove(fixed)
    return _probe_output(path)
