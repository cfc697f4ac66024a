"""The account in a stamped copy's metadata, through ``backup stamp``: the full name in XMP
(UTF-8, every script), EXIF Artist/Copyright only ever ASCII (no mojibake), and the same name
in a video's container tags."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from backup.app.samples import scene
from inventory.media.ffmpeg import ffmpeg_exe
from tests.conftest import run_backup
from tests.kit import media
from tests.test_stamp_cli import set_watermark

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
}
EXIF_ARTIST = 0x013B
EXIF_COPYRIGHT = 0x8298


def make_profile(home: Path, tmp_path: Path, name: str, handle: str = "lily.shoots") -> tuple[Path, Path]:
    sources = tmp_path / "Shoots"
    out = tmp_path / "Stamped"
    media.jpeg(sources / "a.jpg", size=(640, 480), seed=1)
    media.png(sources / "b.png", size=(320, 240), seed=2)
    media.heic(sources / "c.heic", size=(320, 240), seed=3)
    scene(320, 240, 4).save(sources / "d.webp", format="WEBP", quality=85)
    scene(320, 240, 5).save(sources / "e.tif", format="TIFF")
    r = run_backup(
        "init", "lily", "--account", name, "--handle", handle, "--source", str(sources), "--output", str(out)
    )
    assert r.code == 0, r
    set_watermark(home, copyright=True)
    return sources, out


def xmp_of(path: Path) -> dict[str, list[str]]:
    """dc:creator and dc:rights read back from the copy's XMP packet (parsed as XML)."""
    media.register_heif()
    with Image.open(path) as im:
        raw = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    assert raw, f"{path.name}: no XMP"
    packet = raw.encode("utf-8") if isinstance(raw, str) else raw
    root = ET.fromstring(packet.rstrip(b"\0").split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0])
    return {
        key: [li.text or "" for li in root.iterfind(f".//dc:{key}//rdf:li", NS)]
        for key in ("creator", "rights")
    }


def exif_text(path: Path) -> dict[int, bytes]:
    """The raw bytes of EXIF Artist and Copyright, as a reader gets them (no decoding)."""
    media.register_heif()
    with Image.open(path) as im:
        exif = Image.Exif()
        exif.load(im.getexif().tobytes())
    found = {}
    for tag in (EXIF_ARTIST, EXIF_COPYRIGHT):
        value = exif.get(tag)
        if value is not None:
            found[tag] = value.encode("latin-1") if isinstance(value, str) else bytes(value)
    return found


PHOTOS = ("a.jpg", "b.png", "c.heic", "d.webp", "e.tif")


def test_a_cjk_account_name_reads_back_from_xmp_and_exif_stays_ascii(home: Path, tmp_path: Path) -> None:
    _, out = make_profile(home, tmp_path, "陈莉莉")
    r = run_backup("stamp", "-p", "lily", "--json")
    assert r.code == 0, r
    assert len(r.json()["stamped"]) == len(PHOTOS)
    for name in PHOTOS:
        copy = out / "Shoots" / name
        assert xmp_of(copy) == {"creator": ["陈莉莉"], "rights": ["© 陈莉莉 (@lily.shoots)"]}, name
        fields = exif_text(copy)
        # never UTF-8 bytes in an ASCII field (a reader shows them as mojibake): the handle
        assert fields == {EXIF_ARTIST: b"@lily.shoots", EXIF_COPYRIGHT: b"Copyright @lily.shoots"}, name


def test_an_ascii_account_name_is_in_exif_as_written(home: Path, tmp_path: Path) -> None:
    _, out = make_profile(home, tmp_path, "Lily Chen")
    assert run_backup("stamp", "-p", "lily").code == 0
    copy = out / "Shoots" / "a.jpg"
    assert exif_text(copy) == {
        EXIF_ARTIST: b"Lily Chen",
        EXIF_COPYRIGHT: b"Copyright Lily Chen (@lily.shoots)",
    }
    assert xmp_of(copy) == {"creator": ["Lily Chen"], "rights": ["© Lily Chen (@lily.shoots)"]}
    with Image.open(copy) as im:
        assert im.getexif()[0x0110] == "iPhone 15 Pro", "the camera's own EXIF is kept"


def test_no_ascii_form_leaves_the_exif_fields_out(home: Path, tmp_path: Path) -> None:
    _, out = make_profile(home, tmp_path, "林美", handle="林美的相机")
    assert run_backup("stamp", "-p", "lily").code == 0
    copy = out / "Shoots" / "a.jpg"
    assert exif_text(copy) == {}
    assert xmp_of(copy) == {"creator": ["林美"], "rights": ["© 林美 (@林美的相机)"]}


def test_without_copyright_no_account_fields_are_written(home: Path, tmp_path: Path) -> None:
    _, out = make_profile(home, tmp_path, "陈莉莉")
    set_watermark(home, copyright=False)
    assert run_backup("stamp", "-p", "lily").code == 0
    assert exif_text(out / "Shoots" / "a.jpg") == {}
    with Image.open(out / "Shoots" / "a.jpg") as im:
        assert "xmp" not in im.info


@pytest.mark.parametrize("container", ["mp4", "mov"])
def test_video_tags_carry_the_name_in_utf8(home: Path, tmp_path: Path, container: str) -> None:
    sources, out = make_profile(home, tmp_path, "陈莉莉")
    media.video(sources / "Reels" / f"clip.{container}", seconds=0.5, size="160x120")
    r = run_backup("stamp", str(sources / "Reels"), "-p", "lily", "--json")
    assert r.code == 0, r
    copy = out / "Shoots" / "Reels" / f"clip.{container}"
    dumped = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(copy), "-f", "ffmetadata", "-"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    tags = dict(line.split("=", 1) for line in dumped.splitlines() if "=" in line)
    assert tags["artist"] == "陈莉莉"
    assert tags["copyright"] == "© 陈莉莉 (@lily.shoots)"
