"""Thumbnails of the inventory's photos and videos: made on demand from a file present as it was
recorded, upright, HEIC and video included, kept in the state folder by SHA-256 and served from
there; nothing the inventory does not hold is read or served."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from backup.app.library import thumbnail, thumbnail_path
from backup.errors import NothingFound, UsageError
from backup.profile.load import load
from tests.backupkit import write_profile
from tests.kit.hashing import file_sha256
from tests.kit.media import heic, jpeg, png, video


@pytest.fixture
def shoots(home: Path, tmp_path: Path, cli: Any) -> dict[str, Path]:
    src = tmp_path / "Shoots"
    files = {
        "landscape": jpeg(src / "wide.jpg", (1600, 1200), seed=1),
        "portrait": jpeg(src / "turned.jpg", (1600, 1200), seed=2, orientation=6),  # stored sideways
        "heic": heic(src / "phone.heic", (1200, 900), seed=3),
        "png": png(src / "shot.png", (800, 600), seed=4),
        "video": video(src / "clip.mp4", seconds=2.0, size="640x360"),
    }
    (src / "notes.txt").write_text("not a picture")
    write_profile(home, [src], [])
    assert cli("inventory", "scan", "-p", "lily").code == 0
    return files


def picture(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG"
    return im


def test_each_kind_gets_an_upright_thumbnail_made_once(shoots: dict[str, Path], tmp_path: Path) -> None:
    profile = load("lily")
    sizes = {}
    for name, path in shoots.items():
        made = thumbnail(profile, file_sha256(path))
        assert made.made and made.path == thumbnail_path(profile, file_sha256(path), 320)
        sizes[name] = picture(made.path.read_bytes()).size
        again = thumbnail(profile, file_sha256(path))
        assert not again.made and again.path == made.path  # from the cache
    assert sizes["landscape"] == (320, 240)
    assert sizes["portrait"] == (240, 320)  # turned upright by its EXIF orientation
    assert sizes["heic"] == (320, 240) and sizes["png"] == (320, 240)
    assert sizes["video"] == (320, 180)
    big = thumbnail(profile, file_sha256(shoots["landscape"]), 1280)
    assert picture(big.path.read_bytes()).size == (1280, 960)
    assert str(big.path).startswith(str(tmp_path))  # under the test's Keepmark home


def test_nothing_outside_the_inventory_and_nothing_changed_is_read(shoots: dict[str, Path]) -> None:
    profile = load("lily")
    with pytest.raises(NothingFound, match="no photo or video of the inventory"):
        thumbnail(profile, "0" * 64)
    notes = Path(str(shoots["png"]).replace("shot.png", "notes.txt"))
    with pytest.raises(NothingFound, match="no photo or video of the inventory"):
        thumbnail(profile, file_sha256(notes))  # recorded, but not a picture
    for bad in ("../../etc/passwd", "ABC", "0" * 63):
        with pytest.raises(UsageError, match="not a SHA-256"):
            thumbnail(profile, bad)
    with pytest.raises(UsageError, match="size 999"):
        thumbnail(profile, file_sha256(shoots["png"]), 999)
    sha = file_sha256(shoots["landscape"])
    shoots["landscape"].write_bytes(b"edited since" * 1000)  # changed since it was recorded
    with pytest.raises(NothingFound, match="has changed since it was recorded"):
        thumbnail(profile, sha)
    assert not thumbnail_path(profile, sha, 320).exists()
