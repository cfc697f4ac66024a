"""The one media layer: the probe parsed one way (and read alike by the inventory and the stamper),
ffmpeg's errors on one line, and the layering (media at the bottom, nothing importing up)."""

from __future__ import annotations

import ast
import random
import subprocess
from pathlib import Path

import pytest

from inventory.media.ffmpeg import ffmpeg_exe, last_error
from inventory.media.probe import parse, probe
from inventory.record.examine import examine
from tests.conftest import REPO
from tests.kit import media
from watermark.errors import BadInput
from watermark.video_info import probe_video, video_info

HEADER = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '{path}':
  Metadata:
    major_brand     : qt
    creation_time   : 2026-05-01T10:00:00.000000Z
  Duration: 00:00:10.01, start: 0.000000, bitrate: 9000 kb/s
  Stream #0:0[0x1](und): Video: mjpeg (Baseline), yuvj420p(pc), 320x240 [SAR 1:1 DAR 4:3], 90k tbr, 90k tbn (attached pic)
  Stream #0:1[0x2](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 1920x1080 [SAR 4:3 DAR 64:27], 8000 kb/s, 59.94 fps, 59.94 tbr, 60k tbn (default)
    Metadata:
      rotate          : 90
  Stream #0:2[0x3](und): Audio: pcm_s24le (in24 / 0x34326E69), 48000 Hz, 5.1(side), s32 (24 bit), 6912 kb/s (default)
  Stream #0:3[0x4](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, 6 channels (FL+FR+FC+LFE+BL+BR), fltp, 256 kb/s
  Stream #0:4[0x5](und): Data: none (tmcd / 0x64636D74), 0 kb/s
"""


def test_one_parse_of_every_stream() -> None:
    found = parse(HEADER.format(path="/v/IMG_0001.MOV"), "/v/IMG_0001.MOV")
    assert found.formats == ("mov", "mp4", "m4a", "3gp", "3g2", "mj2") and found.mov_family and found.opened
    assert (found.brand, found.container("/v/IMG_0001.MOV")) == ("qt", "mov")
    assert found.duration == 10.01 and found.duration_ms == 10010 and found.start == 0.0
    later = parse(HEADER.replace("start: 0.000000", "start: -0.023220"))
    assert later.start == -0.02322 and parse("Input #0, mov, from 'x':\n").start is None
    assert found.creation_time == "2026-05-01T10:00:00.000000Z"
    assert found.kinds == ("video", "video", "audio", "audio", "data")
    cover, video = found.videos
    assert cover.attached_pic and found.first_video == cover and found.video == video
    # the old clockwise "rotate" tag, as ffmpeg before 5 printed it: 90 clockwise is 270
    assert (video.index, video.codec, video.width, video.height) == (1, "h264", 1920, 1080)
    assert (video.rotation, video.has_matrix, video.display_size) == (270, True, (1080, 1920))
    assert (video.fps, video.fps_text, video.sar, video.bitrate_kbps) == (59.94, "59.94", (4, 3), 8000)
    assert [(a.index, a.codec, a.sample_rate, a.layout) for a in found.audio] == [
        (2, "pcm_s24le", 48000, "5.1(side)"),
        (3, "aac", 44100, "6c"),
    ]
    assert (found.weak_guess, found.moov_missing, found.invalid_data, found.error) == (
        False,
        False,
        False,
        "",
    )


def test_the_inventory_and_the_stamper_read_the_same_probe(tmp_path: Path) -> None:
    """Where two parsers once could disagree on rotation, one probe now feeds both."""
    source = media.video(tmp_path / "clip.mp4", seconds=1.0)
    for degrees in (90, 180, 270):
        clip = media.rotated_video(source, tmp_path / f"rot{degrees}.mov", degrees)
        found = probe(clip)
        stamper = video_info(clip, found)
        facts, _ = examine(str(clip))
        assert stamper.rotation == facts.media.details["rotation"] == degrees
        assert stamper.display_size == (facts.media.width, facts.media.height)
        assert round(stamper.duration * 1000) == facts.media.duration_ms


def test_what_ffmpeg_cannot_read(tmp_path: Path) -> None:
    good = media.video(tmp_path / "good.mp4", seconds=1.0)
    (tmp_path / "noise.mp4").write_bytes(random.Random(7).randbytes(20_000))
    media.truncated(good, tmp_path / "cut.mp4", 0.3)
    noise, cut, missing = (probe(tmp_path / n) for n in ("noise.mp4", "cut.mp4", "missing.mp4"))
    assert noise.weak_guess and not noise.opened
    assert cut.moov_missing and cut.invalid_data and not cut.opened and not cut.weak_guess
    assert cut.error == "moov atom not found"  # the reason, not "Error opening input" after it
    assert missing.error == "Error opening input files: No such file or directory"
    with pytest.raises(BadInput, match="truncated or incomplete video"):
        probe_video(tmp_path / "cut.mp4", cut)
    facts, _ = examine(str(tmp_path / "cut.mp4"))
    assert facts.media.decode_error == "does not decode as MP4: moov atom not found"


def test_last_error_is_one_clean_line() -> None:
    stderr = (
        "[vost#0:0/libx264 @ 0x55d9c0f0] [enc:libx264 @ 0x55d9c100] Error setting preset/tune nonsense/none.\n"
        "[vost#0:0/libx264 @ 0x55d9c0f0] Error while opening encoder - maybe incorrect parameters\n"
        "Conversion failed!\n"
    )
    assert last_error(stderr) == "libx264: Error setting preset/tune nonsense/none."
    assert last_error(b"[in#0 @ 0x1] /a/b.mp4: Permission denied\n", "/a/b.mp4") == "Permission denied"
    assert last_error("Conversion failed!\n") == "Conversion failed!"  # nothing better was said
    assert last_error("", default="no frame") == "no frame"
    assert len(last_error("x" * 1000)) == 300


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        (
            "inventory/media",
            ("inventory.match", "inventory.record", "inventory.store", "watermark", "backup"),
        ),
        ("inventory", ("watermark", "backup")),
        ("watermark", ("backup", "inventory.record", "inventory.match", "inventory.store")),
    ],
)
def test_media_is_the_ground_floor(folder: str, forbidden: tuple[str, ...]) -> None:
    """Every import, in functions too: media imports no other room of the inventory, the
    inventory never imports the watermark or the CLI, the watermark only the media layer."""
    bad = [
        f"{path.relative_to(REPO)}: {name}"
        for path in sorted((REPO / folder).rglob("*.py"))
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]
    assert bad == []


def test_one_ffmpeg_locator_and_one_heif_registration() -> None:
    code = subprocess.run(
        ["git", "grep", "-n", "-e", "get_ffmpeg_exe", "-e", "register_heif_opener", "--", "*.py"],
        cwd=REPO, capture_output=True, text=True,
    ).stdout  # fmt: skip
    found = sorted(
        {line.split(":", 1)[0] for line in code.splitlines() if not line.startswith(("tests/", "bench/"))}
    )
    assert found == ["inventory/media/ffmpeg.py", "inventory/media/heif.py"]
    assert Path(ffmpeg_exe()).exists()
