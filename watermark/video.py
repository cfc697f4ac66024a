"""Stamp a video: the mark rendered once by Pillow, overlaid by one ffmpeg filter graph.

The ffmpeg binary is the one imageio-ffmpeg ships (``inventory.media.ffmpeg``), and the video is
read through the one probe (``inventory.media.probe``). Python never touches a frame: the mark
is saved once as a PNG (cropped to the pixels it covers) and ffmpeg's ``overlay`` filter blends
it on every frame while the encoder runs. What a phone wrote is kept:

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

The same pass can take the inventory's grey frames on the way (``sampling``): a ``split`` of
the decoded video feeds ``inventory.media.frames``' branches, so a new video is decoded once
for its stamped copy and its frame sequence (see ``VideoResult.frames``).

The output is written to a hidden temporary file beside ``dst`` (``.NAME.XXXX.keepmark-tmp``),
fsynced and renamed, so a crash never leaves a truncated file under the final name.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inventory.atomic import TMP_SUFFIX, atomic_path
from inventory.media.ffmpeg import ffmpeg_exe, last_error, no_window
from inventory.progress import Progress
from watermark.encoders import ENCODERS, available_encoders, choose_encoder, encoder_args
from watermark.errors import BadInput, BadOutput, WatermarkError
from watermark.style import Style, VideoSettings
from watermark.video_graph import GREY_SOURCE, card, filter_graph, frame_rate, write_card, write_mark
from watermark.video_info import AudioStream, VideoInfo, probe_video

if TYPE_CHECKING:
    from inventory.media.frames import PassFrames, PassOutputs, Sampling
    from inventory.media.probe import Probe

__all__ = [
    "ENCODERS",
    "STAGE",
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

# The stage a video's encode reports as (``inventory.progress``), with the file's path.
STAGE = "video"  # one video's encode (inventory.progress names the stages)

# The older form of progress, still accepted: called with (done seconds, total seconds).
Report = Callable[[float, float], None]


@dataclass(frozen=True)
class VideoResult:
    """What ``stamp_video`` wrote (read back from the output file)."""

    output: Path
    width: int  # as displayed (rotation applied)
    height: int
    duration_ms: int
    codec: str  # the encoder used, e.g. "libx264"
    rotation: int  # display rotation kept: 0, 90, 180 or 270 (counter-clockwise)
    # The grey frames taken from the same decode, when ``sampling`` asked for them and the
    # graph could take them (None when the stamped stream is not the file's first video stream).
    frames: PassFrames | None = None


# ---------------------------------------------------------------------------------------------
# Running ffmpeg


def _run(cmd: Sequence[str], total: float, progress: Report | None) -> str:
    """Run ffmpeg (``-progress pipe:1`` in ``cmd``), report progress, raise WatermarkError with
    its last meaningful error line when it fails; return what it printed on stderr (nothing,
    at ``-v error``, when all went well). The process is killed if we are interrupted (or
    cancelled: ``progress`` raises)."""
    import tempfile

    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            **no_window(),
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
        reason = last_error(stderr, default="ffmpeg failed without a message")
        raise WatermarkError(f"ffmpeg failed: {reason}")
    if "partial file" in stderr:
        raise _Truncated(last_error(stderr))
    return stderr


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


class _Reporter:
    """Progress as increasing seconds, to a ``Progress`` (a stage for this one file, which a
    cancel ends) or to an older ``(done, total)`` callable."""

    def __init__(self, progress: Progress | Report | None, src: Path, total: float) -> None:
        self.progress, self.path, self.total, self.done = progress, str(src), total, 0.0

    def start(self) -> None:
        if isinstance(self.progress, Progress):
            self.progress.started(STAGE, 1, self.total, "seconds", path=self.path)

    def __call__(self, seconds: float, _total: float = 0.0) -> None:
        if seconds <= self.done:
            return
        step, self.done = seconds - self.done, seconds
        if isinstance(self.progress, Progress):
            self.progress.advanced(STAGE, step, self.path)
        elif self.progress is not None:
            self.progress(seconds, self.total)

    def finish(self) -> None:
        if isinstance(self.progress, Progress):
            self.progress.finished(STAGE)


# ---------------------------------------------------------------------------------------------
# The public function


def stamp_video(
    src: Path,
    dst: Path,
    style: Style,
    fields: Mapping[str, str],
    settings: VideoSettings,
    *,
    progress: Progress | Report | None = None,
    probe: Probe | None = None,
    sampling: Sampling | None = None,
) -> VideoResult:
    """Write ``src`` with ``style``'s mark to ``dst`` (same container, same display rotation,
    same frame timing, every audio stream copied untouched); ``src`` is only read.

    ``settings.codec`` picks the encoder (``auto``: the source's family, VideoToolbox on a Mac);
    ``crf``/``preset`` apply to x264/x265, and map to ``-q:v`` for VideoToolbox.

    With credits (``settings.credits.opening``/``closing`` > 0) the account card is shown for
    that many seconds before/after the video, fading in and out over ``credits.fade`` seconds,
    with silence under it. The sound is then re-encoded (AAC) so it can be joined to the
    silence, and stays in sync; without credits it is never re-encoded.

    ``progress``: a ``Progress`` gets a ``STAGE`` for this file (``started`` with the total
    seconds, ``advanced`` by seconds encoded, ``finished``), and its cancel token stops the
    encode (``Cancelled`` is raised, nothing is left); an older callable is called with
    ``(done_seconds, total_seconds)``, increasing. ``probe``: ``src``'s probe when the caller
    has it (one ``ffmpeg -i`` fewer). ``sampling``: grey frames to take from the same decode
    for the inventory (``inventory.record.video.sampling_for``), returned in ``frames``.

    Raises ``BadInput`` (a one-line reason) for a file that is not a readable MP4/MOV video,
    ``BadOutput`` when ``dst``'s folder cannot be written, ``WatermarkError`` when ffmpeg fails.
    On any failure or interrupt nothing is left under ``dst``'s name.
    """
    src, dst = Path(src), Path(dst)
    info = probe_video(src, probe)
    encoder = choose_encoder(settings.codec, info.codec)
    _check_paths(src, dst)
    rate = frame_rate(info.fps)
    opening = card(settings.credits.opening, rate)
    closing = card(settings.credits.closing, rate)
    total = info.duration + sum(c.seconds for c in (opening, closing) if c is not None)
    report = _Reporter(progress, src, total)

    import tempfile

    report.start()
    try:
        with tempfile.TemporaryDirectory(prefix="keepmark-video-") as work, ExitStack() as stack:
            mark_png = Path(work) / "mark.png"
            card_png = Path(work) / "card.png"
            mark_at = write_mark(style, fields, info, mark_png)
            if opening or closing:
                write_card(style, fields, info, card_png)
            try:
                tmp = stack.enter_context(atomic_path(dst))
            except OSError as exc:
                raise BadOutput(f"{dst.parent}: cannot write there: {exc.strerror or exc}") from None
            grey, outputs = _grey_branches(info, sampling, Path(work))
            graph, maps = filter_graph(info, mark_at, opening, closing, settings.credits.fade, grey)
            inputs = ["-noautorotate", "-i", str(src)]
            if mark_at is not None:
                inputs += ["-i", str(mark_png)]
            if opening or closing:
                inputs += ["-i", str(card_png)]
            audio = ["-c:a", "copy"] if not (opening or closing) else ["-c:a", "aac", "-b:a", "192k"]
            more = list(outputs.args) if outputs is not None else []
            tags = [arg for key, value in settings.tags for arg in ("-metadata", f"{key}={value}")]

            def command(video_args: list[str]) -> list[str]:
                return [
                    ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-nostats",
                    "-progress", "pipe:1", "-stats_period", "0.25", "-y",
                    *inputs, "-filter_complex", graph, *maps,
                    *video_args, "-fps_mode", "passthrough", *audio,
                    "-map_metadata", "0", *tags, "-movflags", "+faststart",
                    "-f", info.container, str(tmp), *more,
                ]  # fmt: skip

            try:
                try:
                    said = _run(command(encoder_args(encoder, settings)), total, report)
                except WatermarkError:
                    if not encoder.endswith("_videotoolbox"):
                        raise
                    # no constant-quality mode on this Mac: ask for the source's bitrate instead
                    bitrate = info.bitrate_kbps or max(2000, info.width * info.height * 4 // 1000)
                    said = _run(command(encoder_args(encoder, settings, bitrate_kbps=bitrate)), total, report)
            except _Truncated:
                raise BadInput(f"{src}: truncated or damaged: its data ends before its index says") from None
            # a pass that printed anything (a decoding error it went past) hands its frames over
            # as not clean: the inventory then takes the evenly spaced ones from seeks
            frames = outputs.read(clean=not said.strip()) if outputs is not None else None
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
        report(total)
    finally:
        report.finish()
    width, height = out.display_size
    return VideoResult(
        output=dst,
        width=width,
        height=height,
        duration_ms=round(out.duration * 1000),
        codec=encoder,
        rotation=out.rotation,
        frames=frames,
    )


def _grey_branches(
    info: VideoInfo, sampling: Sampling | None, work: Path
) -> tuple[str | None, PassOutputs | None]:
    """The graph branches and outputs that take ``sampling``'s grey frames, when asked for and
    the stamped stream is the one the inventory hashes (the first video stream)."""
    if sampling is None or not info.first_video:
        return None, None
    from inventory.media.frames import pass_branches

    branches, outputs = pass_branches(GREY_SOURCE, info.rotation, sampling, work)
    return branches, outputs


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
