"""Fonts for a mark's text, and the text rendered once to RGBA: Latin, Chinese, emoji, several
lines, outlines; characters no font has are an error, never boxes.

These tests need system fonts. Where one is missing they skip, naming what to install, except
in CI (env CI set), where they fail: `.ci/system-deps` installs them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from PIL import Image

from watermark import fonts as fontmod
from watermark.errors import MissingGlyphs, WatermarkError
from watermark.fonts import Folders, find_fonts, font_face
from watermark.text import render_text

INSTALL = {
    "latin": "a Latin sans font (Debian/Ubuntu: apt-get install fonts-dejavu-core)",
    "cjk": "a CJK font (Debian/Ubuntu: apt-get install fonts-noto-cjk; macOS and Windows have one)",
    "emoji": "a colour emoji font (Debian/Ubuntu: apt-get install fonts-noto-color-emoji; "
    "macOS and Windows have one)",
}
NOBODY_HAS = "\U0010fffd"  # last private-use code point of plane 16: no real font draws it
CJK = "林美的相机"
EMOJI = "🌸📸"


def missing_font(what: str, detail: str) -> NoReturn:
    message = f"{INSTALL[what]} is needed: {detail}; `.ci/system-deps` installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def fonts_for(text: str, what: str) -> list[Path]:
    try:
        return find_fonts(text)
    except MissingGlyphs as exc:
        missing_font(what, str(exc))


def link(target: Path, path: Path) -> None:
    try:
        path.symlink_to(target)
    except OSError:  # Windows without the right to make symbolic links
        shutil.copyfile(target, path)


@pytest.fixture
def latin() -> Path:
    return fonts_for("Keepmark", "latin")[0]


@pytest.fixture
def cjk() -> Path:
    chain = fonts_for(CJK, "cjk")
    return next(p for p in chain if font_face(p).covers("林"))


@pytest.fixture
def emoji() -> Path:
    chain = fonts_for(EMOJI, "emoji")
    colour = [p for p in chain if font_face(p).color and font_face(p).covers("🌸")]
    if not colour:
        missing_font("emoji", f"only {chain} have {EMOJI!r}, none in colour")
    return colour[0]


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Forget every font found so far, before and after the test."""
    fontmod._find_fonts.cache_clear()
    fontmod._face_or_none.cache_clear()
    yield
    fontmod._find_fonts.cache_clear()
    fontmod._face_or_none.cache_clear()


def pixels(im: Image.Image) -> list[tuple[int, int, int, int]]:
    assert im.mode == "RGBA"
    data = im.tobytes()
    return [(data[i], data[i + 1], data[i + 2], data[i + 3]) for i in range(0, len(data), 4)]


def ink_rows(im: Image.Image) -> list[tuple[int, int]]:
    """Bands of rows that have any visible pixel: (first row, last row + 1) of each."""
    alpha = im.getchannel("A")
    bands: list[tuple[int, int]] = []
    start = None
    for y in range(im.height):
        visible = alpha.crop((0, y, im.width, y + 1)).getbbox() is not None
        if visible and start is None:
            start = y
        if not visible and start is not None:
            bands.append((start, y))
            start = None
    if start is not None:
        bands.append((start, im.height))
    return bands


# --- Latin text, outline, size, lines ------------------------------------------------------


def test_ascii_has_an_opaque_core_an_outline_and_a_transparent_background(latin: Path) -> None:
    im = render_text("Keepmark @anna", 64, fonts=[latin])
    px = pixels(im)
    assert sum(p == (255, 255, 255, 255) for p in px) > 200, "no opaque white glyph core"
    assert sum(p == (0, 0, 0, 255) for p in px) > 200, "no opaque black outline"
    assert sum(p[3] == 0 for p in px) > len(px) // 5, "background is not transparent"
    # Tight: some ink touches each edge (outline included), nothing is cut off.
    assert im.getchannel("A").getbbox() is not None
    box = im.getchannel("A").getbbox()
    assert box is not None and box[0] <= 1 and box[2] >= im.width - 1


def test_colours_are_the_ones_asked_for(latin: Path) -> None:
    im = render_text("Keepmark", 48, fonts=[latin], fill=(200, 30, 30, 255), outline=(255, 255, 0, 255))
    px = pixels(im)
    assert (200, 30, 30, 255) in px and (255, 255, 0, 255) in px
    assert (255, 255, 255, 255) not in px and (0, 0, 0, 255) not in px


