"""Small greyscale frames out of ffmpeg, the raw material of a video's hashes.

Two kinds, both ``side`` x ``side`` pixels, one byte each, scaled by ffmpeg (``flags=area``)
from the frames as a player shows them (ffmpeg's autorotate applies the display rotation):

- the frames at evenly spaced ``points`` of the video: one input seek per point (``-ss``
  before ``-i``: the decode starts at the keyframe before it, so a long video is not decoded
  end to end), the first frame the seek gives;
- the sequence: ``rate`` frames per second through the whole video, one pass.

The sequence's filter chain is written once (``sequence_chain``): the stamper's single pass
(``watermark.video``) takes the same sequence from the frames it decodes for the stamped copy,
through a ``split`` of its filter graph (``pass_branches``), and with it the first frame at or
after each point. Those replace the separate decodes only where they are proved to be the same frames
(``inventory.media.keyframes``): the sequence when the pass turns its frames as autorotation
does (the display matrix a plain rotation); a point's frame when, besides, a seek there starts
at an IDR picture (or the codec is intra-only) and no frame lies on the point. After a seek an
open-GOP stream (x265's default) does not show the leading pictures that precede the keyframe,
so a point can land on another frame than in a pass from the start. What is not proved is done
apart; and when the turning is not proved, the seeks check the pass: its sequence is used only
when one of its point frames, a frame with an asymmetric picture, is byte for byte the frame the
seek gave (``confirmed``), which would not be so had the pass turned or converted the frames
otherwise than ffmpeg's autorotate.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inventory.media.ffmpeg import last_error, run

SEEK_TIMEOUT = 120
SEQUENCE_TIMEOUT = 3600
NO_FRAME = "no frame could be decoded"

# The filters ffmpeg's autorotate inserts before a filter graph for a display rotation (degrees
# counter-clockwise). A display matrix with a mirror in it prints as one of these rotations but
# is undone otherwise: ``confirmed`` tells such a pass apart.
_AUTOROTATE = {90: "transpose=cclock", 180: "hflip,vflip", 270: "transpose=clock"}


def points(duration_ms: int | None, count: int) -> tuple[float, ...]:
    """``count`` evenly spaced points (seconds) of a video, each in the middle of its share;
    the start alone when the duration is unknown."""
    if duration_ms and duration_ms > 0:
        return tuple(duration_ms * (2 * i + 1) / (2 * count) / 1000 for i in range(count))
    return (0.0,)


def grey_chain(side: int) -> str:
    """The filters that make one hashed frame of a decoded one."""
    return f"scale={side}:{side}:flags=area,format=gray"


def sequence_chain(rate: float, side: int) -> str:
    """The filters that make the sequence of a video's decoded frames."""
    return f"fps={rate:g},{grey_chain(side)}"


def split_frames(raw: bytes, side: int) -> list[bytes]:
    """Raw greyscale video (``side`` x ``side`` bytes a frame) as frames; a partial one dropped."""
    size = side * side
    return [raw[i : i + size] for i in range(0, len(raw) - size + 1, size)]


def _command(path: str, chain: str, options: Sequence[str], seek: float | None = None) -> list[str]:
    """ffmpeg writing the first video stream's frames through ``chain`` as raw video to stdout."""
    start = ["-ss", f"{seek:.3f}"] if seek is not None else []
    return [
        "-nostdin", "-v", "error", *start, "-i", path, "-map", "0:v:0", *options,
        "-vf", chain, "-f", "rawvideo", "-",
    ]  # fmt: skip


