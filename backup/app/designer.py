"""The watermark designer (the app's Watermark page): a profile's ``[watermark]`` as a form, a
preview of it on the creator's own photos and a video's first frame, a logo upload, and saving
the form back into the profile file.

The preview is drawn by the code that stamps (``backup.app.stamp.style_of`` for the style,
``watermark.image.mark_picture`` for the mark on the picture, ``watermark.video_graph.
credits_card`` for the credits): on a picture already scaled to the screen (the library's
1280-pixel thumbnail of a photo, a video's first frame scaled by ffmpeg), kept decoded in memory
so a change costs one mark and one JPEG encode. A mark's sizes and margins are fractions of the
picture's short side, so it looks the same on the scaled picture as on the full-size copy.

Saving checks the form as ``backup profile check`` checks a profile: the whole file parsed with
the new section (every problem naming its key, ``watermark.opacity``), then what the disk must
hold (the logo, the font), then the mark rendered once; only then is the file written
(atomically), the ``[watermark]`` keys the form edits replaced in place: comments, the section's
other keys and the other sections are kept as they were.

Uploaded logos live in the profile's state folder, ``watermark/logo-<16 hex>.png`` (a PNG,
RGBA, named by the first 16 hex digits of its SHA-256); the form names one by that file name,
never by a path.
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backup.app.library import SHA256, THUMB_SIDE, as_recorded, thumbnail
from backup.app.stamp import style_of
from backup.app.workspace import open_inventory
from backup.errors import NothingFound, Problem, ProfileError, UsageError
from backup.home import inventory_path, state_dir
from backup.profile.edit import rewrite_section
from backup.profile.load import read_toml
from backup.profile.model import Profile, WatermarkSettings
from backup.profile.ondisk import check_on_disk
from backup.profile.validate import parse
from inventory.atomic import atomic_write_text, write_atomic
from watermark.errors import MissingGlyphs, WatermarkError
from watermark.positions import POSITIONS

if TYPE_CHECKING:
    from PIL import Image

    from watermark.style import Style

PREVIEW_SIDE = 1280  # pixels, the longer side of a preview: the library's "screen size"
PREVIEW_QUALITY = 85
LOGO_LIMIT = 5 * 1024 * 1024  # bytes: the largest logo file taken
LOGO_SIDE = 2048  # pixels: a larger logo is scaled down when stored (a mark is small)
LOGO_NAME = re.compile(r"^logo-[0-9a-f]{16}\.png$")
CANDIDATES = 16  # the newest photos looked at for a landscape, a portrait and a dark one
FONTS_MOST = 300
DARK = 90  # mean luma (0-255) under which a photo counts as dark
CREDITS_DEFAULT = 3.0  # seconds, when credits are turned on with no length yet

# The [watermark] keys the form edits (the section's other keys are kept as they are).
FORM_KEYS = (
    "text",
    "font",
    "position",
    "opacity",
    "size",
    "margin",
    "logo",
    "credits_opening",
    "credits_closing",
)
RANGES = {
    "opacity": (0.0, 1.0),
    "size": (0.01, 1.0),
    "margin": (0.0, 0.4),
    "credits_opening": (0.0, 30.0),
    "credits_closing": (0.0, 30.0),
}


def logo_dir(profile: Profile) -> Path:
    return state_dir(profile.name) / "watermark"


def fields_of(profile: Profile) -> dict[str, str]:
    """The account's name and handle, as stamping fills ``{name}`` and ``{handle}``."""
    return {"name": profile.account.name, "handle": profile.account.handle}


# -- the form -----------------------------------------------------------------------------------


def form_of(settings: WatermarkSettings) -> dict[str, Any]:
    """The form's values for a profile's ``[watermark]`` settings."""
    return {
        "text": settings.text,
        "font": str(settings.font) if settings.font else "",
        "position": settings.position,
        "opacity": settings.opacity,
        "size": settings.size,
        "margin": settings.margin,
        "logo": str(settings.logo) if settings.logo else "",
        "credits": bool(settings.credits_opening or settings.credits_closing),
        "credits_opening": settings.credits_opening,
        "credits_closing": settings.credits_closing,
    }


