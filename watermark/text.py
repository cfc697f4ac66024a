"""Render a mark's text once to a tight RGBA image.

Each character is drawn with the first font of the chain (``watermark.fonts.find_fonts``) that
has it, so a line is split into runs, one per font, drawn one after the other on a common
baseline. Colour emoji fonts are drawn with their embedded colours; bitmap ones (Noto Color
Emoji's CBDT, Apple Color Emoji's sbix) only load at their own pixel sizes, so their runs are
drawn at that size and scaled to the line. An outline in the contrasting colour keeps the text
legible on any background: every outline is drawn before any fill, so one run's outline never
covers the next run's letters.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from watermark.errors import MissingGlyphs, WatermarkError
from watermark.fonts import FontFace, font_face, is_invisible, is_optional, pick, wants_color

if TYPE_CHECKING:
    from PIL import Image, ImageFont

OUTLINE = 0.07  # outline width, a fraction of the line height
LINE_GAP = 0.12  # space between lines, a fraction of the line height
REFERENCE_SIZE = 100  # font size at which the layout is measured before it is scaled

RGBA = tuple[int, int, int, int]


@lru_cache(maxsize=64)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """One loaded font at one pixel size; fonts are read once per process and size."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype(str(path), size, index=0)
    except OSError as exc:
        raise WatermarkError(f"font {path}: cannot be loaded at {size} px ({exc})") from exc


def _native_size(face: FontFace, size: int) -> int:
    """The size a font is loaded at to draw text ``size`` pixels tall: the size itself for an
    outline font, else the smallest bitmap strike at least that big (or the biggest)."""
    if not face.strikes:
        return size
    bigger = [s for s in face.strikes if s >= size]
    return bigger[0] if bigger else face.strikes[-1]


@dataclass(frozen=True)
class _Run:
    """Characters drawn with one font."""

    face: FontFace
    text: str

    @property
    def scaled(self) -> bool:
        """Drawn apart at the font's own size and scaled: colour and bitmap fonts."""
        return self.face.color or bool(self.face.strikes)


def _split(line: str, faces: Sequence[FontFace], missing: dict[str, None]) -> list[_Run]:
    """Cut a line into runs, each character with the first font that has it. Joiners,
    selectors, modifiers and marks stay in the run before them when its font has them (so the
    font can shape an emoji sequence); spaces go with text fonts (an emoji font's are too wide);
    invisible characters no font has are left out; characters no font has are added to
    ``missing``."""
    text_faces = [f for f in faces if not (f.color or f.strikes)]
    runs: list[tuple[FontFace, list[str]]] = []
    for i, ch in enumerate(line):
        current = runs[-1][0] if runs else None
        face: FontFace | None
        if ch.isspace():
            if current is not None and current in text_faces and current.covers(ch) and ch != "\t":
                face = current
            else:
                face = pick(text_faces, ch, False) if ch != "\t" else None
                if face is None:
                    ch = " "
                    face = pick(text_faces, ch, False) or pick(faces, ch, False)
        elif is_invisible(ch) or is_optional(ch) or unicodedata.category(ch) in ("Mn", "Me", "Mc"):
            if current is not None and current.covers(ch):
                face = current
            elif is_invisible(ch) or is_optional(ch):
                face = None  # nothing to draw
            else:
                face = pick(faces, ch, False)
                if face is None:
                    missing[ch] = None
        else:
            face = pick(faces, ch, wants_color(line, i))
            if face is None:
                missing[ch] = None
        if face is None:
            continue
        if face is current:
            runs[-1][1].append(ch)
        else:
            runs.append((face, [ch]))
    return [_Run(face, "".join(chars)) for face, chars in runs]


@dataclass(frozen=True)
class _Placed:
    """A run measured at one size: where it starts on its line and how far it goes."""

    run: _Run
    x: float  # pen position of the run's origin, from the line's origin
    advance: float
    ascent: float
    descent: float
    native: int  # size the font is loaded at
    scale: float  # native size -> drawn size


@dataclass(frozen=True)
class _Line:
    placed: tuple[_Placed, ...]
    ascent: float
    descent: float


