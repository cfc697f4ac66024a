"""Photo and video facts: content sniffing, orientation, HEIC, video header and frames."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from inventory.match.hashes import hamming
from inventory.media.ffmpeg import ffmpeg_exe
from inventory.media.image import capture_time_from_exif
from inventory.media.probe import parse
from inventory.media.sniff import sniff
from inventory.record.examine import examine
from tests.kit import media


@pytest.mark.parametrize(
    ("head", "name", "expect"),
    [
        (b"\xff\xd8\xff\xe1\x00\x10Exif", "x.bin", ("image", "jpeg", False)),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 8, "x", ("image", "png", False)),
        (b"GIF89a" + b"\0" * 10, "x.jpg", ("image", "gif", False)),
        (b"RIFF\0\0\0\0WEBPVP8 ", "x", ("image", "webp", False)),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "IMG_0001.HEIC", ("image", "heic", False)),
        (b"\0\0\0\x1cftypmif1\0\0\0\0mif1heicmiaf", "x", ("image", "heic", False)),
        (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1", "x", ("image", "avif", False)),
        (b"\0\0\0\x14ftypqt  \0\0\0\0qt  ", "IMG_0002.MOV", ("video", "mov", False)),
        (b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41", "x", ("video", "mp4", False)),
        (b"\0\0\0\x20ftypM4A \0\0\x02\0M4A isom", "song.m4a", ("other", "m4a", False)),
        (
            b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\xf7\x81\x01B\xf2\x81\x04B\xf3\x81\x08B\x82\x84webm",
            "x",
            ("video", "webm", False),
        ),
        (b"II*\0\x08\0\0\0CR", "x.cr2", ("image", "cr2", False)),
        (b"II*\0\x08\0\0\0\0\0", "DSC_1.NEF", ("image", "nef", False)),
        (b"II*\0\x08\0\0\0\0\0", "scan.tif", ("image", "tiff", False)),
        (b"RIFF\0\0\0\0AVI LIST", "x", ("video", "avi", False)),
        (b"random bytes here", "clip.mp4", ("video", "mp4", True)),
        (b"random bytes here", "IMG.JPG", ("image", "jpeg", True)),
        (b"1\n00:00:00,000 --> ", "teaser.srt", ("other", "srt", False)),
        (b"", "notes", ("other", "", False)),
    ],
)
def test_sniff(head: bytes, name: str, expect: tuple[str, str, bool]) -> None:
    s = sniff(head, name)
    assert (s.kind, s.format, s.claimed) == expect


def test_capture_time_parsing() -> None:
    assert capture_time_from_exif("2026:05:14 19:42:10") == "2026-05-14T19:42:10"
    assert capture_time_from_exif("2026:05:14 19:42:10", "+08:00") == "2026-05-14T19:42:10+08:00"
    assert capture_time_from_exif(b"2026:05:14 19:42:10\x00") == "2026-05-14T19:42:10"
    assert capture_time_from_exif("0000:00:00 00:00:00") is None
    assert capture_time_from_exif("garbage") is None
    assert capture_time_from_exif(None) is None


def test_portrait_photo_hashes_as_it_is_seen(tmp_path: Path) -> None:
    """A phone stores a portrait photo landscape with 'rotate 90' in EXIF: the inventory
    reports the visual size and hashes the upright picture."""
    tagged = media.jpeg(tmp_path / "tagged.jpg", size=(800, 600), seed=5, orientation=6)
    with Image.open(tagged) as im:
        upright = im.transpose(Image.Transpose.ROTATE_270)
        upright.save(tmp_path / "upright.jpg", quality=88)
    a, _ = examine(str(tagged))
    b, _ = examine(str(tmp_path / "upright.jpg"))
    assert (a.media.width, a.media.height) == (600, 800)
    assert a.media.details["orientation"] == 6
    assert a.media.phash and b.media.phash
    assert hamming(a.media.phash, b.media.phash) <= 4
    unrotated = media.jpeg(tmp_path / "plain.jpg", size=(800, 600), seed=5, orientation=1)
    c, _ = examine(str(unrotated))
    assert hamming(a.media.phash, c.media.phash) > 10, "orientation was applied before hashing"


def test_heic_is_first_class(tmp_path: Path) -> None:
    photo = media.heic(tmp_path / "IMG_0001.HEIC", size=(640, 480), taken="2026:05:15 08:01:44")
    facts, _ = examine(str(photo))
    m = facts.media
    assert (facts.kind, facts.format) == ("image", "heic")
    assert m.decode_error is None
    assert (m.width, m.height) == (640, 480)
    assert m.capture_time == "2026-05-15T08:01:44"
    assert m.details["camera_model"] == "iPhone 15 Pro"
    jpeg = tmp_path / "same.jpg"
    media.register_heif()
    with Image.open(photo) as im:
        im.save(jpeg, quality=90)
    other, _ = examine(str(jpeg))
    assert hamming(m.phash or "", other.media.phash or "") <= 6, "a HEIC and its JPEG hash alike"


def test_video_facts(tmp_path: Path) -> None:
    clip = media.video(tmp_path / "clip.mp4", seconds=3.0, size="480x270")
    facts, _ = examine(str(clip))
    m = facts.media
    assert (facts.kind, facts.format, m.decode_error) == ("video", "mp4", None)
    assert (m.width, m.height) == (480, 270)
    assert abs((m.duration_ms or 0) - 3000) <= 50
    assert m.capture_time == "2026-06-02T09:30:00Z"
    assert m.frame_hashes and len(m.frame_hashes) == 8 and len(set(m.frame_hashes)) > 1
    assert m.details["codec"] == "h264" and m.details["audio_codec"] == "aac"


def test_rotated_phone_video_reports_display_size(tmp_path: Path) -> None:
    clip = media.video(tmp_path / "clip.mp4", seconds=1.0, size="320x240")
    rotated = media.rotated_video(clip, tmp_path / "IMG_0003.MOV", 90)
    facts, _ = examine(str(rotated))
    assert facts.media.details.get("rotation") in (90, 270)
    assert (facts.media.width, facts.media.height) == (240, 320)


def test_video_without_a_video_stream(tmp_path: Path) -> None:
    audio = tmp_path / "voice.mp4"
    cmd = [
        ffmpeg_exe(),
        "-y",
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=1",
        "-c:a",
        "aac",
        str(audio),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    facts, _ = examine(str(audio))
    assert facts.kind == "video" and facts.media.decode_error == "no video stream"


def test_parse_header_of_a_phone_video() -> None:
    text = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'IMG_0001.MOV':
  Metadata:
    creation_time   : 2026-05-01T10:00:00.000000Z
  Duration: 00:01:02.50, start: 0.000000, bitrate: 9000 kb/s
  Stream #0:0[0x1](und): Video: hevc (Main) (hvc1 / 0x31637668), yuv420p(tv, bt709), 1920x1080, 8000 kb/s, 29.97 fps, 30 tbr (default)
    Side data:
      displaymatrix: rotation of -90.00 degrees
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 256 kb/s (default)
"""
    found = parse(text, "IMG_0001.MOV")
    video = found.video
    assert video is not None and found.first_video == video
    assert found.duration_ms == 62500
    assert (video.codec, video.width, video.height) == ("hevc", 1920, 1080)
    assert (video.fps_text, video.fps, video.rotation, video.has_matrix) == ("29.97", 29.97, 270, True)
    assert [a.codec for a in found.audio] == ["aac"]
    assert found.creation_time == "2026-05-01T10:00:00.000000Z"