def system_fonts() -> list[dict[str, str]]:
    """The font files of this computer's font folders, by name: the choices the form offers
    (``value``: the file's path, ``label``: its name)."""
    from watermark.fonts import FONT_SUFFIXES, font_dirs

    found: dict[str, Path] = {}
    for folder in font_dirs():
        for root, _, names in os.walk(folder):
            for name in names:
                if Path(name).suffix.lower() in FONT_SUFFIXES and "lastresort" not in name.lower():
                    found.setdefault(Path(name).stem, Path(root) / name)
    listed = sorted(found.items(), key=lambda item: item[0].lower())[:FONTS_MOST]
    return [{"value": str(path), "label": label} for label, path in listed]


def _logo_path(profile: Profile, given: str, problems: list[Problem]) -> str | None:
    """The logo the form names: none, the profile's own, or one uploaded to its state folder
    (by file name: a path from outside is never taken)."""
    if not given:
        return None
    current = profile.watermark.logo
    if current is not None and given == str(current):
        return given
    if LOGO_NAME.match(given):
        path = logo_dir(profile) / given
        if path.is_file():
            return str(path)
    problems.append(
        Problem("watermark.logo", f"{given!r} is not a logo of this profile", "upload the logo again")
    )
    return None


def _font_path(profile: Profile, given: str, problems: list[Problem]) -> str | None:
    if not given:
        return None
    current = profile.watermark.font
    if (current is not None and given == str(current)) or given in {f["value"] for f in _fonts()}:
        return given
    problems.append(
        Problem(
            "watermark.font", f"{given!r} is not one of this computer's fonts", "choose a font from the list"
        )
    )
    return None


_font_cache: list[list[dict[str, str]]] = []


def _fonts() -> list[dict[str, str]]:
    if not _font_cache:
        _font_cache.append(system_fonts())
    return _font_cache[0]


def section_of(profile: Profile, form: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The ``[watermark]`` keys the form sets, in TOML's types (a key the form leaves out is
    left as it is; None, or an empty logo or font, removes it: its default), and the problems
    of values the profile parser would not see (a logo or font not offered, a field unknown)."""
    problems: list[Problem] = []
    for key in sorted(set(form) - {*FORM_KEYS, "credits"}):
        problems.append(Problem(f"watermark.{key}", "is not a field of the watermark form", ""))
    values: dict[str, Any] = {}
    for key in ("text", "position", "opacity", "size", "margin", "credits_opening", "credits_closing"):
        if key not in form:
            continue
        value = form[key]
        if isinstance(value, str) and key not in ("text", "position"):  # a number sent as text
            try:
                value = float(value)
            except ValueError:
                pass
        values[key] = value
    if form.get("credits", True) is False:
        values["credits_opening"] = values["credits_closing"] = 0.0
    for key in ("logo", "font"):
        if key not in form:
            continue
        given = form[key] or ""
        if not isinstance(given, str):
            problems.append(Problem(f"watermark.{key}", "must be text (a name from the form's choices)", ""))
            given = ""
        pick = _logo_path if key == "logo" else _font_path
        values[key] = pick(profile, given, problems)
    return values, problems


def settings_of(profile: Profile, form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], Profile]:
    """The ``[watermark]`` keys the form sets (``section_of``), the whole profile file's tables
    with them, and the profile they make; ``ProfileError`` naming each field that is wrong (as
    ``backup profile check`` names it), before anything is written or drawn."""
    values, problems = section_of(profile, form)
    raw = read_toml(profile.file)
    section = raw.get("watermark")
    if section is None:
        section = raw["watermark"] = {}
    if not isinstance(section, dict):
        raise ProfileError(
            str(profile.file), [Problem("watermark", "is not a table", "write it as a [watermark] section")]
        )
    defaults = WatermarkSettings()._asdict()
    for key, value in values.items():
        if key not in section and value == defaults[key]:
            values[key] = None  # a default the file leaves out stays left out
        if values[key] is None:
            section.pop(key, None)
        else:
            section[key] = value
    made, parsed = parse(raw, profile.file, profile.name)
    problems += [p for p in parsed if p not in problems]
    if made is None or problems:
        raise ProfileError(str(profile.file), problems)
    errors, _ = check_on_disk(made)
    problems += [p for p in errors if p.key.startswith("watermark.")]
    wm = made.watermark
    if not wm.text.strip() and wm.logo is None:
        problems.append(
            Problem("watermark.text", "is empty and there is no logo", "write a text, add a logo, or both")
        )
    if problems:
        raise ProfileError(str(profile.file), problems)
    return values, raw, made


def style_for(profile: Profile) -> Style:
    """The profile's style, drawn once on a small picture: a problem with the font, the logo or
    the text's characters is found here and named by its field."""
    from watermark.mark import render_mark

    wm = profile.watermark
    try:
        style = style_of(wm)
        render_mark(style, (640, 480), fields_of(profile))
    except MissingGlyphs as exc:
        raise ProfileError(str(profile.file), [Problem("watermark.text", str(exc), "")]) from exc
    except WatermarkError as exc:
        text = str(exc)
        key = "watermark.text"
        if wm.logo is not None and str(wm.logo) in text:
            key = "watermark.logo"
        elif wm.font is not None and str(wm.font) in text:
            key = "watermark.font"
        raise ProfileError(str(profile.file), [Problem(key, text, "")]) from exc
    return style