def frame_sequence(path: str, rate: float, side: int) -> tuple[list[bytes], str | None]:
    """The video's frames sampled at ``rate`` per second from its start (one pass of ffmpeg),
    and the decoding error, if any (the frames before it are kept)."""
    cmd = _command(path, sequence_chain(rate, side), ["-an", "-sn"])
    try:
        proc = run(cmd, SEQUENCE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"could not run ffmpeg: {exc}"
    frames = split_frames(proc.stdout, side)
    error = None
    if proc.returncode != 0 or not frames:
        error = last_error(proc.stderr, path, default=NO_FRAME)
    return frames, error


def seek_frames(path: str, at: Sequence[float], side: int) -> tuple[list[bytes | None], str | None]:
    """The first frame ffmpeg gives after seeking to each point (None where it gives none),
    and the last decoding error, if any (``NO_FRAME`` when no seek gave a frame)."""
    frames, error = seek_each(path, at, side)
    if error is None and not any(frames):
        error = NO_FRAME
    return frames, error


def seek_each(path: str, at: Sequence[float], side: int) -> tuple[list[bytes | None], str | None]:
    """``seek_frames``' frames, and the last error ffmpeg printed (or could not run), if any."""
    frames: list[bytes | None] = []
    error: str | None = None
    size = side * side
    for t in at:
        cmd = _command(path, grey_chain(side), ["-frames:v", "1"], seek=t)
        try:
            proc = run(cmd, SEEK_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            frames += [None] * (len(at) - len(frames))
            return frames, f"could not run ffmpeg: {exc}"
        if len(proc.stdout) < size:
            if proc.stderr.strip():
                error = last_error(proc.stderr, path)
            frames.append(None)
            continue
        frames.append(proc.stdout[:size])
    return frames, error


# ---------------------------------------------------------------------------------------------
# The frames a stamping pass takes on the way


@dataclass(frozen=True)
class Sampling:
    """The grey frames a pass over a video should take: the sequence at ``rate`` per second,
    and the first frame at or after each of ``points`` (seconds), all ``side`` pixels square."""

    rate: float
    side: int
    points: tuple[float, ...]


@dataclass(frozen=True)
class PassFrames:
    """Grey frames taken by a pass that decoded the whole video for something else."""

    sampling: Sampling
    sequence: tuple[bytes, ...]
    at_points: tuple[bytes | None, ...]  # None: the video ends before that point
    clean: bool = False  # the pass printed no error (decoded every frame without complaint)


@dataclass(frozen=True)
class PassOutputs:
    """Where a pass writes its grey frames: ffmpeg output arguments and the files behind them."""

    sampling: Sampling
    sequence: Path
    at_points: tuple[Path, ...]
    args: tuple[str, ...]  # to append to the pass's ffmpeg command (after its own outputs)

    def read(self, clean: bool = False) -> PassFrames:
        """The frames written (call after ffmpeg ended well; ``clean``: it printed no error).

        A point's file holds the frame taken there and the padding frame after it, or the
        padding frame alone when the video ends before the point (see ``pass_branches``);
        anything else makes the frames not ``clean``."""
        side = self.sampling.side
        sequence = tuple(split_frames(self.sequence.read_bytes(), side))
        at: list[bytes | None] = []
        for path in self.at_points:
            written = split_frames(path.read_bytes(), side) if path.exists() else []
            clean = clean and len(written) in (1, 2)
            at.append(written[0] if len(written) == 2 else None)
        return PassFrames(self.sampling, sequence, tuple(at), clean)


def pass_branches(source: str, rotation: int, sampling: Sampling, folder: Path) -> tuple[str, PassOutputs]:
    """The filter-graph branches that take ``sampling``'s frames from the decoded stream labelled
    ``source`` (its frames as stored, ``-noautorotate``; ``rotation`` is the display rotation
    the probe gave), and the outputs that write them into ``folder``.

    The sequence branch is ``sequence_chain`` after the transpose or flips ffmpeg's autorotate
    would have put first (turning a frame commutes with choosing it, so it is done after
    ``fps``, on two frames a second instead of every one).

    A point's branch ends with one padding frame (``tpad``), so that its output always gets a
    frame: ffmpeg fails a whole run when one of its outputs gets none, as a point past the
    video's last frame would (a video stream that ends before the sound does)."""
    turn = _AUTOROTATE.get(rotation % 360)
    turn = f"{turn}," if turn else ""
    n = len(sampling.points)
    labels = "".join(f"[km_at{i}]" for i in range(n))
    parts = [f"{source}split={n + 1}[km_seq]{labels}"]
    parts.append(f"[km_seq]fps={sampling.rate:g},{turn}{grey_chain(sampling.side)}[km_seq_out]")
    sequence = folder / "sequence.raw"
    args = ["-map", "[km_seq_out]", "-an", "-sn", "-f", "rawvideo", str(sequence)]
    at_paths: list[Path] = []
    for i, t in enumerate(sampling.points):
        pick = f"select='gte(t\\,{t:.3f})*eq(selected_n\\,0)'"
        pad = "tpad=stop=1:stop_mode=add:color=black"
        parts.append(f"[km_at{i}]{pick},{turn}{grey_chain(sampling.side)},{pad}[km_at{i}_out]")
        at_paths.append(folder / f"point-{i}.raw")
        args += ["-map", f"[km_at{i}_out]", "-fps_mode", "passthrough", "-frames:v", "2"]
        args += ["-f", "rawvideo", str(at_paths[-1])]
    return ";".join(parts), PassOutputs(sampling, sequence, tuple(at_paths), tuple(args))


def confirmed(taken: PassFrames, seeks: Sequence[bytes | None]) -> bool:
    """True when the pass's frames are the frames separate decodes give: at least one of its
    point frames is byte for byte the seek's frame at that point, and is a picture that would
    have come out different had it been turned or mirrored otherwise."""
    side = taken.sampling.side
    for mine, seek in zip(taken.at_points, seeks, strict=False):
        if mine is not None and mine == seek and _asymmetric(mine, side):
            return True
    return False


# A frame counts as asymmetric when it differs from each of its turned and mirrored versions by
# at least this much on average (grey levels of 255).
_ASYMMETRY = 4.0


def _asymmetric(frame: bytes, side: int) -> bool:
    from PIL import Image, ImageChops, ImageStat

    im = Image.frombytes("L", (side, side), frame)
    for method in Image.Transpose:
        turned = im.transpose(method)
        if ImageStat.Stat(ImageChops.difference(im, turned)).mean[0] < _ASYMMETRY:
            return False
    return True
