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
from typing import Any

from backup.app.workspace import open_inventory
from backup.errors import NothingFound, UsageError
from backup.home import inventory_path, state_dir
from backup.profile.model import Profile
from backup.runs.catalog import catalog_path
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


@dataclass
class Recorded:
    """A picture of the inventory and the files on this computer that still hold it as it was
    recorded (their size and modification time those of the last scan), by path; ``why``:
    why none does, when none does."""

    kind: str
    duration_ms: int | None
    paths: list[str]
    why: str


def as_recorded(profile: Profile, sha256: str, kinds: tuple[str, ...] = ("image", "video")) -> Recorded:
    """The content's files still as recorded (nothing else on the disk is read: only the
    inventory's paths); ``NothingFound`` when the inventory has no content of ``kinds`` with
    this SHA-256."""
    with open_inventory(profile, create=False) as inv:
        found = inv.picture_of(sha256)
    if found is None or found[0] not in kinds:
        what = "photo or video" if len(kinds) > 1 else {"image": "photo", "video": "video"}[kinds[0]]
        raise NothingFound(f"{sha256}: no {what} of the inventory has this content")
    kind, duration_ms, files = found
    paths, why = [], "no file with it is on this computer now"
    for f in files:
        try:
            st = os.stat(f.path)
        except OSError:
            continue
        if (st.st_size, st.st_mtime_ns) != (f.size, f.mtime_ns):
            why = f"{f.path} has changed since it was recorded"
            continue
        paths.append(f.path)
    return Recorded(kind, duration_ms, paths, why)


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
    held = as_recorded(profile, sha256)
    why = held.why
    for path in held.paths:
        try:
            data = (
                photo_thumbnail(path, side)
                if held.kind == "image"
                else video_poster(path, side, held.duration_ms)
            )
        except ThumbnailError as exc:
            why = str(exc)
            continue
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cached, data)
        return Thumbnail(cached, True)
    raise NothingFound(f"{sha256}: {why}")


MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PAGE_MOST = 200


@dataclass
class Library:
    """One page of the library: the photos and videos, newest first, and what filtered them."""

    profile: str
    items: list[dict[str, Any]]
    more: bool  # whether another page follows
    total: int | None  # how many match in all (when asked: it reads every match)
    offset: int
    limit: int
    filters: dict[str, Any]
    sources: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "total": self.total,
            "more": self.more,
            "next": f"{self.items[-1]['sort_time']}|{self.items[-1]['sha256']}" if self.more else None,
            "offset": self.offset,
            "limit": self.limit,
            "count": len(self.items),
            "filters": self.filters,
            "sources": self.sources,
            "items": self.items,
        }


def library(
    profile: Profile,
    *,
    offset: int = 0,
    limit: int = 60,
    kind: str | None = None,
    source: str | None = None,
    month: str | None = None,
    stamped: bool | None = None,
    name: str | None = None,
    published: bool | None = None,
    backed_up: bool | None = None,
    total: bool = False,
    after: str | None = None,
) -> Library:
    """A page of the inventory's photos and videos, newest first (``Inventory.pictures``); a
    ``source`` is one of the profile's source folders; ``after``: the ``next`` of the page before
    (``SORT_TIME|SHA256`` of its last item), to scroll on at the same cost however deep.
    ``published``: a publication is recorded for it (or none is); ``backed_up``: every target of
    the profile holds it, as the backup catalog knows (or some target does not)."""
    if offset < 0 or not 0 < limit <= PAGE_MOST:
        raise UsageError(f"offset 0 or more, and limit from 1 to {PAGE_MOST}")
    if kind not in (None, "image", "video"):
        raise UsageError(f"kind {kind!r}: image or video")
    if month is not None and not MONTH.match(month):
        raise UsageError(f"month {month!r}: give it as YYYY-MM")
    sources = [os.path.abspath(f) for f in profile.sources.folders]
    if source is not None and os.path.abspath(source) not in sources:
        raise UsageError(f"source {source!r}: not a source folder of profile {profile.name!r}")
    cursor = None
    if after:
        moment, _, sha = after.rpartition("|")
        if not moment or not SHA256.match(sha):
            raise UsageError(f"after {after!r}: give the next value of the page before")
        cursor = (moment, sha)
    filters = {
        "kind": kind,
        "source": source,
        "month": month,
        "stamped": stamped,
        "name": name or None,
        "published": published,
        "backed_up": backed_up,
    }
    on_targets = None
    if backed_up is not None:
        catalog = catalog_path(state_dir(profile.name))
        names = [t.name for t in profile.targets]
        on_targets = (backed_up, str(catalog) if catalog.exists() else None, names)
    if not inventory_path(profile.name).exists():
        return Library(profile.name, [], False, 0 if total else None, offset, limit, filters, sources)
    with open_inventory(profile, create=False) as inv:
        items, more, counted = inv.pictures(
            offset=offset,
            limit=limit,
            kind=kind,
            root=os.path.abspath(source) if source else None,
            month=month,
            stamped=stamped,
            name=name or None,
            published=published,
            backed_up=on_targets,
            count=total,
            after=cursor,
        )
    return Library(profile.name, items, more, counted, offset, limit, filters, sources)