def _measure(lines: list[list[_Run]], faces: Sequence[FontFace], size: int) -> list[_Line]:
    """Pen positions and vertical metrics of every run at font size ``size``."""
    out = []
    blank_asc, blank_desc = _font(faces[0].path, _native_size(faces[0], size)).getmetrics()
    blank_scale = size / _native_size(faces[0], size)
    for runs in lines:
        x = 0.0
        placed = []
        for run in runs:
            native = _native_size(run.face, size) if run.scaled else size
            scale = size / native
            font = _font(run.face.path, native)
            asc, desc = font.getmetrics()
            advance = font.getlength(run.text) * scale
            placed.append(_Placed(run, x, advance, asc * scale, desc * scale, native, scale))
            x += advance
        if placed:
            out.append(_Line(tuple(placed), max(p.ascent for p in placed), max(p.descent for p in placed)))
        else:
            out.append(_Line((), blank_asc * blank_scale, blank_desc * blank_scale))
    return out


@dataclass(frozen=True)
class _Layout:
    lines: list[_Line]
    stroke: int
    gap: int
    boxes: list[tuple[int, int, int, int]]  # each line's ink box around its baseline origin

    @property
    def width(self) -> int:
        return max((b[2] - b[0] for b in self.boxes), default=0)

    @property
    def height(self) -> int:
        return sum(b[3] - b[1] for b in self.boxes) + self.gap * (len(self.boxes) - 1)


def _layout(lines: list[list[_Run]], faces: Sequence[FontFace], size: int, outlined: bool) -> _Layout:
    measured = _measure(lines, faces, size)
    line_h = max(line.ascent + line.descent for line in measured)
    stroke = max(1, round(OUTLINE * line_h)) if outlined else 0
    gap = round(LINE_GAP * line_h)
    boxes = []
    for line in measured:
        left, right = math.inf, -math.inf
        top, bottom = -line.ascent - stroke, line.descent + stroke
        for p in line.placed:
            if p.run.scaled:
                box = (0.0, -p.ascent, p.advance, p.descent)
                box = (box[0] - stroke, box[1] - stroke, box[2] + stroke, box[3] + stroke)
            else:
                font = _font(p.run.face.path, size)
                box = font.getbbox(p.run.text, anchor="ls", stroke_width=stroke)
            if box[2] > box[0]:
                left, right = min(left, p.x + box[0]), max(right, p.x + box[2])
            top, bottom = min(top, box[1]), max(bottom, box[3])
        if left > right:  # nothing visible: a blank line
            left = right = 0.0
        boxes.append((math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom)))
    return _Layout(measured, stroke, gap, boxes)


def _fit(lines: list[list[_Run]], faces: Sequence[FontFace], height_px: int, outlined: bool) -> _Layout:
    """The layout whose height is closest to ``height_px``: measured at a reference size, scaled
    (sizes are close to proportional), then corrected once for rounding."""
    reference = _layout(lines, faces, REFERENCE_SIZE, outlined)
    size = max(1, round(REFERENCE_SIZE * height_px / reference.height))
    best = _layout(lines, faces, size, outlined)
    if best.height != height_px:
        size2 = max(1, round(size * height_px / best.height))
        if size2 != size:
            other = _layout(lines, faces, size2, outlined)
            if abs(other.height - height_px) < abs(best.height - height_px):
                best = other
    return best


def _scaled_run(p: _Placed) -> Image.Image:
    """A colour or bitmap run drawn at its font's own size, scaled to the line."""
    from PIL import Image, ImageDraw

    font = _font(p.run.face.path, p.native)
    asc, desc = font.getmetrics()
    width = max(1, math.ceil(font.getlength(p.run.text)))
    im = Image.new("RGBA", (width, asc + desc), (0, 0, 0, 0))
    ImageDraw.Draw(im).text((0, asc), p.run.text, font=font, anchor="ls", embedded_color=p.run.face.color)
    if p.scale != 1:
        size = (max(1, round(im.width * p.scale)), max(1, round(im.height * p.scale)))
        im = im.resize(size, Image.Resampling.LANCZOS)
    return im


