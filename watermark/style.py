"""The one value that describes a watermark, and its hash.

A ``Style`` is built from a profile's ``[watermark]`` section. It is rendered once per picture
size to an RGBA mark (``watermark.mark``) that every image and every video frame of that size
reuses. ``style_hash`` names the look: two stamps with the same hash look the same, so a copy
stamped with an equal hash need not be made again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from watermark.errors import WatermarkError
from watermark.positions import POSITIONS

PLACEHOLDERS = ("name", "handle", "year", "date")


@dataclass(frozen=True)
class Credits:
    """Opening and closing cards for videos: the account card for a few seconds, fading."""

    opening: float = 0.0  # seconds; 0 = none
    closing: float = 0.0
    fade: float = 0.5


@dataclass(frozen=True)
class VideoSettings:
    codec: str = "libx264"  # or libx265, h264_videotoolbox, hevc_videotoolbox, "auto"
    crf: int = 20
    preset: str = "veryfast"
    credits: Credits = field(default_factory=Credits)
    # Tags written on the copy, e.g. (("artist", ...), ("copyright", ...)): ffmpeg writes them
    # as UTF-8 in MP4 and MOV alike. Not in repr, which a style hash covers (as with
    # ``ImageOptions.exif_copyright``): a caller that sets them puts them in its hash itself.
    tags: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Style:
    """How a mark looks. Sizes are fractions of the picture's short side, so a mark looks the
    same on a 1080x1440 post and a 4032x3024 original."""

    text: str = "© {name} · @{handle}"
    logo: Path | None = None
    position: str = "bottom-right"
    opacity: float = 0.4
    size: float = 0.05  # height of the mark
    margin: float = 0.03  # distance from the edges, for the nine anchors
    font: Path | None = None
    color: tuple[int, int, int] = (255, 255, 255)
    tile_angle: float = 30.0
    tile_gap: float = 1.5  # empty space between tiles, in mark heights

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise WatermarkError(f"position {self.position!r} is not one of {', '.join(POSITIONS)}")
        if not 0.0 <= self.opacity <= 1.0:
            raise WatermarkError(f"opacity {self.opacity} is out of range 0-1.0")
        if not 0.0 < self.size <= 1.0:
            raise WatermarkError(f"size {self.size} is out of range (0, 1]")
        if not self.text.strip() and self.logo is None:
            raise WatermarkError("a mark needs text, a logo, or both")

    def expand(self, fields: Mapping[str, str]) -> str:
        """The text with ``{name}``, ``{handle}``, ``{year}``, ``{date}`` filled in."""
        today = date.today()
        values = {"year": str(today.year), "date": today.isoformat(), "name": "", "handle": ""}
        values.update({k: v for k, v in fields.items() if v})
        try:
            return self.text.format_map(values)
        except (KeyError, ValueError, IndexError) as exc:
            raise WatermarkError(f"watermark text {self.text!r}: {exc}") from exc

    def uses_date(self) -> bool:
        return "{year}" in self.text or "{date}" in self.text


def _file_digest(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise WatermarkError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def style_hash(style: Style, *, fields: Mapping[str, str], extra: Mapping[str, Any] | None = None) -> str:
    """SHA-256 of everything that changes how a stamped copy looks: the settings, the account
    fields, and the bytes of the logo and font files (``extra``: encoder settings and the
    like). Dates are left out: ``{year}``/``{date}`` come from each file's own date."""
    doc = asdict(style)
    doc["logo"] = _file_digest(style.logo)
    doc["font"] = _file_digest(style.font)
    doc["fields"] = {k: fields.get(k, "") for k in ("name", "handle")}
    doc["extra"] = dict(extra or {})
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
