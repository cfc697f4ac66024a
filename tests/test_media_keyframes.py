"""Reading a video's stream without decoding it (``inventory.media.keyframes``) and its display
matrix (``inventory.media.matrix``): what each check looks at, on ffmpeg's real output and on
small made-up streams; the clips where a check decides are in tests/test_decode_once_videos.py."""

from __future__ import annotations

import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from inventory.media.ffmpeg import ffmpeg_exe
from inventory.media.frames import _AUTOROTATE, grey_chain
from inventory.media.keyframes import (
    Layout,
    Packet,
    _decodes_alike,
    _timing,
    _TraceReader,
    parse_framecrc,
    read_layout,
    seeks_match_pass,
)
from inventory.media.matrix import pure_rotation, track_matrix
from inventory.media.probe import probe

ONE = 0x10000
W = 0x40000000


def ff(*args: str) -> None:
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args], capture_output=True
    )
    assert proc.returncode == 0, proc.stderr.decode()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keyframes") / "base.mp4"
    ff(
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(path),
    )  # fmt: skip
    return path


# ---------------------------------------------------------------------------------------------
# The display matrix


def first_frame(path: Path, turn: str | None = None) -> bytes:
    """The first frame as autorotation shows it, or (``turn``) as stored and turned so."""
    head = ["-noautorotate"] if turn is not None else []
    chain = f"{turn},{grey_chain(32)}" if turn else grey_chain(32)
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", *head, "-i", str(path), "-frames:v", "1",
           "-vf", chain, "-f", "rawvideo", "-"]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def set_movie_matrix(source: Path, path: Path, matrix: tuple[int, ...]) -> Path:
    """A copy of ``source`` whose ``mvhd`` box (the movie's matrix) says ``matrix``."""
    data = bytearray(source.read_bytes())
    at = data.find(b"mvhd") + 4
    at += 4 + (32 if data[at] == 0 else 44)
    data[at : at + 36] = struct.pack(">9i", *matrix)
    path.write_bytes(data)
    return path


def test_the_matrix_is_read_as_autorotation_applies_it(base: Path, tmp_path: Path) -> None:
    """Every rotation, mirrored or not (and one turned by the movie's matrix): the matrix read
    is a plain rotation by the probed angle exactly when turning the stored frame by that angle
    gives what autorotation shows."""
    made: list[Path] = []
    for degrees in (0, 90, 180, 270):
        for flips in ((), ("-display_hflip",), ("-display_vflip",), ("-display_hflip", "-display_vflip")):
            path = tmp_path / f"r{degrees}{''.join(flips)}.mp4"
            ff("-display_rotation", str(degrees), *flips, "-i", str(base), "-c", "copy", str(path))
            made.append(path)
    made.append(set_movie_matrix(base, tmp_path / "movie90.mp4", (0, -ONE, 0, ONE, 0, 0, 0, 0, W)))
    made.append(set_movie_matrix(made[4], tmp_path / "movie90-track90.mp4", (0, -ONE, 0, ONE, 0, 0, 0, 0, W)))
    plain = 0
    for path in made:
        found = probe(path)
        stream = found.first_video
        assert stream is not None
        matrix = track_matrix(path, stream.index)
        assert matrix is not None, path.name
        angle = pure_rotation(matrix)
        turned_alike = first_frame(path) == first_frame(path, _AUTOROTATE.get(stream.rotation, "null"))
        assert (angle == stream.rotation) == turned_alike, path.name
        plain += angle is not None
    assert plain == 10  # 4 rotations, each also as both flips; and the two turned by the movie
    assert pure_rotation(track_matrix(made[-1], 0) or ()) == 180 == probe(made[-1]).videos[0].rotation


def test_a_matrix_that_is_not_a_plain_rotation() -> None:
    assert pure_rotation((ONE, 0, 0, 0, ONE, 0, 0, 0, W)) == 0
    assert pure_rotation((0, ONE, 0, -ONE, 0, 0, 5, 7, W)) == 270  # a translation does not matter
    assert pure_rotation((2 * ONE, 0, 0, 0, 2 * ONE, 0, 0, 0, W)) is None  # scaled
    assert pure_rotation((-ONE, 0, 0, 0, ONE, 0, 0, 0, W)) is None  # mirrored
    assert pure_rotation((ONE, 0, 1, 0, ONE, 0, 0, 0, W)) is None  # perspective
    assert pure_rotation((46341, -46341, 0, 46341, 46341, 0, 0, 0, W)) is None  # 45 degrees


def test_no_matrix_where_there_is_no_video_track(base: Path, tmp_path: Path) -> None:
    assert track_matrix(base, 1) is None  # the sound's track
    assert track_matrix(base, 2) is None  # no such track
    assert track_matrix(tmp_path / "missing.mp4", 0) is None
    (tmp_path / "text.mp4").write_bytes(b"not a video at all")
    assert track_matrix(tmp_path / "text.mp4", 0) is None
    data = base.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: data.find(b"moov") + 40])  # the index cut short
    assert track_matrix(tmp_path / "cut.mp4", 0) is None


# ---------------------------------------------------------------------------------------------
# ffmpeg's output, parsed


