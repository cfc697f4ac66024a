"""Stamping videos: real clips made here with the bundled ffmpeg, stamped, then decoded and
compared with their sources (pixels, timing, sound, rotation, container)."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from tests.conftest import REPO
from watermark import video as video_module
from watermark.errors import BadInput, BadOutput, WatermarkError
from watermark.mark import render_mark
from watermark.style import Credits, Style, VideoSettings
from watermark.video import TMP_SUFFIX, VideoResult, probe_video, stamp_video

FAST = VideoSettings(preset="ultrafast")
X265 = ("-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=error")
FIELDS = {"name": "Lily Chen", "handle": "lily.shoots"}


def ffmpeg() -> str:
    import imageio_ffmpeg

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def ff(*args: str) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args], capture_output=True
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc


def make_clip(
    path: Path,
    *,
    seconds: float = 2.0,
    size: str = "320x240",
    rate: str = "30",
    video: tuple[str, ...] = ("-c:v", "libx264", "-preset", "ultrafast"),
    audio: int = 1,
    extra: tuple[str, ...] = (),
) -> Path:
    """A clip with moving texture (testsrc2) and ``audio`` sine tracks of different pitches."""
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    for k in range(audio):
        args += ["-f", "lavfi", "-i", f"sine=frequency={440 * (k + 1)}:duration={seconds}"]
    maps = ["-map", "0:v"] + [x for k in range(audio) for x in ("-map", f"{k + 1}:a")]
    ff(*args, *maps, *video, "-pix_fmt", "yuv420p", "-c:a", "aac", *extra, str(path))
    return path


def rotate(source: Path, path: Path, degrees: int) -> Path:
    """A stream-copy of ``source`` whose display matrix says: rotate by ``degrees`` (as phones do)."""
    ff("-display_rotation", str(degrees), "-i", str(source), "-map", "0", "-c", "copy", str(path))
    return path


def header(path: Path) -> str:
    proc = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True)
    return proc.stderr.decode()


def matrix_rotation(path: Path) -> int:
    """The display rotation ``ffmpeg -i`` prints for the video, counter-clockwise, 0-359."""
    m = re.search(r"Display Matrix: rotation of (-?\d+)\.\d+ degrees", header(path))
    return int(m.group(1)) % 360 if m else 0


def frame(path: Path, at: float) -> Image.Image:
    """The frame shown at ``at`` seconds, as a player shows it (rotation applied)."""
    proc = ff("-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-")
    with Image.open(io.BytesIO(proc.stdout)) as im:
        rgb: Image.Image = im.convert("RGB")
    return rgb


def packet_times(path: Path) -> list[float]:
    """Presentation times of the video packets, in seconds, sorted."""
    out = ff("-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-").stdout.decode()
    tb = re.search(r"#tb 0: (\d+)/(\d+)", out)
    assert tb is not None
    scale = int(tb.group(1)) / int(tb.group(2))
    return sorted(int(line.split(",")[2]) * scale for line in out.splitlines() if not line.startswith("#"))


def audio_md5(path: Path) -> str:
    return ff("-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5", "-").stdout.decode().strip()


def diff(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Mean absolute difference (0-255) of ``a`` and ``b`` inside ``box``."""
    d = ImageChops.difference(a.crop(box), b.crop(box))
    return sum(ImageStat.Stat(d).mean) / 3


