"""Stamping photos with the watermark library: pixels, placement, orientation, metadata,
formats, animation, and every kind of bad input."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageStat

from tests.kit import media
from watermark.errors import BadInput, WatermarkError
from watermark.image import ImageOptions, stamp_image
from watermark.style import Style

FIELDS = {"name": "Lily Chen", "handle": "lily.shoots"}


@pytest.fixture
def logo(tmp_path: Path) -> Path:
    """A solid white square with full alpha: its effect on a grey picture is exactly computable."""
    path = tmp_path / "logo.png"
    Image.new("RGBA", (100, 100), (255, 255, 255, 255)).save(path)
    return path


def grey(path: Path, size: tuple[int, int] = (1200, 900), value: int = 128, **save: object) -> Path:
    Image.new("RGB", size, (value, value, value)).save(path, **save)  # type: ignore[arg-type]
    return path


def mean(im: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(sum(ImageStat.Stat(im.convert("L").crop(box)).mean))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_mark_region_changes_by_the_opacity_and_the_rest_does_not(tmp_path: Path, logo: Path) -> None:
    src = grey(tmp_path / "grey.jpg", quality=95)
    before = sha(src)
    style = Style(text="", logo=logo, position="bottom-right", opacity=0.4, size=0.2, margin=0.05)
    result = stamp_image(src, tmp_path / "out.jpg", style, FIELDS)
    assert sha(src) == before, "the original is never modified"
    out = Image.open(result.output)
    assert out.size == (1200, 900)
    # Mark: 0.2 * 900 = 180 px square, 45 px from the right and bottom edges.
    inside = mean(out, (1200 - 45 - 170, 900 - 45 - 170, 1200 - 45 - 10, 900 - 45 - 10))
    assert abs(inside - (0.6 * 128 + 0.4 * 255)) < 4
    assert abs(mean(out, (20, 20, 600, 400)) - 128) < 2, "away from the mark: unchanged within JPEG noise"
    assert abs(mean(out, (1200 - 40, 900 - 40, 1200, 900)) - 128) < 3, "the margin is left alone"


@pytest.mark.parametrize(
    ("position", "corner"),
    [
        ("top-left", (0, 0)),
        ("top-right", (1, 0)),
        ("bottom-left", (0, 1)),
        ("center", (0.5, 0.5)),
        ("bottom", (0.5, 1)),
    ],
)
def test_anchors(tmp_path: Path, logo: Path, position: str, corner: tuple[float, float]) -> None:
    src = grey(tmp_path / "grey.png", (1000, 1000))
    stamp_image(
        src,
        tmp_path / "out.png",
        Style(text="", logo=logo, position=position, size=0.1, margin=0.02, opacity=1.0),
        FIELDS,
    )
    out = Image.open(tmp_path / "out.png")
    x = int(corner[0] * 880 + 60)
    y = int(corner[1] * 880 + 60)
    assert mean(out, (x - 30, y - 30, x + 30, y + 30)) > 200, position


def test_tiled_covers_the_whole_picture(tmp_path: Path, logo: Path) -> None:
    src = grey(tmp_path / "grey.png", (1200, 800), value=60)
    stamp_image(
        src, tmp_path / "out.png", Style(text="", logo=logo, position="tiled", size=0.08, opacity=0.5), FIELDS
    )
    out = Image.open(tmp_path / "out.png").convert("L")
    for bx in range(0, 1200, 400):
        for by in range(0, 800, 400):
            assert ImageStat.Stat(out.crop((bx, by, bx + 400, by + 400))).extrema[0][1] > 120, (bx, by)


def test_portrait_phone_photo_gets_the_mark_in_its_visual_corner(tmp_path: Path, logo: Path) -> None:
    # Stored landscape 1200x900, tagged "rotate 90 CW" (orientation 6): seen as 900x1200.
    stored = Image.new("RGB", (1200, 900), (128, 128, 128))
    exif = media.exif(orientation=6)
    src = tmp_path / "IMG_0001.jpg"
    stored.save(src, exif=exif, quality=95)
    stamp_image(
        src, tmp_path / "out.jpg", Style(text="", logo=logo, size=0.2, margin=0.05, opacity=1.0), FIELDS
    )
    out = Image.open(tmp_path / "out.jpg")
    assert out.size == (900, 1200), "written upright"
    assert 0x0112 not in out.getexif(), "the orientation tag is gone, so no viewer rotates it twice"
    assert mean(out, (900 - 45 - 150, 1200 - 45 - 150, 900 - 45 - 30, 1200 - 45 - 30)) > 240
    assert mean(out, (50, 50, 200, 200)) < 140


def test_metadata_is_kept(tmp_path: Path, logo: Path) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/></rdf:RDF></x:xmpmeta>'
    src = tmp_path / "p.jpg"
    media.scene(1000, 750, 3).save(
        src, quality=83, exif=media.exif(taken="2026:05:14 19:42:10"), icc_profile=icc, xmp=xmp
    )
    stamp_image(src, tmp_path / "out.jpg", Style(text="", logo=logo), FIELDS)
    a, b = Image.open(src), Image.open(tmp_path / "out.jpg")
    assert b.getexif()[0x0110] == "iPhone 15 Pro"
    assert b.getexif().get_ifd(0x8769)[0x9003] == "2026:05:14 19:42:10"
    assert b.info["icc_profile"] == icc
    assert b'xmp:Rating="5"' in b.info["xmp"]
    assert a.quantization == b.quantization, "same JPEG quality as the source"  # type: ignore[attr-defined]
    stamp_image(src, tmp_path / "q.jpg", Style(text="", logo=logo), FIELDS, ImageOptions(jpeg_quality=60))
    assert Image.open(tmp_path / "q.jpg").quantization != a.quantization  # type: ignore[attr-defined]


def test_copyright_fields_are_filled_when_asked(tmp_path: Path, logo: Path) -> None:
    src = media.jpeg(tmp_path / "p.jpg")
    options = ImageOptions(copyright="© 林美 (@lily.shoots)", artist="林美")
    stamp_image(src, tmp_path / "out.jpg", Style(text="", logo=logo), FIELDS, options)
    raw = (tmp_path / "out.jpg").read_bytes()
    assert "© 林美 (@lily.shoots)".encode() in raw
    xmp = Image.open(tmp_path / "out.jpg").info["xmp"]
    assert b"dc:rights" in xmp and "林美".encode() in xmp


def test_heic_in_heic_out(tmp_path: Path, logo: Path) -> None:
    src = media.heic(tmp_path / "IMG_0002.HEIC", size=(800, 600), taken="2026:05:15 08:01:44")
    result = stamp_image(src, tmp_path / "out.HEIC", Style(text="", logo=logo, opacity=1.0, size=0.2), FIELDS)
    assert result.format == "HEIF"
    media.register_heif()
    out = Image.open(tmp_path / "out.HEIC")
    assert out.format == "HEIF" and out.size == (800, 600)
    assert out.getexif().get_ifd(0x8769)[0x9003] == "2026:05:15 08:01:44"
    assert out.getexif()[0x0110] == "iPhone 15 Pro"


@pytest.mark.parametrize(
    ("name", "fmt", "save"),
    [
        ("a.png", "PNG", {}),
        ("a.webp", "WEBP", {"quality": 90}),
        ("a.tif", "TIFF", {"compression": "tiff_lzw"}),
        ("l.webp", "WEBP", {"lossless": True}),
    ],
)
def test_other_formats_keep_their_format(
    tmp_path: Path, logo: Path, name: str, fmt: str, save: dict[str, object]
) -> None:
    src = tmp_path / name
    media.scene(640, 480, 4).save(src, format=fmt, **save)  # type: ignore[arg-type]
    stamp_image(src, tmp_path / ("out-" + name), Style(text="", logo=logo), FIELDS)
    out = Image.open(tmp_path / ("out-" + name))
    assert out.format == fmt and out.size == (640, 480)
    if fmt == "TIFF":
        assert out.info["compression"] == "tiff_lzw"


def test_png_with_transparency_keeps_it(tmp_path: Path, logo: Path) -> None:
    src = tmp_path / "sticker.png"
    im = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse((50, 50, 350, 350), fill=(200, 30, 30, 255))
    im.save(src)
    stamp_image(src, tmp_path / "out.png", Style(text="", logo=logo, position="top-left"), FIELDS)
    out = Image.open(tmp_path / "out.png")
    assert out.mode == "RGBA" and out.getpixel((399, 0))[3] == 0


def test_animated_gif_is_stamped_on_every_frame_or_refused(tmp_path: Path, logo: Path) -> None:
    frames = [Image.new("RGB", (300, 200), (40 * i, 80, 120)) for i in range(4)]
    src = tmp_path / "loop.gif"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=[100, 120, 140, 160], loop=0)
    result = stamp_image(src, tmp_path / "out.gif", Style(text="", logo=logo, size=0.3, opacity=1.0), FIELDS)
    assert result.frames == 4
    out = Image.open(tmp_path / "out.gif")
    assert out.n_frames == 4 and out.info.get("loop") == 0
    durations = []
    for i in range(4):
        out.seek(i)
        durations.append(out.info["duration"])
        assert mean(out.convert("RGB"), (300 - 60, 200 - 60, 300 - 20, 200 - 20)) > 230, f"frame {i} stamped"
    assert durations == [100, 120, 140, 160]
    with pytest.raises(BadInput, match="animated"):
        stamp_image(
            src, tmp_path / "no.gif", Style(text="", logo=logo), FIELDS, ImageOptions(animated="refuse")
        )
    assert not (tmp_path / "no.gif").exists()


def png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = media.jpeg(tmp_path / "good.jpg", size=(800, 600))
    cases = {
        "truncated": (media.truncated(good, tmp_path / "cut.jpg", 0.4), "truncated or corrupt"),
        "random": (tmp_path / "noise.jpg", "not a picture"),
        "empty": (tmp_path / "empty.jpg", "empty file"),
        "bmp": (tmp_path / "old.bmp", "not supported"),
        "bomb": (tmp_path / "bomb.png", "decompression bomb"),
    }
    (tmp_path / "noise.jpg").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "empty.jpg").write_bytes(b"")
    Image.new("RGB", (10, 10)).save(tmp_path / "old.bmp")
    (tmp_path / "bomb.png").write_bytes(png_claiming(40000, 40000))
    return cases


def test_bad_inputs_raise_one_clear_error_and_write_nothing(tmp_path: Path, logo: Path) -> None:
    for label, (src, words) in bad_inputs(tmp_path).items():
        dst = tmp_path / "out" / src.name
        with pytest.raises(BadInput) as info:
            stamp_image(src, dst, Style(text="", logo=logo), FIELDS)
        message = str(info.value)
        assert words in message, (label, message)
        assert "\n" not in message and "Traceback" not in message
        assert not dst.exists(), label
    leftovers = list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else []
    assert leftovers == []


def test_pillow_limit_can_be_raised(tmp_path: Path, logo: Path) -> None:
    src = grey(tmp_path / "wide.png", (3000, 2000))
    with pytest.raises(BadInput, match="decompression bomb"):
        stamp_image(
            src, tmp_path / "a.png", Style(text="", logo=logo), FIELDS, ImageOptions(max_pixels=2_000_000)
        )
    stamp_image(
        src, tmp_path / "b.png", Style(text="", logo=logo), FIELDS, ImageOptions(max_pixels=7_000_000)
    )
    assert (tmp_path / "b.png").exists()


def test_logo_that_is_not_an_image(tmp_path: Path) -> None:
    fake = tmp_path / "logo.png"
    fake.write_text("not a png")
    src = grey(tmp_path / "g.jpg")
    with pytest.raises(WatermarkError, match=r"logo .*not an image"):
        stamp_image(src, tmp_path / "out.jpg", Style(text="", logo=fake), FIELDS)


def test_output_that_cannot_be_written(tmp_path: Path, logo: Path) -> None:
    src = grey(tmp_path / "g.jpg")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((WatermarkError, OSError)):
        stamp_image(src, blocker / "sub" / "out.jpg", Style(text="", logo=logo), FIELDS)


def test_stamped_jpeg_decodes_cleanly(tmp_path: Path, logo: Path) -> None:
    src = media.jpeg(tmp_path / "p.jpg", size=(640, 480))
    stamp_image(src, tmp_path / "out.jpg", Style(text="", logo=logo), FIELDS)
    Image.open(io.BytesIO((tmp_path / "out.jpg").read_bytes())).load()


def test_animated_webp_keeps_every_frame(tmp_path: Path, logo: Path) -> None:
    frames = [Image.new("RGB", (240, 160), (30 * i, 90, 150)) for i in range(3)]
    src = tmp_path / "loop.webp"
    frames[0].save(
        src, save_all=True, append_images=frames[1:], duration=[80, 90, 100], loop=0, lossless=True
    )
    result = stamp_image(src, tmp_path / "out.webp", Style(text="", logo=logo, size=0.3, opacity=1.0), FIELDS)
    out = Image.open(tmp_path / "out.webp")
    assert result.frames == 3 and out.n_frames == 3 and out.format == "WEBP"
    for i in range(3):
        out.seek(i)
        assert mean(out.convert("RGB"), (240 - 50, 160 - 50, 240 - 15, 160 - 15)) > 230, f"frame {i} stamped"