def _halo(im: Image.Image, stroke: int, color: RGBA) -> Image.Image:
    """An outline for a picture-like run: its shape grown by ``stroke`` pixels, in ``color``.
    The result is ``stroke`` pixels bigger than ``im`` on every side. The shape grows one pixel
    a step, alternately to the 8 and the 4 neighbours, so corners come out rounded (octagons);
    each step is a few whole-image operations, fast at any size."""
    from PIL import Image, ImageChops, ImageFilter

    alpha = Image.new("L", (im.width + 2 * stroke, im.height + 2 * stroke), 0)
    alpha.paste(im.getchannel("A"), (stroke, stroke))
    for step in range(stroke):
        if step % 2:
            alpha = alpha.filter(ImageFilter.MaxFilter(3))
        else:
            grown = alpha
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                # offset wraps around, but the border it brings in is the empty padding
                grown = ImageChops.lighter(grown, ImageChops.offset(alpha, dx, dy))
            alpha = grown
    if color[3] != 255:
        alpha = alpha.point(lambda v: v * color[3] // 255)
    halo = Image.new("RGBA", alpha.size, (*color[:3], 0))
    halo.putalpha(alpha)
    return halo


def render_text(
    text: str,
    height_px: int,
    *,
    fonts: Sequence[Path],
    fill: tuple[int, int, int, int] = (255, 255, 255, 255),
    outline: tuple[int, int, int, int] | None = (0, 0, 0, 255),
) -> Image.Image:
    """``text`` (one or more lines, separated by "\\n") drawn centred in a tight RGBA image
    about ``height_px`` pixels tall, on a fully transparent background.

    Each character is drawn with the first font of ``fonts`` that has it (an emoji with the
    first colour font that has it). ``outline`` (``None`` for none) is drawn around every
    glyph, about 7% of the line height wide. Raises WatermarkError for empty text or a font
    that cannot be used, and MissingGlyphs for characters none of ``fonts`` has.
    """
    from PIL import Image, ImageDraw

    if height_px < 1:
        raise WatermarkError(f"text height must be at least 1 pixel, not {height_px}")
    if not any(not is_invisible(ch) for ch in text):
        raise WatermarkError("the mark's text is empty")
    if not fonts:
        raise WatermarkError("no font to draw the mark's text with")
    faces = [font_face(Path(p)) for p in fonts]

    rows = [row.strip() for row in text.splitlines()]  # centred on what is visible
    while rows and all(is_invisible(ch) for ch in rows[0]):
        rows.pop(0)
    while rows and all(is_invisible(ch) for ch in rows[-1]):
        rows.pop()
    missing: dict[str, None] = {}
    lines = [_split(row, faces, missing) for row in rows]
    if missing:
        raise MissingGlyphs("".join(missing), searched=", ".join(str(p) for p in fonts))

    layout = _fit(lines, faces, height_px, outline is not None)
    stroke = layout.stroke
    canvas = Image.new("RGBA", (max(1, layout.width), max(1, layout.height)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    pictures: list[tuple[Image.Image, int, int]] = []
    fills: list[tuple[float, float, _Placed]] = []
    top = 0
    for line, (left, upper, right, lower) in zip(layout.lines, layout.boxes, strict=True):
        ox = (layout.width - (right - left)) / 2 - left  # centred on the widest line
        baseline = top - upper
        for p in line.placed:
            x = ox + p.x
            if p.run.scaled:
                im = _scaled_run(p)
                px, py = round(x), round(baseline - p.ascent)
                if outline is not None:
                    canvas.alpha_composite(
                        _halo(im, stroke, outline), (max(0, px - stroke), max(0, py - stroke))
                    )
                pictures.append((im, px, py))
            else:
                if outline is not None:
                    font = _font(p.run.face.path, p.native)
                    draw.text(
                        (x, baseline),
                        p.run.text,
                        font=font,
                        anchor="ls",
                        fill=outline,
                        stroke_width=stroke,
                        stroke_fill=outline,
                    )
                fills.append((x, baseline, p))
        top += lower - upper + layout.gap
    # Fills after every outline, so that no run's outline covers another run's letters.
    for fx, fy, p in fills:
        draw.text((fx, fy), p.run.text, font=_font(p.run.face.path, p.native), anchor="ls", fill=fill)
    for im, px, py in pictures:
        canvas.alpha_composite(im, (max(0, px), max(0, py)))
    # Tight on the sides; top and bottom keep the lines' boxes, so that texts of one size
    # make marks of one height whatever their letters.
    ink = canvas.getchannel("A").getbbox()
    if ink is not None and (ink[0] > 0 or ink[2] < canvas.width):
        canvas = canvas.crop((ink[0], 0, ink[2], canvas.height))
    return canvas
