"""Video facts through the ffmpeg binary that imageio-ffmpeg ships.

One ``ffmpeg -i`` call reads the container's header (duration, pixel size, rotation, creation
time); then one frame at each of a few evenly spaced points is decoded straight to a 64x64
greyscale picture (input seeking, so a long video is not decoded end to end) and hashed.
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from typing import Any

from inventory.match.phash import hash_params_for, perceptual_hashes
from inventory.record.facts import MediaFacts

FRAME_POINTS = 8
FRAME_SIDE = 64
PROBE_TIMEOUT = 120
# Frames per second sampled through a whole video for matching clips against it.
SEQUENCE_RATE = 2.0
SEQUENCE_TIMEOUT = 3600

_DURATION = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+)(.*)")
_SIZE = re.compile(r"[ ,](\d{2,5})x(\d{2,5})[ ,\]]")
_FPS = re.compile(r"([\d.]+) fps")
_AUDIO = re.compile(r"Stream #\d+:\d+.*?: Audio: (\w+)")
_ROTATE = re.compile(r"(?:rotate\s*:\s*|rotation of\s*)(-?\d+(?:\.\d+)?)")
_CREATION = re.compile(r"creation_time\s*:\s*(\S+)")


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _no_window() -> dict[str, Any]:
    import sys

    if sys.platform == "win32":  # pragma: no cover - Windows only
        return {"creationflags": subprocess.CREATE_NO_WINDOW}  # type: ignore[attr-defined]
    return {}


def parse_header(text: str) -> dict[str, Any]:
    """The facts ``ffmpeg -i`` prints about a file's first video stream."""
    info: dict[str, Any] = {}
    m = _DURATION.search(text)
    if m:
        hours, minutes, seconds = int(m.group(1)), int(m.group(2)), float(m.group(3))
        info["duration_ms"] = round((hours * 3600 + minutes * 60 + seconds) * 1000)
    m = _VIDEO.search(text)
    if m:
        info["codec"] = m.group(1)
        rest = m.group(2) + " "
        size = _SIZE.search(rest)
        if size:
            info["width"], info["height"] = int(size.group(1)), int(size.group(2))
        fps = _FPS.search(rest)
        if fps:
            info["fps"] = fps.group(1)
        after = text[m.end() :]
        nxt = after.find("Stream #")
        stream_block = after if nxt < 0 else after[:nxt]
        rot = _ROTATE.search(stream_block)
        if rot:
            info["rotation"] = round(float(rot.group(1))) % 360
    m = _AUDIO.search(text)
    if m:
        info["audio_codec"] = m.group(1)
    m = _CREATION.search(text)
    if m:
        info["creation_time"] = m.group(1)
    return info


def _last_error_line(text: str, path: str) -> str:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line and not line.startswith(("Input #", "Output", "At least one output")):
            return line.replace(path, "").replace(": :", ":").strip(" :") or line
    return "unreadable"


def _creation_time(value: str | None) -> str | None:
    if not value or value.startswith("1970-01-01") or value.startswith("1904-01-01"):
        return None
    value = value.strip()
    if value.endswith("000000Z") and "." in value:
        value = value.split(".")[0] + "Z"
    return value


def probe_video(path: str, fmt: str) -> MediaFacts:
    """Read a video's header and hash frames at evenly spaced points. Never raises."""
    facts = MediaFacts()
    try:
        proc = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", path],
            capture_output=True,
            timeout=PROBE_TIMEOUT,
            **_no_window(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        facts.decode_error = f"could not run ffmpeg: {exc}"
        return facts
    text = proc.stderr.decode("utf-8", "replace")
    info = parse_header(text)
    if "codec" not in info:
        if "Input #" in text:
            facts.decode_error = "no video stream"
        else:
            facts.decode_error = f"does not decode as {fmt.upper()}: {_last_error_line(text, path)}"
        return facts
    width, height = info.get("width"), info.get("height")
    if info.get("rotation") in (90, 270) and width and height:
        width, height = height, width
    facts.width, facts.height = width, height
    facts.duration_ms = info.get("duration_ms")
    facts.capture_time = _creation_time(info.get("creation_time"))
    facts.details = {k: info[k] for k in ("codec", "fps", "rotation", "audio_codec") if k in info}
    hashes, error = _frame_hashes(path, facts.duration_ms)
    if error is not None:
        facts.decode_error = f"does not decode as {fmt.upper()}: {error}"
    if hashes:
        facts.frame_hashes = hashes
        facts.phash = hashes[len(hashes) // 2]
        facts.hash_params = hash_params_for("video")
        sequence, _ = frame_sequence(path, SEQUENCE_RATE)
        facts.frame_sequence = sequence or None
    return facts


def _grey_frames_cmd(path: str, filters: str, options: list[str], seek: float | None = None) -> list[str]:
    """ffmpeg writing the first video stream's frames as raw 64x64 greyscale pictures to stdout,
    after the ``filters`` given (each ending in a comma)."""
    start = ["-ss", f"{seek:.3f}"] if seek is not None else []
    return [
        ffmpeg_exe(), "-nostdin", "-v", "error", *start, "-i", path, "-map", "0:v:0", *options,
        "-vf", f"{filters}scale={FRAME_SIDE}:{FRAME_SIDE}:flags=area,format=gray",
        "-f", "rawvideo", "-",
    ]  # fmt: skip


def frame_sequence(path: str, rate: float) -> tuple[list[str], str | None]:
    """pHashes of the video's frames sampled at ``rate`` per second from its start (one pass of
    ffmpeg, each frame scaled to 64x64 greyscale), and the decoding error, if any."""
    from PIL import Image

    cmd = _grey_frames_cmd(path, f"fps={rate:g},", ["-an", "-sn"])
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=SEQUENCE_TIMEOUT, **_no_window())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"could not run ffmpeg: {exc}"
    size = FRAME_SIDE * FRAME_SIDE
    hashes = [
        perceptual_hashes(Image.frombytes("L", (FRAME_SIDE, FRAME_SIDE), proc.stdout[i : i + size]))[0]
        for i in range(0, len(proc.stdout) - size + 1, size)
    ]
    error = None
    if proc.returncode != 0 or not hashes:
        error = _last_error_line(proc.stderr.decode("utf-8", "replace"), path) if proc.stderr else None
        error = error or "no frame could be decoded"
    return hashes, error


def _frame_hashes(path: str, duration_ms: int | None) -> tuple[list[str], str | None]:
    from PIL import Image

    if duration_ms and duration_ms > 0:
        points = [duration_ms * (2 * i + 1) / (2 * FRAME_POINTS) / 1000 for i in range(FRAME_POINTS)]
    else:
        points = [0.0]
    hashes: list[str] = []
    error: str | None = None
    frame_bytes = FRAME_SIDE * FRAME_SIDE
    for t in points:
        cmd = _grey_frames_cmd(path, "", ["-frames:v", "1"], seek=t)
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT, **_no_window())
        except (OSError, subprocess.TimeoutExpired) as exc:
            return hashes, f"could not run ffmpeg: {exc}"
        if len(proc.stdout) < frame_bytes:
            err = proc.stderr.decode("utf-8", "replace")
            if err.strip():
                error = _last_error_line(err, path)
            continue
        frame = Image.frombytes("L", (FRAME_SIDE, FRAME_SIDE), proc.stdout[:frame_bytes])
        hashes.append(perceptual_hashes(frame)[0])
    if not hashes and error is None:
        error = "no frame could be decoded"
    return hashes, error