def test_no_outline(latin: Path) -> None:
    im = render_text("Keepmark", 48, fonts=[latin], outline=None)
    px = pixels(im)
    assert (255, 255, 255, 255) in px
    assert all(p[:3] == (255, 255, 255) for p in px if p[3] > 0), "an outline was drawn"


def test_the_outline_grows_with_the_text(latin: Path) -> None:
    def outline_width(height: int) -> float:
        im = render_text("I", height, fonts=[latin])
        middle = pixels(im.crop((0, im.height // 2, im.width, im.height // 2 + 1)))
        black = sum(p == (0, 0, 0, 255) for p in middle)
        assert black >= 2, "no outline on both sides of an I"
        return black / 2

    thin, thick = outline_width(40), outline_width(200)
    assert thin >= 1
    assert 3 <= thick / thin <= 7, (thin, thick)


@pytest.mark.parametrize("height", [12, 48, 100, 300])
def test_height_is_about_height_px(latin: Path, height: int) -> None:
    im = render_text("Keepmark Ågy", height, fonts=[latin])
    assert abs(im.height - height) <= max(2, height * 0.05), im.size


def test_several_lines_are_stacked_centred_and_fit_the_height(latin: Path) -> None:
    im = render_text("a much wider first line\nmid\nI", 150, fonts=[latin])
    assert abs(im.height - 150) <= 8, im.size
    bands = ink_rows(im)
    assert len(bands) == 3, bands
    centres = []
    for top, bottom in bands:
        box = im.getchannel("A").crop((0, top, im.width, bottom)).getbbox()
        assert box is not None
        centres.append((box[0] + box[2]) / 2)
    assert max(centres) - min(centres) <= 3, centres
    one = render_text("a much wider first line", 50, fonts=[latin])
    assert abs(one.width - im.width) <= 0.1 * im.width, "lines of the same size should be as wide"


def test_empty_text_is_an_error(latin: Path) -> None:
    for text in ("", "  \n \t", "\u200d\ufe0f"):
        with pytest.raises(WatermarkError, match="empty"):
            render_text(text, 40, fonts=[latin])


# --- finding fonts -------------------------------------------------------------------------


def test_plain_ascii_opens_one_or_two_fonts_only(fresh_caches: None, latin: Path) -> None:
    # The latin fixture has just looked fonts up: forget them again.
    fontmod._find_fonts.cache_clear()
    fontmod._face_or_none.cache_clear()
    assert find_fonts("Plain text, 2024 (ASCII) @anna_b") == [latin]
    assert fontmod._face_or_none.cache_info().currsize <= 2


def test_the_chain_is_latin_first_then_cjk_then_colour_emoji(latin: Path, cjk: Path, emoji: Path) -> None:
    chain = find_fonts(f"@lin {CJK} {EMOJI} 2024")
    assert chain[0] == latin
    assert cjk in chain
    assert chain[-1] == emoji
    assert not any(font_face(p).color for p in chain[:-1])


def test_a_character_no_font_has_is_named(latin: Path) -> None:
    with pytest.raises(MissingGlyphs) as caught:
        find_fonts(f"anna {NOBODY_HAS} x")
    assert caught.value.characters == NOBODY_HAS
    assert "U+10FFFD" in str(caught.value)
    # The renderer refuses it too, rather than drawing a box.
    with pytest.raises(MissingGlyphs) as caught2:
        render_text(f"anna {NOBODY_HAS}", 40, fonts=[latin])
    assert caught2.value.characters == NOBODY_HAS


def test_invisible_characters_need_no_glyph(latin: Path) -> None:
    assert find_fonts("an\u200dna\ufe0f\u200b\t end\n") == [latin]
    render_text("an\u200dna\ufe0f\u200b\tend", 30, fonts=[latin])


def test_preferred_font_comes_first_and_is_used(latin: Path, cjk: Path) -> None:
    chain = find_fonts("Anna", preferred=cjk)
    assert chain == [cjk], "a CJK font has Latin letters: nothing else is needed"
    chain = find_fonts(f"Anna {CJK}", preferred=latin)
    assert chain[0] == latin and cjk in chain
    with_cjk = render_text("Anna", 60, fonts=[cjk, latin])
    with_latin = render_text("Anna", 60, fonts=[latin, cjk])
    assert with_cjk.tobytes() != with_latin.tobytes(), "the first font was not the one used"


def test_preferred_font_that_does_not_exist(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "MyBrand.ttf"
    with pytest.raises(WatermarkError, match=re.escape(str(path))):
        find_fonts("Anna", preferred=path)


def test_preferred_font_that_is_not_a_font(tmp_path: Path) -> None:
    path = tmp_path / "notes.ttf"
    path.write_text("not a font\n" * 10)
    with pytest.raises(WatermarkError, match="not a usable font"):
        find_fonts("Anna", preferred=path)
    with pytest.raises(WatermarkError, match=r"notes\.ttf"):
        render_text("Anna", 40, fonts=[path])


def test_font_folders_without_fontconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_caches: None, latin: Path, cjk: Path
) -> None:
    """The macOS/Windows way: files in folders, ranked by name, opened until one fits."""
    folder = tmp_path / "Fonts"
    (folder / "sub").mkdir(parents=True)
    link(latin, folder / "Arial.ttf")
    link(cjk, folder / "sub" / f"msyh{cjk.suffix}")
    link(cjk, folder / "LastResort.otf")  # draws boxes for everything: never used
    (folder / "Broken.ttf").write_bytes(b"\0" * 64)
    (folder / "readme.txt").write_text("hi")
    source = Folders([folder, tmp_path / "absent"])
    assert sorted(p.name for p in source.files) == sorted(["Arial.ttf", "Broken.ttf", f"msyh{cjk.suffix}"])
    monkeypatch.setattr(fontmod, "system_fonts", lambda: source)
    assert find_fonts("Anna") == [folder / "Arial.ttf"]
    assert find_fonts(f"Anna {CJK}") == [folder / "Arial.ttf", folder / "sub" / f"msyh{cjk.suffix}"]
    with pytest.raises(MissingGlyphs, match=re.escape(str(folder))):
        find_fonts(EMOJI)


# --- CJK and emoji -------------------------------------------------------------------------


def test_chinese_account_name_renders_real_glyphs(latin: Path, cjk: Path) -> None:
    chain = find_fonts(CJK)
    assert all(any(font_face(p).covers(ch) for p in chain) for ch in CJK)
    im = render_text(CJK, 80, fonts=chain)
    assert abs(im.height - 80) <= 4
    assert sum(p == (255, 255, 255, 255) for p in pixels(im)) > 500
    assert im.width > 3 * im.height, "five ideographs side by side"
    # Distinct characters give distinct glyphs: not one "missing glyph" box repeated.
    shapes = {render_text(ch, 60, fonts=chain, outline=None).tobytes() for ch in CJK}
    assert len(shapes) == len(CJK)
    # A Latin font alone has none of them: an error, never boxes.
    with pytest.raises(MissingGlyphs) as caught:
        render_text(CJK, 80, fonts=[latin])
    assert set(caught.value.characters) == set(CJK)


def test_emoji_render_in_colour(emoji: Path) -> None:
    chain = find_fonts(f"anna {EMOJI}")
    assert emoji in chain
    im = render_text(f"anna {EMOJI}", 90, fonts=chain)
    assert abs(im.height - 90) <= 6, im.size
    coloured = [p for p in pixels(im) if p[3] > 200 and max(p[:3]) - min(p[:3]) > 60]
    assert len(coloured) > 300, "the emoji are not in colour"
    alone = render_text(EMOJI, 90, fonts=chain, outline=None)
    assert alone.width > alone.height, "two emoji side by side"


def test_emoji_sequences_and_mixed_scripts(cjk: Path, emoji: Path) -> None:
    text = f"{CJK} 📸\n@linmei ❤️ 👍🏽 👨\u200d👩\u200d👧"
    im = render_text(text, 160, fonts=find_fonts(text))
    assert len(ink_rows(im)) == 2
    assert abs(im.height - 160) <= 8, im.size


def test_fonts_are_loaded_once(latin: Path) -> None:
    from watermark import text as textmod

    render_text("Keepmark", 57, fonts=[latin])
    before = textmod._font.cache_info().misses
    render_text("Keepmark", 57, fonts=[latin])
    assert textmod._font.cache_info().misses == before
