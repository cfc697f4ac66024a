"""A new video decoded once, for its record and its stamped copy: the stamper's pass hands back
the 2 fps grey frame sequence and the frames at evenly spaced points from the same decode (a
``split`` of its filter graph), and the video's facts made with them are those ``examine`` gives,
on every kind of clip a phone, a camera or an editor writes.

The pass's frames stand for the separate decodes only where that is proved
(``inventory.media.keyframes``): each clip kind below says which points are still sought, and
the frames the pass took at the others are checked byte for byte against the seeks'. An open-GOP
stream shows why a point may be sought (a seek there lands on another frame); a mirrored display
matrix and an orientation message inside the bitstream show why the turning must be proved
(autorotation turns those frames otherwise than the pass does)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PIL import Image

from inventory.match.params import FRAME_SIDE, SEQUENCE_RATE
from inventory.media import frames as frames_module
from inventory.media.ffmpeg import ffmpeg_exe
from inventory.media.frames import confirmed, frame_sequence, seek_frames
from inventory.media.keyframes import seeks_match_pass
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


def clip(
    path: Path,
    *video: str,
    seconds: float = 3.0,
    size: str = "320x240",
    rate: str = "30",
    sound: float | None = None,
) -> Path:
    """A moving test pattern with a tone under it (``sound`` seconds of it, default as long as
    the picture; 0: none)."""
    sound = seconds if sound is None else sound
    tone = ["-f", "lavfi", "-i", f"sine=duration={sound}"] if sound else []
    ff(
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}", *tone,
        *video, *(["-c:a", "aac"] if sound else []), str(path),
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
    # an orientation inside the H.264 bitstream (an SEI message), which autorotation also applies
    ff("-i", str(base), "-c", "copy", "-bsf:v", "h264_metadata=display_orientation=insert:rotate=90",
       str(folder / "sei-turned.mp4"))  # fmt: skip
    # every frame its own: ProRes
    clip(folder / "prores.mov", "-c:v", "prores_ks", "-profile:v", "0")
    # x264's own GOPs (a keyframe every 250 frames at most, B-frames) over more than one GOP
    clip(folder / "longgop.mp4", "-c:v", "libx264", "-preset", "veryfast", "-g", "250", seconds=10.0)
    # x264 --open-gop: the keyframes after the first are I pictures, not IDR pictures
    clip(
        folder / "x264opengop.mp4", "-c:v", "libx264", "-preset", "fast",
        "-x264-params", "keyint=40:open-gop=1", seconds=6.0, size="640x360",
    )  # fmt: skip
    # HEVC closed GOPs whose IDRs have leading pictures (RADL), decoded after them, shown before
    clip(
        folder / "radl.mp4", "-c:v", "libx265", "-preset", "fast", "-tag:v", "hvc1", "-pix_fmt", "yuv420p",
        "-x265-params", "log-level=error:keyint=30:min-keyint=30:no-open-gop=1:radl=2:scenecut=0:bframes=3",
    )  # fmt: skip
    # with B-frames, a keyframe shown just after the first point (0.1875 s) is decoded before it
    clip(folder / "keyafterpoint.mp4", "-c:v", "libx264", "-preset", "fast", "-bf", "3",
         "-force_key_frames", "0.2333", sound=0)  # fmt: skip
    # 1.6 s at 30 fps: every point (0.1 s, 0.3 s...) falls on a frame's time
    clip(folder / "onpoints.mp4", "-c:v", "libx264", "-preset", "ultrafast", seconds=1.6, sound=0)
    # the sound outlasts the picture: the last points lie past the last frame
    clip(folder / "shortpicture.mp4", "-c:v", "libx264", "-preset", "ultrafast", seconds=2.0, sound=3.0)
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


ALL = None  # every point sought, as a scan seeks them
# Per clip kind: the points (their numbers) still sought after the stamping pass; the frames the
# pass took at the others stand for the seeks'.
SOUGHT: dict[str, list[int] | None] = {
    "clip.mp4": [],
    "rot90.mp4": [],
    "rot180.mp4": [],
    "rot270.mp4": [],
    "phone.mov": [],
    "bframes.mp4": [],
    "hdr10bit.mp4": [],
    "prores.mov": [],
    "longgop.mp4": [],
    "radl.mp4": [],
    "shortpicture.mp4": [],
    "keyafterpoint.mp4": [0],
    "onpoints.mp4": ALL,
    "opengop.mp4": ALL,
    "x264opengop.mp4": ALL,
    "mirrored.mp4": ALL,
    "sei-turned.mp4": ALL,
}
# ... and those whose 2 fps sequence is decoded apart: the pass turned its frames otherwise
# than autorotation (not proved, and the seeks do not confirm it)
SEQUENCE_APART = {"mirrored.mp4", "sei-turned.mp4"}


class Recorded:
    """A clip stamped and recorded as the stage does it, with what was decoded apart."""

    def __init__(self, facts: FileFacts, result: VideoResult, sought: list[float], apart: bool) -> None:
        self.facts, self.result, self.sought, self.apart = facts, result, sought, apart


@pytest.fixture(scope="module")
def recorded(clips: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Recorded]:
    """Each clip stamped and recorded once for the tests of this module (on first use)."""
    done: dict[str, Recorded] = {}

    def get(name: str) -> Recorded:
        if name not in done:
            sought: list[float] = []
            apart: list[bool] = []
            real_each, real_sequence = video_facts_module.seek_each, video_facts_module.frame_sequence

            def seek_each(path: str, at: Sequence[float], side: int) -> tuple[list[bytes | None], str | None]:
                sought.extend(at)
                return real_each(path, at, side)

            def sequence(path: str, rate: float, side: int) -> tuple[list[bytes], str | None]:
                apart.append(True)
                return real_sequence(path, rate, side)

            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(video_facts_module, "seek_each", seek_each)
                mp.setattr(frames_module, "seek_each", seek_each)  # (seek_frames' own seeks)
                mp.setattr(video_facts_module, "frame_sequence", sequence)
                facts, result = stamp_and_record(clips, tmp_path_factory.mktemp("stamped"), name)
            done[name] = Recorded(facts, result, sought, bool(apart))
        return done[name]

    return get


@pytest.mark.parametrize("name", list(SOUGHT))
def test_the_stamping_pass_gives_the_facts_examine_gives(
    clips: Path, recorded: Callable[[str], Recorded], name: str
) -> None:
    want, _ = examine(str(clips / name))
    assert want.media.decode_error is None and want.media.frame_sequence and want.media.frame_hashes
    got = recorded(name)
    assert facts_of(got.facts) == facts_of(want)
    # which points were sought, and whether the sequence was decoded again
    points = list(sampling_for(probe(clips / name)).points)
    expected = SOUGHT[name]
    assert got.sought == (points if expected is ALL else [points[i] for i in expected])
    assert got.apart == (name in SEQUENCE_APART)
    frames = got.result.frames
    assert frames is not None and frames.clean
    if name not in SEQUENCE_APART:  # byte for byte the frames of a separate pass, not only their hashes
        raw, error = frame_sequence(str(clips / name), SEQUENCE_RATE, FRAME_SIDE)
        assert error is None and list(frames.sequence) == raw


@pytest.mark.parametrize("name", list(SOUGHT))
def test_a_point_is_taken_from_the_pass_only_where_it_is_the_seeks_frame(
    clips: Path, recorded: Callable[[str], Recorded], name: str
) -> None:
    """The proof, checked against the seeks themselves: at every point it proves, the pass's grey
    frame is byte for byte the seek's (a frame hash equal by chance would not be enough)."""
    src = str(clips / name)
    found = probe(src)
    sampling = sampling_for(found)
    verdict = seeks_match_pass(src, found, sampling.points)
    frames = recorded(name).result.frames
    assert frames is not None
    seeks, error = seek_frames(src, sampling.points, FRAME_SIDE)
    assert error is None
    for i, proved in enumerate(verdict.points):
        if proved:
            assert frames.at_points[i] == seeks[i], f"point {i} of {name}: {verdict.reason}"
    expected = SOUGHT[name]
    sought = list(range(len(seeks))) if expected is ALL else expected
    assert [i for i, ok in enumerate(verdict.points) if not ok or not verdict.turned_alike] == sought
    assert verdict.exact == (not sought) and (verdict.reason == "") == verdict.exact


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("opengop.mp4", "a sync sample is not an IDR picture (an open GOP or a recovery point)"),
        ("x264opengop.mp4", "a sync sample is not an IDR picture (an open GOP or a recovery point)"),
        ("keyafterpoint.mp4", "a sync sample shown after 0.188 s may be decoded before it"),
        ("onpoints.mp4", "a frame lies on the point at 0.100 s"),
        ("mirrored.mp4", "the display matrix is not a plain rotation"),
        ("sei-turned.mp4", "a display orientation SEI message turns the pictures"),
    ],
)
def test_why_a_point_is_sought(clips: Path, name: str, reason: str) -> None:
    src = str(clips / name)
    found = probe(src)
    assert seeks_match_pass(src, found, sampling_for(found).points).reason == reason


