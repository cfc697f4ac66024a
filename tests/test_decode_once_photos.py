"""A new photo decoded once, for its record and its stamped copy: the facts and hashes taken from
the caller's decoded picture are those ``examine`` gives (the stored hashes do not move), and the
stamped copy made from that picture is the one the stamper makes from the file."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from backup.app.samples import scene
from inventory.media.orientation import orientation_of, upright
from inventory.record import examine as examine_module
from inventory.record.examine import decode, decode_photo, examine, open_photo, photo_facts, read
from inventory.record.facts import FileFacts
from tests.kit import media
from watermark.image import ImageOptions, stamp_image
from watermark.style import Style

FIXTURES = Path(__file__).parent / "fixtures"
FIELDS = {"name": "Lily Chen", "handle": "lily.shoots"}


def facts_of(facts: FileFacts) -> dict[str, object]:
    return {**vars(facts), "media": vars(facts.media)}


def decoded_once(path: Path) -> FileFacts:
    r = read(str(path))
    with open_photo(r) as im:
        facts = photo_facts(r, im)
    again, picture = decode_photo(r)
    assert facts_of(again) == facts_of(facts)
    assert (picture is None) == (facts.media.decode_error is not None)
    if picture is not None:
        picture.close()
    return facts


def _jpeg(orientation: int, size: tuple[int, int]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        return media.jpeg(
            folder / f"o{orientation}-{size[0]}x{size[1]}.jpg",
            size,
            seed=orientation,
            orientation=orientation,
        )

    return make


def _saved(name: str, size: tuple[int, int], mode: str = "RGB", **save: object) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        scene(*size, 7).convert(mode).save(path, **save)  # type: ignore[arg-type]
        return path

    return make


def _heic(orientation: int) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        return media.heic(folder / f"IMG_{orientation}.HEIC", (640, 480), seed=3, orientation=orientation)

    return make


def _animated_gif(folder: Path) -> Path:
    frames = [scene(200, 150, seed).convert("P") for seed in range(3)]
    path = folder / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def _mpo(folder: Path) -> Path:
    path = folder / "pair.mpo.jpg"
    scene(800, 600, 8).save(path, format="MPO", save_all=True, append_images=[scene(800, 600, 9)])
    return path


def _fixture(name: str) -> Callable[[Path], Path]:
    return lambda _folder: FIXTURES / name


PHOTOS: dict[str, Callable[[Path], Path]] = {
    "portrait.jpg": _fixture("portrait.jpg"),
    "flatlay.png": _fixture("flatlay.png"),
    "dunes.heic": _fixture("dunes.heic"),
    **{f"jpeg-orientation-{o}": _jpeg(o, (1024, 768)) for o in range(1, 9)},
    # the DCT draft at 1/2 and 1/4 (short side under 512 px) and sizes not a multiple of 8
    "jpeg-small-odd": _jpeg(6, (333, 201)),
    "jpeg-medium-odd": _jpeg(3, (1001, 299)),
    "jpeg-grey": _saved("grey.jpg", (900, 700), "L", quality=90),
    "jpeg-cmyk": _saved("cmyk.jpg", (900, 700), "CMYK", quality=90),
    "jpeg-progressive": _saved("progressive.jpg", (1200, 900), quality=85, progressive=True),
    "mpo": _mpo,
    "png-rgb": _saved("rgb.png", (700, 500)),
    "png-rgba": _saved("rgba.png", (700, 500), "RGBA"),
    "png-palette": _saved("palette.png", (700, 500), "P"),
    "png-16-bit-grey": _saved("grey16.png", (300, 200), "I;16"),
    "webp-lossy": _saved("lossy.webp", (800, 600), quality=80),
    "webp-lossless": _saved("lossless.webp", (400, 300), lossless=True),
    "tiff": _saved("scan.tif", (640, 480), compression="tiff_lzw"),
    "gif-animated": _animated_gif,
    **{f"heic-orientation-{o}": _heic(o) for o in (1, 3, 6, 8)},
}


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_facts_from_the_decoded_picture_are_examines(tmp_path: Path, name: str) -> None:
    path = PHOTOS[name](tmp_path)
    want, observed = examine(str(path))
    assert want.media.decode_error is None and want.media.phash
    r = read(str(path))
    assert r.observed == observed and r.decodable
    assert facts_of(decode(r)) == facts_of(want)
    assert facts_of(decoded_once(path)) == facts_of(want)


def test_a_file_too_big_to_hold_is_decoded_from_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = media.jpeg(tmp_path / "big.jpg", (1200, 900), orientation=6)
    want, _ = examine(str(path))
    monkeypatch.setattr(examine_module, "WHOLE_READ_LIMIT", 1000)
    r = read(str(path))
    assert r.data is None and r.sha256 == want.sha256
    assert facts_of(decoded_once(path)) == facts_of(want)


def test_nothing_to_decode_is_said_without_opening(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "fake.heic").write_bytes(b"not a picture at all")
    (tmp_path / "raw.nef").write_bytes(b"II*\x00\x08\x00\x00\x00" + bytes(64))
    (tmp_path / "notes.txt").write_text("hello")
    for name in ("empty.jpg", "fake.heic", "raw.nef", "notes.txt"):
        r = read(str(tmp_path / name))
        assert not r.decodable
        assert r.undecoded() == examine(str(tmp_path / name))[0]
        assert decode_photo(r) == (r.undecoded(), None)


def test_a_photo_pillow_cannot_open_is_worded_as_a_scan_words_it(tmp_path: Path) -> None:
    path = tmp_path / "odd.jpg"
    path.write_bytes(b"\xff\xd8\xff" + bytes(200))  # a JPEG's first bytes, then nothing of one
    r = read(str(path))
    assert r.decodable
    facts, picture = decode_photo(r)
    assert picture is None
    assert facts == examine(str(path))[0]
    # the reason is recorded as is, so it names no object of this process (an address)
    assert facts.media.decode_error == "does not decode as JPEG: cannot identify image file"


def test_a_photo_that_does_not_decode_says_so_the_same_way(tmp_path: Path) -> None:
    good = media.jpeg(tmp_path / "good.jpg", (800, 600))
    cut = media.truncated(good, tmp_path / "cut.jpg", 0.4)
    want, _ = examine(str(cut))
    got = decoded_once(cut)
    assert want.media.decode_error and want.media.decode_error.startswith("does not decode as JPEG")
    assert facts_of(got) == facts_of(want)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_is_pillows_exif_transpose(tmp_path: Path, orientation: int) -> None:
    path = media.jpeg(tmp_path / "p.jpg", (300, 200), orientation=orientation)
    with Image.open(path) as im:
        im.load()
        assert orientation_of(im.getexif()) == orientation
        ours = upright(im, orientation)
        pillow = ImageOps.exif_transpose(im)
        assert ours.size == pillow.size
        assert ours.tobytes() == pillow.tobytes()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "name",
    [
        "portrait.jpg",
        "flatlay.png",
        "jpeg-orientation-8",
        "jpeg-cmyk",
        "png-rgba",
        "webp-lossless",
        "tiff",
        "gif-animated",
        "mpo",
    ],
)
def test_stamping_the_decoded_picture_writes_what_stamping_the_file_writes(tmp_path: Path, name: str) -> None:
    path = PHOTOS[name](tmp_path)
    style = Style(text="", logo=FIXTURES / "flatlay.png", size=0.2, opacity=0.5)
    options = ImageOptions(copyright="© Lily Chen (@lily.shoots)", artist="Lily Chen")
    from_file = stamp_image(path, tmp_path / "a" / path.name, style, FIELDS, options)
    r = read(str(path))
    with open_photo(r) as im:
        facts = photo_facts(r, im)
        assert facts.media.decode_error is None
        given = stamp_image(path, tmp_path / "b" / path.name, style, FIELDS, options, image=im, data=r.data)
    assert (given.format, given.width, given.height, given.frames) == (
        from_file.format, from_file.width, from_file.height, from_file.frames,
    )  # fmt: skip
    assert given.sha256 == from_file.sha256 == _sha(given.output)
    assert facts_of(facts) == facts_of(examine(str(path))[0]), "the hashes were taken before the mark"


def test_a_given_picture_is_still_held_to_the_pixel_limit(tmp_path: Path) -> None:
    from watermark.errors import BadInput

    path = media.jpeg(tmp_path / "p.jpg", (800, 600))
    r = read(str(path))
    style = Style(text="", logo=FIXTURES / "flatlay.png")
    with open_photo(r) as im, pytest.raises(BadInput, match="decompression bomb"):
        stamp_image(path, tmp_path / "out.jpg", style, FIELDS, ImageOptions(max_pixels=100_000), image=im)
    assert not (tmp_path / "out.jpg").exists()
