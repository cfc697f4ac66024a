"""A new video decoded once, for its record and its stamped copy: the stamper's pass hands back
the 2 fps grey frame sequence from the same decode (a ``split`` of its filter graph), and the
video's facts made with it are those ``examine`` gives, on every kind of clip a phone or an
editor writes; the frames at evenly spaced points stay separate seeks (an open-GOP stream shows
why), and they confirm the pass before its sequence is used."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from inventory.match.params import FRAME_SIDE, SEQUENCE_RATE
from inventory.media import frames as frames_module
from inventory.media.ffmpeg import ffmpeg_exe
from inventory.media.frames import confirmed, frame_sequence, seek_frames
from inventory.media.probe import probe
from inventory.progress import Advanced, Cancelled, CancelToken, Event, Finished, Progress, Started
from inventory.record import video as video_facts_module
from inventory.record.examine import examine, read, video_facts
from inventory.record.facts import FileFacts
from inventory.record.video import sampling_for
from watermark.style import Credits, Style, VideoSettings
from watermark.video import STAGE, VideoResult, stamp_video
from watermark.video_graph import GREY_SOURCE
from watermark.video_info import probe_video

FIXTURES = Path(__file__).parent / "fixtures"
FAST = VideoSettings(preset="ultrafast")
X265 = ("-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=error")
FIELDS = {"name": "Lily Chen", "handle": "lily.shoots"}


def ff(*args: str) -> None:
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args], capture_output=True
    )
    assert proc.returncode == 0, proc.stderr.decode()


def clip(path: Path, *video: str, seconds: float = 3.0, size: str = "320x240", rate: str = "30") -> Path:
    ff(
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=duration={seconds}",
        *video, "-c:a", "aac", str(path),
    )  # fmt: skip
    return path


def turned(source: Path, path: Path, *how: str) -> Path:
    """A stream copy of ``source`` whose display matrix says ``how`` (rotate, mirror)."""
    ff(*how, "-i", str(source), "-map", "0", "-c", "copy", str(path))
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("decode-once-clips")
    Image.new("RGBA", (40, 40), (255, 255, 255, 255)).save(folder / "white.png")
    (folder / "clip.mp4").write_bytes((FIXTURES / "clip.mp4").read_bytes())
    base = clip(folder / "base.mp4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
    for degrees in (90, 180, 270):
        turned(base, folder / f"rot{degrees}.mp4", "-display_rotation", str(degrees))
    # a portrait iPhone clip: HEVC in MOV at 29.97 fps, stored landscape, display matrix -90
    landscape = clip(folder / "landscape.mov", *X265, "-pix_fmt", "yuv420p", rate="30000/1001")
    turned(landscape, folder / "phone.mov", "-display_rotation", "270")
    clip(folder / "bframes.mp4", "-c:v", "libx264", "-preset", "fast", "-bf", "3", "-movflags", "+faststart")
    clip(folder / "hdr10bit.mp4", *X265, "-pix_fmt", "yuv420p10le")
    # x265's default open GOPs: after a seek, the leading pictures before a keyframe are not shown
    clip(
        folder / "opengop.mp4", "-c:v", "libx265", "-preset", "medium", "-tag:v", "hvc1",
        "-x265-params", "log-level=error:keyint=40:open-gop=1:bframes=4", "-pix_fmt", "yuv420p",
        seconds=6.0, size="640x360",
    )  # fmt: skip
    # a display matrix with a mirror in it: printed as "rotation of -180", undone by a flip alone
    turned(base, folder / "mirrored.mp4", "-display_hflip")
    return folder


def facts_of(facts: FileFacts) -> dict[str, object]:
    return {**vars(facts), "media": vars(facts.media)}


def stamp_and_record(
    clips: Path, tmp_path: Path, name: str, settings: VideoSettings = FAST
) -> tuple[FileFacts, VideoResult]:
    """What a stage does with a new video: read it, probe it, stamp it taking the frames, record it."""
    src = clips / name
    r = read(str(src))
    found = probe(src)
    style = Style(text="", logo=clips / "white.png", size=0.2, opacity=0.5)
    result = stamp_video(
        src, tmp_path / name, style, FIELDS, settings, probe=found, sampling=sampling_for(found)
    )
    return video_facts(r, found, result.frames), result


PASS_IS_USED = [
    "clip.mp4",
    "rot90.mp4",
    "rot180.mp4",
    "rot270.mp4",
    "phone.mov",
    "bframes.mp4",
    "hdr10bit.mp4",
    "opengop.mp4",
]


@pytest.mark.parametrize("name", PASS_IS_USED)
def test_the_stamping_pass_gives_the_frame_sequence_examine_gives(
    clips: Path, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    want, _ = examine(str(clips / name))
    assert want.media.decode_error is None and want.media.frame_sequence

    def no_second_decode(*_args: object) -> None:
        raise AssertionError("the sequence was decoded again")

    monkeypatch.setattr(video_facts_module, "frame_sequence", no_second_decode)
    got, result = stamp_and_record(clips, tmp_path, name)
    assert facts_of(got) == facts_of(want)
    assert result.frames is not None
    # byte for byte the frames of a separate pass, not only their hashes
    raw, error = frame_sequence(str(clips / name), SEQUENCE_RATE, FRAME_SIDE)
    assert error is None and list(result.frames.sequence) == raw


def test_the_pinned_clip_keeps_its_pinned_hashes(clips: Path, tmp_path: Path) -> None:
    from tests.test_hash_is_constant import PINNED

    got, _ = stamp_and_record(clips, tmp_path, "clip.mp4")
    pinned = PINNED["clip.mp4"]
    assert got.sha256 == pinned["sha256"]
    assert (got.media.phash, got.media.frame_hashes) == (pinned["phash"], pinned["frame_hashes"])
    assert got.media.frame_sequence == pinned["frame_sequence"]


def test_an_open_gop_seek_can_land_elsewhere_so_the_seeks_stay(clips: Path, tmp_path: Path) -> None:
    """x265 writes open GOPs: the first frame at or after a point, in a pass from the start, is
    not always the frame a seek shows. The frame hashes are the seeks'; the pass's sequence is
    still confirmed by the points where both agree."""
    src = str(clips / "opengop.mp4")
    found = probe(src)
    sampling = sampling_for(found)
    _, result = stamp_and_record(clips, tmp_path, "opengop.mp4")
    assert result.frames is not None
    seeks, _ = seek_frames(src, sampling.points, FRAME_SIDE)
    agree = [a == b for a, b in zip(result.frames.at_points, seeks, strict=True)]
    assert not all(agree), "this clip was made to show a point where a pass and a seek differ"
    assert any(agree) and confirmed(result.frames, seeks)


def test_a_mirrored_matrix_is_not_taken_for_a_rotation(clips: Path, tmp_path: Path) -> None:
    """ffmpeg prints a mirroring display matrix as a rotation: the pass turns its frames the
    wrong way, the seeks say so, and the sequence is decoded separately. The facts stay right."""
    want, _ = examine(str(clips / "mirrored.mp4"))
    got, result = stamp_and_record(clips, tmp_path, "mirrored.mp4")
    assert result.frames is not None
    seeks, _ = seek_frames(str(clips / "mirrored.mp4"), result.frames.sampling.points, FRAME_SIDE)
    assert not confirmed(result.frames, seeks)
    assert facts_of(got) == facts_of(want)


def test_credits_are_not_in_the_sequence(clips: Path, tmp_path: Path) -> None:
    settings = VideoSettings(preset="ultrafast", credits=Credits(opening=1.0, closing=1.0, fade=0.3))
    want, _ = examine(str(clips / "rot90.mp4"))
    got, result = stamp_and_record(clips, tmp_path, "rot90.mp4", settings)
    assert abs(result.duration_ms - 5000) <= 34
    assert facts_of(got) == facts_of(want)


def test_flat_or_symmetric_frames_confirm_nothing() -> None:
    side = FRAME_SIDE
    flat = bytes([16]) * (side * side)
    mirror_symmetric = bytes(min(x, side - 1 - x) * 4 for _y in range(side) for x in range(side))
    for frame in (flat, mirror_symmetric):
        taken = frames_module.PassFrames(frames_module.Sampling(2.0, side, (0.5,)), (), (frame,))
        assert not confirmed(taken, [frame])
    picture = bytes((x * 3 + y * y) % 251 for y in range(side) for x in range(side))
    taken = frames_module.PassFrames(frames_module.Sampling(2.0, side, (0.5,)), (), (picture,))
    assert confirmed(taken, [picture]) and not confirmed(taken, [None]) and not confirmed(taken, [flat])


def test_no_frames_unless_asked(clips: Path, tmp_path: Path) -> None:
    style = Style(text="", logo=clips / "white.png")
    result = stamp_video(clips / "clip.mp4", tmp_path / "out.mp4", style, FIELDS, FAST)
    assert result.frames is None
    assert result == VideoResult(tmp_path / "out.mp4", 320, 240, result.duration_ms, "libx264", 0)


def test_the_grey_branch_is_only_for_the_first_video_stream(clips: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    from watermark.video import _grey_branches

    info = probe_video(clips / "clip.mp4")
    sampling = sampling_for(probe(clips / "clip.mp4"))
    assert _grey_branches(info, None, tmp_path) == (None, None)
    branches, outputs = _grey_branches(info, sampling, tmp_path)
    assert branches is not None and branches.startswith(f"{GREY_SOURCE}split=9") and outputs is not None
    assert _grey_branches(replace(info, first_video=False), sampling, tmp_path) == (None, None)


# --------------------------------------------------------------------------------------------
# Progress through the one protocol


def test_progress_events_and_the_older_callable(clips: Path, tmp_path: Path) -> None:
    events: list[Event] = []
    style = Style(text="", logo=clips / "white.png")
    src = clips / "bframes.mp4"
    stamp_video(src, tmp_path / "a.mp4", style, FIELDS, FAST, progress=Progress(events.append))
    started = [e for e in events if isinstance(e, Started)]
    advanced = [e for e in events if isinstance(e, Advanced)]
    assert started == [Started(STAGE, 1, 3.0, "seconds", path=str(src))]
    assert events[0] == started[0] and events[-1] == Finished(STAGE)
    assert all(e.amount > 0 and e.path == str(src) and e.stage == STAGE for e in advanced)
    assert abs(sum(e.amount for e in advanced) - 3.0) < 1e-6
    calls: list[tuple[float, float]] = []
    stamp_video(src, tmp_path / "b.mp4", style, FIELDS, FAST, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (3.0, 3.0) and all(t == 3.0 for _, t in calls)


def test_a_cancel_stops_the_encode_and_leaves_nothing(clips: Path, tmp_path: Path) -> None:
    src = clip(tmp_path / "long.mp4", "-c:v", "libx264", "-preset", "ultrafast", seconds=20.0, size="640x360")
    out = tmp_path / "out"
    token = CancelToken()
    seen: list[Event] = []

    def listener(event: Event) -> None:
        seen.append(event)
        if isinstance(event, Advanced):
            token.cancel()

    style = Style(text="", logo=clips / "white.png")
    with pytest.raises(Cancelled):
        stamp_video(
            src, out / "long.mp4", style, FIELDS, VideoSettings(preset="medium"),
            progress=Progress(listener, cancel=token),
        )  # fmt: skip
    assert isinstance(seen[-1], Finished), "a cancelled stage still says it ended"
    assert not out.exists() or list(out.iterdir()) == []
