"""What reposts do to a photo: each transformation takes an RGB picture and a random source
(for its parameters: crop position, JPEG quality, border colours) and returns the picture to
save, with the JPEG quality to save it at."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

Transform = Callable[[Any, random.Random], tuple[Any, int]]


def resize50(im: Any, rng: random.Random) -> tuple[Any, int]:
    return im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS), 85


def jpeg_low(im: Any, rng: random.Random) -> tuple[Any, int]:
    return im, rng.randint(40, 50)


def _font(size: int) -> Any:
    return ImageFont.load_default(size=size)


def replaced_watermark(im: Any, rng: random.Random) -> tuple[Any, int]:
    """The creator's corner mark covered by a blurred patch, the thief's handle stamped on."""
    out = im.copy()
    w, h = out.size
    pw, ph = w // 3, h // 8
    x = rng.choice((8, w - pw - 8))
    y = rng.choice((8, h - ph - 8))
    patch = out.crop((x, y, x + pw, y + ph)).resize((8, 2)).resize((pw, ph), Image.Resampling.BILINEAR)
    out.paste(patch, (x, y))
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    handle = rng.choice(("@reposter_daily", "@best.pics", "@viral_hub", "@wallpapers4u"))
    draw.text((x + 6, y + ph // 4), handle, font=_font(max(10, ph // 2)), fill=(255, 255, 255, 170))
    return Image.alpha_composite(out.convert("RGBA"), layer).convert("RGB"), 85


def brighter(im: Any, rng: random.Random) -> tuple[Any, int]:
    return ImageEnhance.Brightness(im).enhance(1.2), 85


def greyscale(im: Any, rng: random.Random) -> tuple[Any, int]:
    return ImageOps.grayscale(im).convert("RGB"), 85


def screenshot(im: Any, rng: random.Random) -> tuple[Any, int]:
    """The photo shown in an app on a phone screen: bars above and below, a status line and a
    caption, the photo scaled to the screen's width."""
    width = rng.choice((540, 720, 828))
    scale = width / im.width
    shown = im.resize((width, max(1, round(im.height * scale))), Image.Resampling.BILINEAR)
    height = max(round(width * rng.uniform(1.8, 2.2)), shown.height + 200)
    bg = rng.choice(((255, 255, 255), (0, 0, 0), (28, 28, 30), (242, 242, 247)))
    ink = (20, 20, 20) if sum(bg) > 384 else (235, 235, 235)
    canvas = Image.new("RGB", (width, height), bg)
    top = rng.randint(110, max(111, height - shown.height - 90))
    canvas.paste(shown, (0, top))
    draw = ImageDraw.Draw(canvas)
    draw.text((20, 12), f"9:{rng.randint(10, 59)}", font=_font(24), fill=ink)
    draw.text((20, top - 50), rng.choice(("lily.chen", "travelgram", "daily_pics")), font=_font(22), fill=ink)
    draw.text((20, top + shown.height + 20), "Liked by 1,204 others", font=_font(20), fill=ink)
    return canvas, 90


def mirrored(im: Any, rng: random.Random) -> tuple[Any, int]:
    return im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 85


def _crop(im: Any, rng: random.Random, share: float) -> Any:
    """Cut ``share`` of the width and of the height, split at random between the two sides."""
    w, h = im.size
    cw, ch = round(w * share), round(h * share)
    left, top = rng.randint(0, cw), rng.randint(0, ch)
    return im.crop((left, top, left + w - cw, top + h - ch))


def crop10(im: Any, rng: random.Random) -> tuple[Any, int]:
    return _crop(im, rng, 0.10), 85


def crop25(im: Any, rng: random.Random) -> tuple[Any, int]:
    return _crop(im, rng, 0.25), 85


def rotate5(im: Any, rng: random.Random) -> tuple[Any, int]:
    return im.rotate(rng.choice((-5, 5)), resample=Image.Resampling.BICUBIC), 85


def combo_resize_jpeg_mirror(im: Any, rng: random.Random) -> tuple[Any, int]:
    out, _ = resize50(im, rng)
    out, _ = mirrored(out, rng)
    return out, rng.randint(40, 50)


def combo_watermark_grey_bright(im: Any, rng: random.Random) -> tuple[Any, int]:
    out, _ = replaced_watermark(im, rng)
    out, _ = greyscale(out, rng)
    return brighter(out, rng)[0], 85


def combo_screenshot_mirror_jpeg(im: Any, rng: random.Random) -> tuple[Any, int]:
    out, _ = mirrored(im, rng)
    out, _ = brighter(out, rng)
    return screenshot(out, rng)[0], rng.randint(40, 50)


TRANSFORMS: dict[str, Transform] = {
    "resize 50%": resize50,
    "JPEG q40-50": jpeg_low,
    "replaced watermark": replaced_watermark,
    "brightness +20%": brighter,
    "greyscale": greyscale,
    "screenshot with borders": screenshot,
    "mirrored": mirrored,
    "resize+JPEG+mirrored": combo_resize_jpeg_mirror,
    "watermark+grey+brighter": combo_watermark_grey_bright,
    "screenshot+mirrored+brighter+JPEG": combo_screenshot_mirror_jpeg,
    "10% crop": crop10,
    "5-degree rotation": rotate5,
    "25% crop": crop25,
}

# The recall each transformation must reach (the targets).
TARGETS = {name: 0.98 for name in TRANSFORMS} | {
    "10% crop": 0.90,
    "5-degree rotation": 0.90,
    "25% crop": 0.70,
}


def apply(name: str, im: Any, rng: random.Random, path: Any) -> Any:
    """Apply one transformation and save the result as a JPEG at ``path``."""
    out, quality = TRANSFORMS[name](im, rng)
    out.save(path, format="JPEG", quality=quality)
    return path