def test_a_picture_shorter_than_its_sound(recorded: Callable[[str], Recorded]) -> None:
    """The last points lie past the last frame: no frame there, from the pass as from the
    seeks, and the pass still ends well (each point's output gets its padding frame)."""
    got = recorded("shortpicture.mp4")
    frames = got.result.frames
    assert frames is not None and frames.clean
    assert all(f is not None for f in frames.at_points[:5]) and frames.at_points[5:] == (None, None, None)
    assert got.facts.media.frame_hashes is not None and len(got.facts.media.frame_hashes) == 5


def test_the_pinned_clip_keeps_its_pinned_hashes(clips: Path, tmp_path: Path) -> None:
    from tests.test_hash_is_constant import PINNED

    got, _ = stamp_and_record(clips, tmp_path, "clip.mp4")
    pinned = PINNED["clip.mp4"]
    assert got.sha256 == pinned["sha256"]
    assert (got.media.phash, got.media.frame_hashes) == (pinned["phash"], pinned["frame_hashes"])
    assert got.media.frame_sequence == pinned["frame_sequence"]


@pytest.mark.parametrize("name", ["opengop.mp4", "x264opengop.mp4"])
def test_an_open_gop_seek_can_land_elsewhere_so_the_seeks_stay(
    clips: Path, recorded: Callable[[str], Recorded], name: str
) -> None:
    """x265's default open GOPs and x264's ``--open-gop``: the first frame at or after a point,
    in a pass from the start, is not always the frame a seek shows. The frame hashes are the
    seeks'; the pass's sequence is still used (its turning is proved, and the points where both
    agree confirm it)."""
    src = str(clips / name)
    found = probe(src)
    sampling = sampling_for(found)
    result = recorded(name).result
    assert result.frames is not None
    seeks, _ = seek_frames(src, sampling.points, FRAME_SIDE)
    agree = [a == b for a, b in zip(result.frames.at_points, seeks, strict=True)]
    assert not all(agree), "this clip was made to show a point where a pass and a seek differ"
    assert any(agree) and confirmed(result.frames, seeks)