def darkness(im: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Mean of 255 - value inside ``box``: how much a white mark at opacity 1 would change it."""
    return 255 - sum(ImageStat.Stat(im.crop(box)).mean) / 3


def inset(box: tuple[int, int, int, int], by: int = 2) -> tuple[int, int, int, int]:
    return (box[0] + by, box[1] + by, box[2] - by, box[3] - by)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(TMP_SUFFIX))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Source clips shared by the tests of this module (never modified by them)."""
    folder = tmp_path_factory.mktemp("video-sources")
    Image.new("RGBA", (40, 40), (255, 255, 255, 255)).save(folder / "white.png")
    make_clip(folder / "clip.mp4", size="640x360", seconds=3)
    make_clip(
        folder / "bframes.mp4",
        seconds=2,
        video=("-c:v", "libx264", "-preset", "fast", "-bf", "3"),
        extra=("-movflags", "+faststart"),
    )
    # a portrait iPhone clip: HEVC in MOV, stored landscape, display matrix -90 (= 270)
    make_clip(folder / "landscape.mov", rate="30000/1001", video=X265)
    rotate(folder / "landscape.mov", folder / "phone.mov", 270)
    make_clip(folder / "two-tracks.mp4", audio=2)
    make_clip(folder / "silent.mp4", audio=0)
    for degrees in (90, 180, 270):
        rotate(folder / "clip.mp4", folder / f"rot{degrees}.mp4", degrees)
    return folder


def logo_style(media: Path, **kw: object) -> Style:
    return Style(text="", logo=media / "white.png", **kw)  # type: ignore[arg-type]


def stamp(
    media: Path,
    tmp_path: Path,
    name: str,
    style: Style | None = None,
    settings: VideoSettings = FAST,
    progress: Callable[[float, float], None] | None = None,
) -> tuple[Path, Path, VideoResult]:
    src = media / name
    dst = tmp_path / "out" / f"stamped-{name}"
    result = stamp_video(
        src, dst, style or logo_style(media, size=0.15, opacity=0.5), FIELDS, settings, progress=progress
    )
    return src, dst, result


# --------------------------------------------------------------------------------------------
# What is kept


def test_stamped_copy_keeps_timing_sound_and_size(media: Path, tmp_path: Path) -> None:
    before = sha(media / "clip.mp4")
    src, dst, result = stamp(media, tmp_path, "clip.mp4")
    assert sha(src) == before, "the source was modified"
    assert sorted(p.name for p in dst.parent.iterdir()) == [dst.name]
    assert result == VideoResult(dst, 640, 360, result.duration_ms, "libx264", 0)
    assert abs(result.duration_ms - 3000) <= 1000 / 30
    s, d = probe_video(src), probe_video(dst)
    assert (d.container, d.codec, d.width, d.height, d.fps) == ("mp4", "h264", 640, 360, s.fps)
    assert abs(d.duration - s.duration) <= 1 / s.fps
    # passthrough timing: the same frames at the same times, none duplicated or dropped
    ts, td = packet_times(src), packet_times(dst)
    assert len(ts) == len(td) == 90
    assert max(abs(a - b) for a, b in zip(ts, td, strict=True)) < 0.001
    # the sound is the same bytes
    assert audio_md5(src) == audio_md5(dst)
    assert "yuv420p" in header(dst)


def test_mark_lands_bottom_right_at_its_opacity(media: Path, tmp_path: Path) -> None:
    style = logo_style(media, size=0.15, opacity=0.5)
    src, dst, _ = stamp(media, tmp_path, "clip.mp4", style)
    box = inset(render_mark(style, (640, 360), FIELDS).layers[0].box)
    assert box[0] > 500 and box[1] > 250, box  # bottom right
    a, b = frame(src, 1.0), frame(dst, 1.0)
    expected = 0.5 * darkness(a, box)  # a white mark at 50 %
    changed = diff(a, b, box)
    assert 0.75 * expected < changed < 1.25 * expected, (changed, expected)
    far = (0, 0, box[2] - box[0], box[3] - box[1])  # the same size, top left
    assert diff(a, b, far) < 3


def test_first_and_last_frames_are_marked(media: Path, tmp_path: Path) -> None:
    """Also with B-frames and an edit list (the first frames have negative decode times)."""
    style = logo_style(media, size=0.2, opacity=0.5)
    src, dst, _ = stamp(media, tmp_path, "bframes.mp4", style)
    box = inset(render_mark(style, (320, 240), FIELDS).layers[0].box)
    for at in (0.0, 1.95):
        a, b = frame(src, at), frame(dst, at)
        assert diff(a, b, box) > 0.3 * darkness(a, box), at
    assert len(packet_times(src)) == len(packet_times(dst))


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotated_phone_video_marked_in_visual_corner_and_rotation_kept(
    media: Path, tmp_path: Path, degrees: int
) -> None:
    style = logo_style(media, size=0.15, opacity=0.5)
    src, dst, result = stamp(media, tmp_path, f"rot{degrees}.mp4", style)
    shown = (360, 640) if degrees in (90, 270) else (640, 360)
    assert (result.width, result.height, result.rotation) == (*shown, degrees)
    assert matrix_rotation(src) == matrix_rotation(dst) == degrees
    a, b = frame(src, 1.0), frame(dst, 1.0)
    assert a.size == b.size == shown
    box = inset(render_mark(style, shown, FIELDS).layers[0].box)
    assert box[2] > shown[0] - 40 and box[3] > shown[1] - 40  # the visual bottom right
    assert diff(a, b, box) > 0.35 * darkness(a, box)
    for far in ((0, 0, 50, 50), (0, shown[1] - 50, 50, shown[1]), (shown[0] - 50, 0, shown[0], 50)):
        assert diff(a, b, far) < 3, far
    assert audio_md5(src) == audio_md5(dst)


def test_hevc_mov_stays_mov_and_auto_keeps_hevc(media: Path, tmp_path: Path) -> None:
    settings = VideoSettings(codec="auto", preset="ultrafast")
    src, dst, result = stamp(media, tmp_path, "phone.mov", settings=settings)
    expected = "hevc_videotoolbox" if sys.platform == "darwin" else "libx265"
    assert result.codec in (expected, "libx265")
    h = header(dst)
    assert "major_brand     : qt" in h
    assert re.search(r"Video: hevc .*\(hvc1 ", h), h
    s, d = probe_video(src), probe_video(dst)
    assert d.container == "mov" and d.fps == s.fps == 29.97
    assert (result.width, result.height, result.rotation) == (240, 320, 270)
    assert matrix_rotation(dst) == 270
    assert abs(d.duration - s.duration) <= 1 / 29.97
    assert len(packet_times(src)) == len(packet_times(dst))
    assert audio_md5(src) == audio_md5(dst)
    style = logo_style(media, size=0.15, opacity=0.5)  # the mark in the visual bottom right
    box = inset(render_mark(style, (240, 320), FIELDS).layers[0].box)
    a, b = frame(src, 1.0), frame(dst, 1.0)
    assert diff(a, b, box) > 0.35 * darkness(a, box)
    assert diff(a, b, (0, 0, 40, 40)) < 3


def test_hevc_source_to_h264(media: Path, tmp_path: Path) -> None:
    _, dst, result = stamp(media, tmp_path, "phone.mov")
    assert result.codec == "libx264"
    assert re.search(r"Video: h264 .*\(avc1 ", header(dst))


def test_x265_output_is_tagged_hvc1_for_apple(media: Path, tmp_path: Path) -> None:
    settings = VideoSettings(codec="libx265", preset="ultrafast", crf=28)
    _, dst, result = stamp(media, tmp_path, "clip.mp4", settings=settings)
    assert result.codec == "libx265"
    assert re.search(r"Video: hevc .*\(hvc1 ", header(dst))


def test_every_audio_track_copied_and_silent_video_ok(media: Path, tmp_path: Path) -> None:
    src, dst, _ = stamp(media, tmp_path, "two-tracks.mp4")
    assert len(probe_video(dst).audio) == 2
    assert audio_md5(src) == audio_md5(dst)
    _, quiet, result = stamp(media, tmp_path, "silent.mp4")
    assert probe_video(quiet).audio == ()
    assert abs(result.duration_ms - 2000) <= 34


def test_tiled_covers_the_frame(media: Path, tmp_path: Path) -> None:
    style = logo_style(media, position="tiled", size=0.08, opacity=0.5)
    src, dst, _ = stamp(media, tmp_path, "clip.mp4", style)
    a, b = frame(src, 1.0), frame(dst, 1.0)
    for i in range(3):
        for j in range(3):
            cell = (i * 640 // 3, j * 360 // 3, (i + 1) * 640 // 3, (j + 1) * 360 // 3)
            assert diff(a, b, cell) > 4, cell


def test_text_mark(media: Path, tmp_path: Path) -> None:
    pytest.importorskip("watermark.text")
    style = Style(text="@{handle}", size=0.1, opacity=0.5)
    try:
        src, dst, _ = stamp(media, tmp_path, "clip.mp4", style)
    except WatermarkError as exc:  # no font on this machine
        pytest.skip(str(exc))
    box = render_mark(style, (640, 360), FIELDS).layers[0].box
    a, b = frame(src, 1.0), frame(dst, 1.0)
    assert diff(a, b, box) > 5
    assert diff(a, b, (0, 0, 100, 100)) < 3


def test_credits_add_their_seconds_and_keep_sync(media: Path, tmp_path: Path) -> None:
    settings = VideoSettings(preset="ultrafast", credits=Credits(opening=1.0, closing=1.5, fade=0.3))
    style = logo_style(media, size=0.1, opacity=0.5)
    src, dst, result = stamp(media, tmp_path, "clip.mp4", style, settings)
    assert abs(result.duration_ms - 5500) <= 34
    d = probe_video(dst)
    assert (d.width, d.height) == (640, 360) and len(d.audio) == 1
    ts = packet_times(dst)
    assert len(ts) == 30 + 90 + 45
    steps = [b - a for a, b in itertools.pairwise(ts)]
    assert max(steps) < 1.5 / 30 and min(steps) > 0.5 / 30  # no gap, no duplicate
    # the card: dark, with the mark opaque in the middle; black at the very start (fade in)
    card = frame(dst, 0.5)
    assert sum(ImageStat.Stat(card.crop((0, 0, 100, 100))).mean) / 3 < 30
    assert max(ImageStat.Stat(card.crop((280, 140, 360, 220))).extrema[0]) > 200
    assert sum(ImageStat.Stat(frame(dst, 0.0)).mean) / 3 < 10
    assert sum(ImageStat.Stat(frame(dst, 4.9)).mean) / 3 < 30
    # the video itself starts right after the opening card
    assert diff(frame(src, 1.0), frame(dst, 2.0), (0, 0, 200, 150)) < 4
    # silence under the cards, the tone after: the sound stayed in sync with the picture
    assert volume(dst, 0.05, 0.8) < -80
    assert volume(dst, 1.1, 2.5) > -30
    assert volume(dst, 4.2, 5.3) < -80


def test_credits_on_a_rotated_video(media: Path, tmp_path: Path) -> None:
    settings = VideoSettings(preset="ultrafast", credits=Credits(opening=0.5, closing=0.0))
    _, dst, result = stamp(media, tmp_path, "rot90.mp4", settings=settings)
    assert (result.width, result.height, result.rotation) == (360, 640, 90)
    assert matrix_rotation(dst) == 90
    assert abs(result.duration_ms - 3500) <= 34
    card = frame(dst, 0.25)
    assert card.size == (360, 640)
    # the card is drawn upright for the viewer: the mark is a centred band wider than tall
    mark_rows = [y for y in range(640) if card.getpixel((180, y))[0] > 150]  # type: ignore[index]
    assert mark_rows and max(mark_rows) - min(mark_rows) < 100


def volume(path: Path, start: float, end: float) -> float:
    """Peak level (dB) of the first audio track between ``start`` and ``end`` seconds."""
    proc = subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostdin", "-ss", str(start), "-t", str(end - start), "-i", str(path),
         "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True,
    )  # fmt: skip
    m = re.search(r"max_volume: (-?[\d.]+|-inf) dB", proc.stderr.decode())
    assert m is not None, proc.stderr.decode()[-500:]
    return float(m.group(1))


def test_progress_is_reported_increasing(
    media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[float, float]] = []
    settings = VideoSettings(preset="medium")
    encodes: list[float] = []
    run = video_module._run

    def timed(*args: Any, **kwargs: Any) -> None:
        started = time.monotonic()
        run(*args, **kwargs)
        encodes.append(time.monotonic() - started)

    monkeypatch.setattr(video_module, "_run", timed)
    stamp(media, tmp_path, "clip.mp4", settings=settings, progress=lambda d, t: calls.append((d, t)))
    # ffmpeg reports every 0.25 s: an encode that takes over a second reports on the way, while
    # a machine fast enough to finish sooner may see only the final report.
    assert encodes
    if max(encodes) >= 1.0:
        assert len(calls) >= 2, (encodes, calls)
    done = [d for d, _ in calls]
    assert all(b > a for a, b in itertools.pairwise(done))
    assert all(t == 3.0 for _, t in calls)
    assert calls[-1] == (3.0, 3.0)


# --------------------------------------------------------------------------------------------
# Bad input, bad output, failures: one line, nothing left behind


def _bad_files(media: Path, folder: Path) -> Iterator[tuple[Path, str]]:
    (folder / "empty.mp4").write_bytes(b"")
    yield folder / "empty.mp4", "empty"
    data = (media / "clip.mp4").read_bytes()
    (folder / "cut.mp4").write_bytes(data[: len(data) * 3 // 10])
    yield folder / "cut.mp4", "truncated"
    fast = (media / "bframes.mp4").read_bytes()  # moov first: the index survives the cut
    (folder / "cut-faststart.mp4").write_bytes(fast[: len(fast) * 3 // 10])
    yield folder / "cut-faststart.mp4", "truncated"
    (folder / "noise.mp4").write_bytes(random.Random(7).randbytes(20_000))
    yield folder / "noise.mp4", "not a video"
    # seeded noise that ffmpeg guesses, weakly, to be LRC lyrics: still not a video
    (folder / "lyrics-noise.mp4").write_bytes(random.Random(131).randbytes(20_000))
    yield folder / "lyrics-noise.mp4", "not a video"
    ff("-f", "lavfi", "-i", "sine=duration=1", "-f", "mp3", str(folder / "song.mp4"))
    yield folder / "song.mp4", "not a video"
    ff("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(folder / "voice.mp4"))
    yield folder / "voice.mp4", "no video stream"
    ff("-i", str(media / "clip.mp4"), "-t", "1", "-c", "copy", "-f", "matroska", str(folder / "clip.mkv"))
    yield folder / "clip.mkv", "unsupported format"
    (folder / "photo.mov").write_bytes((media / "white.png").read_bytes())
    yield folder / "photo.mov", "unsupported format"
    yield folder / "missing.mp4", "no such file"


def test_bad_input_is_one_clear_line_and_leaves_nothing(media: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    for src, reason in _bad_files(media, bad):
        dst = out / f"stamped-{src.name}"
        with pytest.raises(BadInput) as caught:
            stamp_video(src, dst, logo_style(media), FIELDS, FAST)
        message = str(caught.value)
        assert reason in message, message
        assert str(src) in message
        assert "\n" not in message and "Traceback" not in message and "ffmpeg version" not in message
        assert " @ 0x" not in message, message
        assert list(out.iterdir()) == [], src.name
        assert leftovers(bad) == []


def test_unwritable_output_folder(media: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(BadOutput, match="cannot write"):
        stamp_video(media / "clip.mp4", blocker / "out.mp4", logo_style(media), FIELDS, FAST)
    if os.name == "posix" and os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        try:
            with pytest.raises(BadOutput):
                stamp_video(media / "clip.mp4", locked / "out.mp4", logo_style(media), FIELDS, FAST)
            assert list(locked.iterdir()) == []
        finally:
            locked.chmod(0o755)


def test_never_overwrites_the_source(media: Path, tmp_path: Path) -> None:
    src = tmp_path / "clip.mp4"
    src.write_bytes((media / "clip.mp4").read_bytes())
    before = sha(src)
    with pytest.raises(BadOutput, match="source"):
        stamp_video(src, src, logo_style(media), FIELDS, FAST)
    with pytest.raises(BadOutput, match="source"):
        stamp_video(src, tmp_path / "." / "clip.mp4", logo_style(media), FIELDS, FAST)
    assert sha(src) == before
    assert leftovers(tmp_path) == []


def test_ffmpeg_failure_gives_its_last_meaningful_line(media: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.mp4"
    with pytest.raises(WatermarkError) as caught:
        stamp_video(media / "clip.mp4", dst, logo_style(media), FIELDS, VideoSettings(preset="nonsense"))
    message = str(caught.value)
    assert "libx264" in message and "nonsense" in message, message
    assert "\n" not in message and " @ 0x" not in message
    assert not dst.exists() and leftovers(tmp_path) == []


def test_unknown_and_unavailable_encoders(media: Path, tmp_path: Path) -> None:
    with pytest.raises(WatermarkError, match="not one of"):
        stamp_video(
            media / "clip.mp4", tmp_path / "a.mp4", logo_style(media), FIELDS, VideoSettings(codec="divx")
        )
    if sys.platform != "darwin":
        with pytest.raises(WatermarkError, match="no h264_videotoolbox"):
            stamp_video(
                media / "clip.mp4", tmp_path / "b.mp4", logo_style(media), FIELDS,
                VideoSettings(codec="h264_videotoolbox"),
            )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_interrupt_kills_ffmpeg_and_cleans_up(media: Path, tmp_path: Path) -> None:
    def interrupt(done: float, total: float) -> None:
        raise KeyboardInterrupt

    dst = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        stamp_video(media / "clip.mp4", dst, logo_style(media), FIELDS, VideoSettings(preset="medium"),
                    progress=interrupt)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_heavy_modules_are_not_imported_up_front() -> None:
    code = "import sys, watermark.video; print(sorted(m for m in ('PIL', 'moviepy', 'imageio_ffmpeg', 'numpy') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="finds ffmpeg through /proc")
def test_kill_9_mid_encode_leaves_nothing_under_the_final_name(media: Path, tmp_path: Path) -> None:
    src = make_clip(tmp_path / "long.mp4", seconds=20, size="1280x720")
    dst = tmp_path / "out" / "long.mp4"
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from watermark.style import Style, VideoSettings
        from watermark.video import stamp_video
        stamp_video(Path({str(src)!r}), Path({str(dst)!r}),
                    Style(text="", logo=Path({str(media / "white.png")!r})), {{}}, VideoSettings(preset="medium"))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            temps = list(dst.parent.glob(f"*{TMP_SUFFIX}")) if dst.parent.exists() else []
            if temps and temps[0].stat().st_size > 100_000:
                break
            assert proc.poll() is None, "the stamp ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("no temporary file grew within 60 s")
        children = [
            int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        ]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # ffmpeg, orphaned, may run on and even finish its temporary file: still nothing is
        # renamed to the final name, since that is the dead parent's job
        for pid in children:
            for _ in range(600):
                if not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid):
                    break
                time.sleep(0.05)
            else:
                if "ffmpeg" in _cmdline(pid):
                    os.kill(pid, signal.SIGKILL)
        assert not dst.exists()
        assert all(p.name.endswith(TMP_SUFFIX) for p in dst.parent.iterdir())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in children:  # still our ffmpeg (not a reused pid)? then end it
            if "ffmpeg" in _cmdline(pid):
                os.kill(pid, signal.SIGKILL)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""
