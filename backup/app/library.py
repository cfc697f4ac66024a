"""The library's pictures: thumbnails of the inventory's photos and videos, made on demand and
kept in the state folder (``thumbs/<first two hex digits>/<sha256>-<side>.jpg``), keyed by the
content's SHA-256: a content never changes, so a thumbnail made once stands for good.

Only a content of the inventory gets one, made from a file present at the last scan that is
still as it was recorded (its size and modification time); nothing else on the disk is read."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from backup.app.workspace import open_inventory
from backup.errors import NothingFound, UsageError
from backup.home import state_dir
from backup.profile.model import Profile
from inventory.atomic import write_atomic
from inventory.media.thumbnail import ThumbnailError, photo_thumbnail, video_poster

THUMB_SIDE = 320  # pixels, the longer side: a grid cell on a high-density screen
SIDES = (THUMB_SIDE, 1280)  # the grid's, and a file page's "screen size"
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Thumbnail:
    path: Path
    made: bool  # made now (False: it was in the cache)


def thumbnail_path(profile: Profile, sha256: str, side: int) -> Path:
    return state_dir(profile.name) / "thumbs" / sha256[:2] / f"{sha256}-{side}.jpg"


def thumbnail(profile: Profile, sha256: str, side: int = THUMB_SIDE) -> Thumbnail:
    """The thumbnail of the photo or video whose content is ``sha256``; ``NothingFound`` when
    the inventory has no such picture or no file with it is on this computer as recorded."""
    if not SHA256.match(sha256):
        raise UsageError(f"{sha256!r}: not a SHA-256 (64 lower-case hex digits)")
    if side not in SIDES:
        raise UsageError(f"size {side}: one of {', '.join(map(str, SIDES))}")
    cached = thumbnail_path(profile, sha256, side)
    if cached.is_file():
        return Thumbnail(cached, False)
    with open_inventory(profile, create=False) as inv:
        found = inv.picture_of(sha256)
    if found is None or found[0] not in ("image", "video"):
        raise NothingFound(f"{sha256}: no photo or video of the inventory has this content")
    kind, duration_ms, files = found
    why = "no file with it is on this computer now"
    for f in files:
        try:
            st = os.stat(f.path)
        except OSError:
            continue
        if (st.st_size, st.st_mtime_ns) != (f.size, f.mtime_ns):
            why = f"{f.path} has changed since it was recorded"
            continue
        try:
            data = (
                photo_thumbnail(f.path, side) if kind == "image" else video_poster(f.path, side, duration_ms)
            )
        except ThumbnailError as exc:
            why = str(exc)
            continue
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cached, data)
        return Thumbnail(cached, True)
    raise NothingFound(f"{sha256}: {why}")
