"""Render a ``Style`` once, for one picture size, to RGBA layers placed on the picture.

An anchored mark is one small layer, so stamping touches only the region it covers; a tiled
mark is one picture-sized layer of the mark repeated diagonally. Opacity is applied to the
layers' alpha here, once, not per picture or per frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from watermark.errors import WatermarkError
from watermark.style import Style

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class Layer:
    """An RGBA image (opacity applied) and where its top-left corner goes on the picture."""

    image: Image.Image
    x: int
    y: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.x + self.image.width, self.y + self.image.height)


@dataclass(frozen=True)
class Mark:
    """A style rendered for a picture of ``width`` x ``height`` pixels."""

    width: int
    height: int
    layers: tuple[Layer, ...]

    def overlay(self) -> Image.Image:
        """The whole mark as one picture-sized RGBA image (what a video overlays)."""
        from PIL import Image

        if len(self.layers) == 1 and self.layers[0].box == (0, 0, self.width, self.height):
            return self.layers[0].image
        canvas = Image.new("RGBA", (self.width, self.height), (0, 0, 0, 0))
        for layer in self.layers:
            canvas.alpha_composite(layer.image, (layer.x, layer.y))
        return canvas


def contrast(color: tuple[int, int, int]) -> tuple[int, int, int, int]:
    """Black outline for a light mark, white for a dark one."""
    r, g, b = color
    light = 0.299 * r + 0.587 * g + 0.114 * b > 140
    return (0, 0, 0, 255) if light else (255, 255, 255, 255)


def load_logo(path: Path) -> Image.Image:
    """The logo as RGBA; ``WatermarkError`` naming the file if it is missing or not a picture."""
    try:
        st = path.stat()
    except OSError as exc:
        raise WatermarkError(f"logo {path}: no such file") from exc
    return _load_logo(path, st.st_mtime_ns, st.st_size)  # a changed logo is read again


@lru_cache(maxsize=8)
def _load_logo(path: Path, mtime_ns: int, size: int) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            rgba: Image.Image = im.convert("RGBA")
            return rgba
    except FileNotFoundError as exc:
        raise WatermarkError(f"logo {path}: no such file") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise WatermarkError(f"logo {path}: not an image ({exc})") from exc


def _scaled(im: Image.Image, height: int) -> Image.Image:
    from PIL import Image

    height = max(1, height)
    width = max(1, round(im.width * height / im.height))
    return im.resize((width, height), Image.Resampling.LANCZOS)


def _with_opacity(im: Image.Image, opacity: float) -> Image.Image:
    if opacity >= 1.0:
        return im
    alpha = im.getchannel("A").point(lambda a: round(a * opacity))
    out = im.copy()
    out.putalpha(alpha)
    return out


@lru_cache(maxsize=32)
def _body(style: Style, text: str, height: int) -> Image.Image:
    """The mark itself, ``height`` pixels tall: logo, then text, side by side; opacity applied."""
    from PIL import Image

    parts: list[Image.Image] = []
    if style.logo is not None:
        parts.append(_scaled(load_logo(style.logo), height))
    if text.strip():
        from watermark.fonts import find_fonts
        from watermark.text import render_text

        fonts = find_fonts(text, style.font)
        rendered = render_text(
            text, height, fonts=fonts, fill=(*style.color, 255), outline=contrast(style.color)
        )
        if rendered.height > height * 1.5 or rendered.height < height * 0.5:
            rendered = _scaled(rendered, height)
        parts.append(rendered)
    gap = round(height * 0.3) if len(parts) > 1 else 0
    width = sum(p.width for p in parts) + gap * (len(parts) - 1)
    tall = max(p.height for p in parts)
    body = Image.new("RGBA", (width, tall), (0, 0, 0, 0))
    x = 0
    for p in parts:
        body.alpha_composite(p, (x, (tall - p.height) // 2))
        x += p.width + gap
    return _with_opacity(body, style.opacity)


def _anchor(position: str, free_x: int, free_y: int, margin: int) -> tuple[int, int]:
    vertical, _, horizontal = position.partition("-")
    if position in ("left", "right"):
        vertical, horizontal = "center", position
    elif position in ("top", "bottom"):
        horizontal = "center"
    elif position == "center":
        vertical = horizontal = "center"
    x = {"left": margin, "center": free_x // 2, "right": free_x - margin}[horizontal]
    y = {"top": margin, "center": free_y // 2, "bottom": free_y - margin}[vertical]
    return x, y


def render_mark(style: Style, size: tuple[int, int], fields: Mapping[str, str]) -> Mark:
    """Render ``style`` for a picture of ``size`` = (width, height)."""
    return _render(style, size, style.expand(fields))


@lru_cache(maxsize=16)
def _render(style: Style, size: tuple[int, int], text: str) -> Mark:
    from PIL import Image

    width, height = size
    if width < 1 or height < 1:
        raise WatermarkError(f"cannot mark a picture of {width}x{height} pixels")
    short = min(width, height)
    mark_h = max(6, round(style.size * short))
    margin = round(style.margin * short)
    body = _body(style, text, mark_h)
    if style.position != "tiled":
        room = max(1, width - 2 * margin)
        if body.width > room:  # a long name on a narrow picture: shrink to fit
            body = _scaled(body, max(1, body.height * room // body.width))
        x, y = _anchor(style.position, width - body.width, height - body.height, margin)
        return Mark(width, height, (Layer(body, max(0, x), max(0, y)),))
    tile = body.rotate(style.tile_angle, resample=Image.Resampling.BICUBIC, expand=True)
    gap = round(style.tile_gap * mark_h)
    step_x, step_y = tile.width + gap, tile.height + gap
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    for row, y in enumerate(range(-tile.height // 2, height, step_y)):
        shift = (step_x // 2) * (row % 2)
        for x in range(-tile.width // 2 - shift, width, step_x):
            _paste(overlay, tile, x, y)
    return Mark(width, height, (Layer(overlay, 0, 0),))


def _paste(canvas: Image.Image, tile: Image.Image, x: int, y: int) -> None:
    """alpha_composite ``tile`` at (x, y), clipped to the canvas (which may cut it)."""
    left, top = max(0, x), max(0, y)
    right, bottom = min(canvas.width, x + tile.width), min(canvas.height, y + tile.height)
    if right <= left or bottom <= top:
        return
    piece = tile.crop((left - x, top - y, right - x, bottom - y))
    canvas.alpha_composite(piece, (left, top))