# -- the samples ----------------------------------------------------------------------------------


@dataclass
class Sample:
    """A picture the preview is drawn on: ``id`` is ``KIND:SHA256`` of an inventory content."""

    kind: str  # landscape, portrait, dark, video, credits
    sha256: str
    name: str
    width: int | None
    height: int | None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.sha256}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "sha256": self.sha256,
            "name": self.name,
            "width": self.width,
            "height": self.height,
        }


_luma: dict[str, float] = {}
_luma_lock = threading.Lock()


def _mean_luma(profile: Profile, sha256: str) -> float | None:
    """How light a photo is (0-255), from its library thumbnail (made once, kept)."""
    with _luma_lock:
        known = _luma.get(sha256)
    if known is not None:
        return known
    from PIL import Image, ImageStat

    try:
        made = thumbnail(profile, sha256, THUMB_SIDE)
        with Image.open(made.path) as im:
            value = float(ImageStat.Stat(im.convert("L")).mean[0])
    except (NothingFound, OSError, ValueError):
        return None
    with _luma_lock:
        _luma[sha256] = value
    return value


def samples(profile: Profile) -> list[Sample]:
    """A landscape, a portrait and a dark photo from the newest of the library, and a video (its
    first frame, and the credits card at its size); those the library has."""
    if not inventory_path(profile.name).exists():
        return []
    with open_inventory(profile, create=False) as inv:
        photos, _, _ = inv.pictures(kind="image", limit=CANDIDATES)
        videos, _, _ = inv.pictures(kind="video", limit=1)

    def sample(kind: str, item: dict[str, Any]) -> Sample:
        name = str(item.get("path") or "").replace("\\", "/").rsplit("/", 1)[-1]
        return Sample(kind, item["sha256"], name, item.get("width"), item.get("height"))

    def ratio(item: dict[str, Any]) -> float:
        w, h = item.get("width") or 0, item.get("height") or 0
        return w / h if w and h else 1.0

    found: list[Sample] = []
    used: set[str] = set()
    landscape = next((p for p in photos if ratio(p) > 1.05), None)
    portrait = next((p for p in photos if ratio(p) < 0.95), None)
    for kind, item in (("landscape", landscape), ("portrait", portrait)):
        if item is not None:
            found.append(sample(kind, item))
            used.add(item["sha256"])
    lights = [(luma, p) for p in photos if (luma := _mean_luma(profile, p["sha256"])) is not None]
    lights.sort(key=lambda pair: pair[0])
    dark = next((p for luma, p in lights if p["sha256"] not in used and luma < DARK), None)
    if dark is None and lights and lights[0][0] < DARK:
        dark = lights[0][1]
    if dark is not None:
        found.append(sample("dark", dark))
    if not found and photos:
        found.append(sample("landscape" if ratio(photos[0]) >= 1 else "portrait", photos[0]))
    if videos:
        found.append(sample("video", videos[0]))
        found.append(sample("credits", videos[0]))
    return found