def test_the_packet_list() -> None:
    text = "\n".join(
        [
            "#extradata 0:       48, 0x70ed110e",
            "#tb 0: 1/15360",
            "#media_type 0: video",
            "0,      -1024,          0,      512,   184670, 0x4f9035d4",
            "0,       -512,       2048,      512,   139033, 0x8ae848da, F=0x0",
            "0,          0,       1024,      512,     1424, 0xf175a3db, F=0x14",
            "0, -9223372036854775808, -9223372036854775808, 512, 99, 0x00000001, F=0x3",
        ]
    )
    parsed = parse_framecrc(text)
    assert parsed is not None
    tb, packets = parsed
    assert tb == Fraction(1, 15360)
    assert [(p.dts, p.pts, p.size, p.flags, p.key) for p in packets] == [
        (-1024, 0, 184670, 1, True),
        (-512, 2048, 139033, 0, False),
        (0, 1024, 1424, 0x14, False),
        (None, None, 99, 3, True),
    ]
    assert parse_framecrc("0, 0, 0, 512, 10, 0x1") is None  # no time base
    assert parse_framecrc("#tb 0: 1/0\n0, 0, 0, 512, 10, 0x1") is None
    assert parse_framecrc("#tb 0: 1/30\n1, 0, 0, 512, 10, 0x1") is None  # another stream
    assert parse_framecrc("#tb 0: 1/30\n0, x, 0, 512, 10, 0x1") is None
    assert parse_framecrc("#tb 0: 1/30\n") is None


def trace(*lines: str) -> list[str]:
    return [f"[trace_headers @ 0x55d] [info] {line}\n" for line in lines]


def test_the_bitstream_trace() -> None:
    layout = Layout("h264")
    reader = _TraceReader(layout)
    lines = [
        *trace("Extradata", "Sequence Parameter Set", "3           nal_unit_type     00111 = 7"),
        *trace("170         bitstream_restriction_flag                1 = 1"),
        "[trace_headers @ 0x55d] [warning] 4 bytes left at end of AVCC header.\n",
        *trace("Packet: 100 bytes, key frame, pts 0, dts -1024, duration 512."),
        *trace("Supplemental Enhancement Information", "3           nal_unit_type     00110 = 6"),
        *trace("8   ff_byte   11111111 = 255", "16   last_payload_type_byte   00101111 = 47"),
        *trace("24   ff_byte   11111111 = 255", "32   last_payload_size_byte   00000010 = 2"),
        *trace("Slice Header", "3           nal_unit_type     00101 = 5", "9   slice_type   0001000 = 7"),
        *trace("Packet: 50 bytes, pts 1024, dts -512, duration 512."),
        *trace("Slice Header", "3           nal_unit_type     00001 = 1", "9   slice_type   0001000 = 7"),
        *trace("Slice Header", "3           nal_unit_type     00001 = 1"),
        *trace("Sequence Parameter Set", "3           nal_unit_type     00111 = 7"),
        *trace("88          bitstream_restriction_flag                0 = 0"),
    ]
    for line in lines:
        reader.feed(line)
    reader.finish()
    assert [(p.size, p.key, p.nal_types) for p in reader.packets] == [(100, True, [5]), (50, False, [1, 1])]
    assert layout.sei_types == {255 + 47}  # (the 0xFF byte before the size is the size's)
    assert not layout.reorder_declared  # the second SPS does not declare it
    assert reader.surprise is None and not layout.fields and not layout.layers
    odd = _TraceReader(Layout("hevc"))
    for line in trace("Slice Header", "1  nal_unit_type   010101 = 21", "7  nuh_layer_id   000001 = 1"):
        odd.feed(line)
    assert odd.surprise == "a slice outside any packet" and odd.layout.layers


def test_a_stream_read_on_a_real_clip(base: Path, tmp_path: Path) -> None:
    layout = read_layout(str(base), "h264")
    assert layout.failure is None and layout.traced and layout.time_base == Fraction(1, 15360)
    assert len(layout.packets) == 30 and layout.packets[0].key and layout.packets[0].nal_types == [5]
    assert all(p.nal_types == [1] for p in layout.packets[1:])
    assert _decodes_alike(layout) is None
    (tmp_path / "text.mp4").write_bytes(b"not a video at all")
    broken = read_layout(str(tmp_path / "text.mp4"), "h264")
    assert broken.failure is not None and not broken.packets
    wrong = read_layout(str(base), "hevc")  # an H.264 stream read as HEVC: ffmpeg says no
    assert wrong.failure is not None


# ---------------------------------------------------------------------------------------------
# The checks, on made-up streams


TICK = 512  # one frame at 30 fps, in ticks of 1/15360 s (ffmpeg's time base for such MP4s)


def stream(*packets: tuple[int, int, int, list[int]], codec: str = "h264") -> Layout:
    """(dts, pts, flags, NAL unit types) per packet, in frames (of ``TICK`` ticks)."""
    made = [Packet(dts * TICK, pts * TICK, 10, flags, list(types)) for dts, pts, flags, types in packets]
    return Layout(codec, Fraction(1, 15360), made, traced=True)


