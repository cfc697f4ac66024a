"""Built-in sample content, generated on the spot: photos (JPEG with camera EXIF, a portrait
one with an orientation tag, PNG, HEIC), a short video with sound, and the captions, subtitles
and data exports a creator keeps beside them."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Any

SAMPLE_FILES = (
    "2026-05 Beach/sunset.jpg",
    "2026-05 Beach/portrait.jpg",
    "2026-05 Beach/dunes.heic",
    "2026-05 Beach/caption.txt",
    "2026-06 Studio/flatlay.png",
    "2026-06 Studio/teaser.mp4",
    "2026-06 Studio/teaser.srt",
    "Exports/fans-2026-06.csv",
)


def scene(width: int, height: int, seed: int) -> Any:
    """A photo-like picture: sky gradient, sun, hills and a little sensor noise."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    top = (rng.randint(20, 90), rng.randint(60, 140), rng.randint(150, 230))
    bottom = (rng.randint(200, 255), rng.randint(120, 200), rng.randint(60, 140))
    sky = Image.linear_gradient("L").resize((width, height))
    im = Image.composite(
        Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top), sky
    )
    draw = ImageDraw.Draw(im)
    r = min(width, height) // rng.randint(6, 10)
    cx, cy = rng.randint(r, width - r), rng.randint(r, height // 2)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 230, 160))
    for layer in range(3):
        base = height * (0.55 + 0.12 * layer)
        shade = (30 + 30 * layer, 70 + 25 * layer + rng.randint(0, 40), 40 + 10 * layer)
        points = [(0, height)]
        for x in range(0, width + 1, max(1, width // 12)):
            points.append((x, int(base + rng.uniform(-0.08, 0.08) * height)))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    im = im.filter(ImageFilter.GaussianBlur(radius=max(1, width // 800)))
    noise = Image.effect_noise((width, height), 18).convert("RGB")
    return Image.blend(im, noise, 0.06)


def _exif(make: str, model: str, taken: str, orientation: int = 1) -> Any:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0112] = orientation
    exif[0x013B] = "Lily Chen"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = taken
    sub[0x9011] = "+08:00"
    return exif


def make_video(path: Path, seconds: float = 3.0, size: str = "640x360", extra: tuple[str, ...] = ()) -> None:
    """A short H.264 video with an AAC sound track, through the bundled ffmpeg."""
    from inventory.media.ffmpeg import ffmpeg_exe

    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        ffmpeg_exe(), "-y", "-hide_banner", "-v", "error", "-nostdin",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-metadata", "creation_time=2026-06-02T09:30:00Z", *extra, "-shortest", str(path),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg could not make {path}: {proc.stderr.strip()[-300:]}")


def build(folder: Path) -> list[Path]:
    """Write the sample files under ``folder``; return their paths."""

    from inventory.media.heif import register_heif

    made: list[Path] = []

    def out(rel: str) -> Path:
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        made.append(p)
        return p

    scene(1600, 1200, 1).save(
        out("2026-05 Beach/sunset.jpg"),
        quality=90,
        exif=_exif("Apple", "iPhone 15 Pro", "2026:05:14 19:42:10"),
    )
    # Stored landscape, tagged "rotate 90 CW": a portrait photo as phones write them.
    scene(1200, 900, 2).save(
        out("2026-05 Beach/portrait.jpg"),
        quality=90,
        exif=_exif("Apple", "iPhone 15 Pro", "2026:05:14 19:50:03", 6),
    )
    register_heif()
    scene(1024, 768, 3).save(
        out("2026-05 Beach/dunes.heic"),
        quality=80,
        exif=_exif("Apple", "iPhone 15 Pro", "2026:05:15 08:01:44"),
    )
    out("2026-05 Beach/caption.txt").write_text(
        "Golden hour at the dunes 🌅 #beach #sunset\n黄金时刻 — 海边日落\n", encoding="utf-8"
    )
    scene(1080, 1080, 4).save(out("2026-06 Studio/flatlay.png"), optimize=False)
    make_video(out("2026-06 Studio/teaser.mp4"))
    out("2026-06 Studio/teaser.srt").write_text(
        "1\n00:00:00,000 --> 00:00:02,500\nNew drop this Friday!\n", encoding="utf-8"
    )
    out("Exports/fans-2026-06.csv").write_text(
        "date,followers,likes,revenue_usd\n2026-06-01,12840,3310,412.50\n2026-06-02,12911,2987,398.10\n",
        encoding="utf-8",
    )
    return made