class _Bases:
    """Samples decoded at screen size, the newest few kept in memory (a preview per keystroke
    never decodes a photo again)."""

    def __init__(self, most: int = 8) -> None:
        self._kept: OrderedDict[tuple[str, str], Image.Image] = OrderedDict()
        self._most = most
        self._lock = threading.Lock()

    def get(self, profile: Profile, sha256: str, video: bool) -> Image.Image:
        key = (profile.name, sha256)
        with self._lock:
            im = self._kept.get(key)
            if im is not None:
                self._kept.move_to_end(key)
                return im
        im = _first_frame(profile, sha256) if video else _photo_base(profile, sha256)
        with self._lock:
            self._kept[key] = im
            while len(self._kept) > self._most:
                self._kept.popitem(last=False)
        return im


def _photo_base(profile: Profile, sha256: str) -> Image.Image:
    from PIL import Image

    made = thumbnail(profile, sha256, PREVIEW_SIDE)
    with Image.open(made.path) as im:
        rgb: Image.Image = im.convert("RGB")
    return rgb


def _first_frame(profile: Profile, sha256: str) -> Image.Image:
    """A video's first frame at screen size (ffmpeg turns it upright and scales it), from a file
    of the inventory that is still as it was recorded."""
    from PIL import Image

    from inventory.media.thumbnail import ThumbnailError, video_frame

    held = as_recorded(profile, sha256, ("video",))
    why = held.why
    for path in held.paths:
        try:
            data = video_frame(path, 0.0, PREVIEW_SIDE, codec="png")
        except ThumbnailError as exc:
            why = str(exc)
            continue
        with Image.open(io.BytesIO(data)) as im:
            rgb: Image.Image = im.convert("RGB")
        return rgb
    raise NothingFound(f"{sha256}: {why}")


_bases = _Bases()
SAMPLE_ID = re.compile(r"^(landscape|portrait|dark|video|credits):([0-9a-f]{64})$")


def base_of(profile: Profile, sample: str) -> tuple[str, Image.Image]:
    """The sample ``KIND:SHA256`` decoded at screen size (the caller must not change it)."""
    m = SAMPLE_ID.match(sample or "")
    if m is None:
        raise UsageError(f"sample {sample!r}: give a sample's id (KIND:SHA256) from the designer's list")
    kind, sha256 = m.groups()
    assert SHA256.match(sha256)
    return kind, _bases.get(profile, sha256, kind in ("video", "credits"))


# -- the use cases --------------------------------------------------------------------------------


@dataclass
class Designer:
    """What the watermark page shows: the form's values, the choices, the samples."""

    profile: str
    file: Path
    form: dict[str, Any]
    samples: list[Sample]
    fonts: list[dict[str, str]]
    logos: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "file": str(self.file),
            "form": self.form,
            "samples": [s.as_dict() for s in self.samples],
            "positions": list(POSITIONS),
            "fonts": self.fonts,
            "ranges": {k: list(v) for k, v in RANGES.items()},
            "logo_limit": LOGO_LIMIT,
            "credits_default": CREDITS_DEFAULT,
            "preview_side": PREVIEW_SIDE,
        }