def gop(
    start: int, *, key: int = 5, delay: int = 0, frames: int = 10
) -> list[tuple[int, int, int, list[int]]]:
    """``frames`` frames from ``start``, the first a sync sample (NAL unit type ``key``), shown
    in decoding order ``delay`` frames after they are decoded."""
    return [(start + i - delay, start + i, 1 if i == 0 else 0, [key if i == 0 else 1]) for i in range(frames)]


def test_what_a_decode_from_a_sync_sample_depends_on() -> None:
    assert _decodes_alike(stream(*gop(0), *gop(10))) is None
    assert "not an IDR" in (_decodes_alike(stream(*gop(0), *gop(10, key=1))) or "")
    hevc = stream(*gop(0, key=19), *gop(10, key=20), codec="hevc")
    assert _decodes_alike(hevc) is None
    assert "not an IDR" in (_decodes_alike(stream(*gop(0, key=19), *gop(10, key=21), codec="hevc")) or "")
    assert "does not start" in (_decodes_alike(stream(*gop(0)[1:], *gop(10))) or "")
    corrupt = stream(*gop(0))
    corrupt.packets[3].flags |= 2
    assert "corrupt" in (_decodes_alike(corrupt) or "")
    no_time = stream(*gop(0))
    no_time.packets[3].pts = None
    assert "timestamp" in (_decodes_alike(no_time) or "")
    # a frame decoded before the second sync sample is shown after it
    late = stream(*gop(0, frames=9), (9, 13, 0, [1]), *gop(10, frames=3), (13, 14, 0, [1]))
    assert "shown after it" in (_decodes_alike(late) or "")
    # reordered H.264 frames: the depth must be declared
    reordered = stream((-1, 0, 1, [5]), (0, 2, 0, [1]), (1, 1, 0, [1]))
    assert _decodes_alike(reordered) is None
    reordered.reorder_declared = False
    assert "reordering" in (_decodes_alike(reordered) or "")
    flagged = stream(*gop(0))
    flagged.fields = True
    assert "field" in (_decodes_alike(flagged) or "")
    flagged.fields, flagged.layers = False, True
    assert "layer" in (_decodes_alike(flagged) or "")
    intra = Layout("prores", Fraction(1, 30), [Packet(i, i, 10, 1) for i in range(5)])
    assert _decodes_alike(intra) is None
    intra.packets[2].flags = 0
    assert "intra-only" in (_decodes_alike(intra) or "")


def test_what_a_point_depends_on() -> None:
    # sync samples at frames 0 and 10 (1/30 s each), decoded 2 frames before they are shown
    layout = stream(*gop(0, delay=2), *gop(10, delay=2))
    halfway = [(2 * i + 1) / 60 for i in range(10)]  # between frames: 1/60, 3/60, ... 19/60 s
    assert _timing(layout, [*halfway[:8], halfway[9]], 0.0) == [None] * 9
    # a frame within two ticks of the point (rounded to the millisecond, as the seeks round it)
    assert _timing(layout, [0.1], 0.0) == ["a frame lies on the point at 0.100 s"]  # frame 3
    assert _timing(layout, [0.101], 0.0) == [None]  # 15 ticks past it
    # frame 9 is the first at or after 0.283 s; the sync sample after it (frame 10, shown at
    # 0.333 s) is decoded at 0.267 s, before the point: a seek could start there, past frame 9
    early = "a sync sample shown after 0.283 s may be decoded before it"
    assert _timing(layout, [8.5 / 30], 0.0) == _timing(layout, [halfway[8]], 0.0) == [early]
    assert _timing(layout, [7.5 / 30], 0.0) == [None]  # decoded after the point (0.267 > 0.250 s)
    # a stream that starts before the file's start moves the line later
    assert _timing(layout, [7.5 / 30], -0.1) == ["a sync sample shown after 0.250 s may be decoded before it"]
    # a sync sample that is itself the first frame after the point is where a seek starts anyway
    assert _timing(layout, [9.5 / 30], 0.0) == [None]
    # past the last frame: neither a seek nor the pass gives a frame there
    assert _timing(layout, [25 / 30], 0.0) == [None]


def test_nothing_is_proved_of_what_is_not_read(base: Path, tmp_path: Path) -> None:
    found = probe(base)
    at = (0.25, 0.75)
    assert seeks_match_pass(str(base), found, at).exact
    vp9 = tmp_path / "vp9.mp4"
    ff("-i", str(base), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-an", str(vp9))
    verdict = seeks_match_pass(str(vp9), probe(vp9), at)
    assert verdict == type(verdict)(False, (False, False), "the bitstream of vp9 is not read")
    failed = Layout("h264", failure="ffmpeg ended with code 1")
    verdict = seeks_match_pass(str(base), found, at, failed)
    assert not verdict.turned_alike and verdict.reason.endswith("could not be read: ffmpeg ended with code 1")
    mkv = tmp_path / "base.mkv"
    ff("-i", str(base), "-c", "copy", str(mkv))
    assert seeks_match_pass(str(mkv), probe(mkv), at).reason == "not an MP4 or MOV file"
