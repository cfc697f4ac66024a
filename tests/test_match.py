"""Matching a suspect file against the inventory: exact copies, perceptual near-copies, photos
that were never enrolled, and unreadable suspects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from inventory import Inventory, Source, scan
from inventory.errors import UnreadableSuspect
from inventory.match import find_original
from tests.photos import photo

ENROLLED = ("astronaut.png", "chelsea.png", "rocket.jpg")


@pytest.fixture
def inv(tmp_path: Path) -> Iterator[Inventory]:
    originals = tmp_path / "originals"
    originals.mkdir()
    for name in ENROLLED:
        photo(name).save(originals / (Path(name).stem + ".jpg"), quality=92)
    inv = Inventory.open(tmp_path / "inventory.sqlite")
    report = scan(inv, [Source(str(originals), str(originals))], workers=1)
    assert report.new == len(ENROLLED)
    yield inv
    inv.close()


def test_exact_copy_is_found_by_sha256(inv: Inventory, tmp_path: Path) -> None:
    original = tmp_path / "originals" / "chelsea.jpg"
    copy = tmp_path / "repost.jpg"
    copy.write_bytes(original.read_bytes())
    suspect, match = find_original(inv, copy)
    assert match is not None
    assert (match.method, match.distance, match.confidence) == ("exact", 0, 1.0)
    assert match.sha256 == suspect.sha256
    assert match.path == str(original)
    assert match.as_dict()["sha256"] == suspect.as_dict()["sha256"]


def test_resized_recompressed_copy_is_found_perceptually(inv: Inventory, tmp_path: Path) -> None:
    im = photo("astronaut.png")
    small = tmp_path / "repost.jpg"
    im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS).save(small, quality=45)
    suspect, match = find_original(inv, small)
    assert match is not None
    assert match.method == "perceptual"
    assert Path(match.path).name == "astronaut.jpg"
    assert match.distance is not None and match.distance <= 10
    assert 0 < match.confidence <= 1
    assert suspect.kind == "image" and len(suspect.hashes["phash"]) == 16


def test_never_enrolled_photo_is_not_matched(inv: Inventory, tmp_path: Path) -> None:
    other = tmp_path / "coffee.jpg"
    photo("coffee.png").save(other, quality=80)
    _suspect, match = find_original(inv, other)
    assert match is None


def test_unreadable_suspect_raises_naming_the_file(inv: Inventory, tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(UnreadableSuspect, match=r"broken\.jpg"):
        find_original(inv, bad)
    with pytest.raises(UnreadableSuspect, match=r"absent\.jpg"):
        find_original(inv, tmp_path / "absent.jpg")