def designer(profile: Profile) -> Designer:
    fonts = list(_fonts())
    current = profile.watermark.font
    if current is not None and str(current) not in {f["value"] for f in fonts}:
        fonts.insert(0, {"value": str(current), "label": current.stem})
    return Designer(profile.name, profile.file, form_of(profile.watermark), samples(profile), fonts)


def preview(profile: Profile, form: Mapping[str, Any], sample: str) -> bytes:
    """The form's mark on a sample, as a JPEG at screen size: drawn as stamping draws it (the
    style ``stamp.style_of`` makes, ``mark_picture`` on the upright picture; the credits card as
    a video's credits show it). ``ProfileError`` naming the fields that are wrong."""
    from watermark.image import mark_picture
    from watermark.video_graph import credits_card

    _, _, made = settings_of(profile, form)
    style = style_for(made)
    kind, base = base_of(profile, sample)
    fields = fields_of(made)
    if kind == "credits":
        out = credits_card(style, fields, base.size)
    else:
        out = mark_picture(base.copy(), style, fields)
    buffer = io.BytesIO()
    out.convert("RGB").save(buffer, "JPEG", quality=PREVIEW_QUALITY)
    return buffer.getvalue()


@dataclass
class Saved:
    profile: str
    file: Path
    form: dict[str, Any]
    warnings: list[Problem]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "profile": self.profile,
            "file": str(self.file),
            "form": self.form,
            "warnings": [w.as_dict() for w in self.warnings],
        }


def save(profile: Profile, form: Mapping[str, Any]) -> Saved:
    """Write the form into the profile's ``[watermark]`` section, once it passes the checks of
    ``backup profile check`` and its mark can be drawn; nothing is written otherwise."""
    values, raw, made = settings_of(profile, form)
    style_for(made)
    text = profile.file.read_text(encoding="utf-8")
    new = rewrite_section(text, "watermark", values, raw)
    atomic_write_text(profile.file, new)
    from backup.profile.load import load

    saved = load(str(profile.file))
    _, warnings = check_on_disk(saved)
    return Saved(
        saved.name,
        saved.file,
        form_of(saved.watermark),
        [w for w in warnings if w.key.startswith("watermark")],
    )


@dataclass
class StoredLogo:
    name: str
    path: Path
    width: int
    height: int
    transparent: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "logo": self.name,
            "path": str(self.path),
            "width": self.width,
            "height": self.height,
            "transparent": self.transparent,
        }


def store_logo(profile: Profile, data: bytes, filename: str = "logo") -> StoredLogo:
    """Keep an uploaded logo in the profile's state folder as an RGBA PNG (larger than
    ``LOGO_SIDE`` pixels: scaled down); its form value is the returned ``name``. ``UsageError``
    naming the field for a file too large or not a picture."""
    import hashlib

    from PIL import Image, UnidentifiedImageError

    shown = os.path.basename(filename or "logo")[:80]
    if len(data) > LOGO_LIMIT:
        most = LOGO_LIMIT // (1024 * 1024)
        raise UsageError(f"watermark.logo: {shown} is {len(data)} bytes; a logo may be at most {most} MB")
    if not data:
        raise UsageError(f"watermark.logo: {shown} is empty")
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > 64_000_000:
                raise UsageError(
                    f"watermark.logo: {shown} is {im.width}x{im.height} pixels: too large a picture"
                )
            im.load()
            rgba = im.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UsageError(
            f"watermark.logo: {shown} is not a picture (a PNG with transparency is best)"
        ) from exc
    if max(rgba.size) > LOGO_SIDE:
        rgba.thumbnail((LOGO_SIDE, LOGO_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgba.save(out, "PNG", optimize=False)
    png = out.getvalue()
    name = f"logo-{hashlib.sha256(png).hexdigest()[:16]}.png"
    path = logo_dir(profile) / name
    if not path.is_file():
        write_atomic(path, png)
    lowest = rgba.getchannel("A").getextrema()[0]
    return StoredLogo(name, path, rgba.width, rgba.height, lowest < 255)