@pytest.mark.parametrize("name", sorted(SEQUENCE_APART))
def test_a_turn_the_pass_does_not_make_is_not_taken_for_one(
    clips: Path, recorded: Callable[[str], Recorded], name: str
) -> None:
    """ffmpeg prints a mirroring display matrix as a rotation, and does not print an orientation
    carried inside the bitstream at all: autorotation turns such frames otherwise than the pass
    does. Nothing is proved, the seeks say so, and the sequence is decoded separately. The facts
    stay right (test_the_stamping_pass_gives_the_facts_examine_gives)."""
    result = recorded(name).result
    assert result.frames is not None
    seeks, _ = seek_frames(str(clips / name), result.frames.sampling.points, FRAME_SIDE)
    assert all(a != b for a, b in zip(result.frames.at_points, seeks, strict=True))
    assert not confirmed(result.frames, seeks)


def test_credits_are_not_in_the_frames(clips: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = VideoSettings(preset="ultrafast", credits=Credits(opening=1.0, closing=1.0, fade=0.3))
    want, _ = examine(str(clips / "rot90.mp4"))

    def no_seek(*_args: object) -> None:
        raise AssertionError("a point was sought")

    monkeypatch.setattr(video_facts_module, "seek_frames", no_seek)
    monkeypatch.setattr(frames_module, "run", no_seek)
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
