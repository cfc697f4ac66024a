"""``backup publish import EXPORT``: publications read from a platform's export, each media file
matched to its original in the inventory and recorded in the ledger.

Each item of the export (``backup.app.exports``) ends as one of:

- ``recorded``: its media file matched an original (``find_original``, as ``backup prove``
  matches a repost: exact, or perceptual confirmed by the feature check, or by features, or a
  video's frames) and a ``publication`` entry now says so;
- ``already``: the same publication (platform, link or exported file's SHA-256, date) is in the
  ledger already: an import run twice records nothing twice;
- ``unmatched``: published, but no original on record (nothing close enough, or the export holds
  no media for it, as TikTok's does not): remembered for ``backup check``
  (``unmatched_publications``) until an import matches it;
- ``ambiguous``: two or more originals equally close to the file: none is recorded, all are
  named; remembered like an unmatched one;
- ``failed``: the media file is in the export but cannot be read (the line says why).

The result's ``ok`` (exit 0) is true when every item is recorded or already recorded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.app.exports import FORMATS, Export, ExportItem, open_export
from backup.app.scan import sign_checkpoint
from backup.app.workspace import open_inventory
from backup.errors import StateError
from backup.home import state_dir
from backup.profile.model import Profile
from inventory.atomic import atomic_write_text
from inventory.errors import UnreadableSuspect
from inventory.ledger import publications
from inventory.progress import Progress
from inventory.store.inventory import Inventory
from inventory.timeutil import utc_now

STAGE = "import"
STATUSES = ("recorded", "already", "unmatched", "ambiguous", "failed")
UNMATCHED_FILE = "publications-unmatched.json"
UNMATCHED_FORMAT = "keepmark-unmatched-publications"


@dataclass
class Imported:
    """What an import found: the export (its path and ``format``) and one dict per item, in the
    export's order (fields in docs/design.md, "Publications from platform exports")."""

    profile: str
    export: str
    format: str
    items: list[dict[str, Any]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i["status"] == status)

    @property
    def ok(self) -> bool:
        return all(i["status"] in ("recorded", "already") for i in self.items)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "export": self.export,
            "format": self.format,
            "ok": self.ok,
            "counts": {"items": len(self.items), **{s: self.count(s) for s in STATUSES}},
            "items": self.items,
        }


def import_export(profile: Profile, export: str, *, progress: Progress | None = None) -> Imported:
    """Read the export at ``export`` and record every publication whose media matches an
    original; report the rest. A checkpoint signs what was recorded."""
    progress = progress or Progress()
    with open_export(export) as ex, open_inventory(profile, create=False) as inv:
        done = Imported(profile.name, str(ex.path), ex.format)
        known = _Known(inv)
        recorded = False
        progress.started(STAGE, len(ex.items), len(ex.items), "files")
        try:
            for item in ex.items:
                result = _one(inv, ex, item, known)
                done.items.append(result)
                recorded = recorded or result["status"] == "recorded"
                label = item.media or item.url or item.where
                if result["status"] == "failed":
                    progress.failed(STAGE, label, result["reason"])
                progress.file_done(STAGE, label)
        finally:
            progress.finished(STAGE)
            if recorded:
                sign_checkpoint(profile, inv)
            _remember(profile, done)
    return done


class _Known:
    """The publications already in the ledger, by key, and the originals each link names."""

    def __init__(self, inv: Inventory) -> None:
        self.keys: dict[str, dict[str, Any]] = {}
        self.links: dict[tuple[str, str], dict[str, Any]] = {}
        self.media: dict[tuple[str, str, str], dict[str, Any]] = {}
        for p in publications.every(inv):
            self.add(p)

    def add(self, p: dict[str, Any]) -> None:
        self.keys.setdefault(publications.key_of(p), p)
        if p.get("url"):
            self.links.setdefault((str(p["platform"]).casefold(), str(p["url"])), p)
        if p.get("media"):
            self.media.setdefault(_stated(str(p["platform"]), str(p["media"]), str(p.get("date"))), p)

    def by_link(self, item: ExportItem) -> dict[str, Any] | None:
        return self.links.get((item.platform.casefold(), item.url)) if item.url else None

    def by_media(self, item: ExportItem, media: str) -> dict[str, Any] | None:
        """A publication recorded from the same file of an export (named as the export names
        it, on the same date): for an item whose file this copy of the export lacks."""
        return self.media.get(_stated(item.platform, media, item.date))


def _stated(platform: str, media: str, date: str) -> tuple[str, str, str]:
    return (platform.casefold(), media, date)


def item_key(item: dict[str, Any]) -> str:
    """What identifies an export's item whether or not its file could be read: the platform,
    the link, the media file as the export names it, the date (the key of what stays
    unmatched)."""
    return publications.key(item["platform"], item.get("url"), item.get("media"), item["date"])


def _one(inv: Inventory, ex: Export, item: ExportItem, known: _Known) -> dict[str, Any]:
    out: dict[str, Any] = {"status": "", **item.as_dict()}
    if item.media is None:
        seen = known.by_link(item)
        if seen is not None:  # its link is recorded already (a CSV row, `publish add`)
            return {**out, "status": "already", **_original(inv, seen["sha256"]), "seq": seen["seq"]}
        none = "the row names no file" if ex.format == "csv" else "the export holds no media file for it"
        return {**out, "status": "unmatched", "reason": none}
    with ex.media_file(item) as local:
        if local is None:
            seen = known.by_link(item) if ex.format == "csv" else known.by_media(item, item.media)
            if seen is not None:  # recorded from another copy of the export that held the file
                return {**out, "status": "already", **_original(inv, seen["sha256"]), "seq": seen["seq"]}
            where = "no such file" if ex.format == "csv" else "not in the export"
            return {**out, "status": "unmatched", "reason": where}
        from inventory.match.find import find_original

        try:
            suspect, match = find_original(inv, local)
        except UnreadableSuspect as exc:
            reason = str(exc).replace(str(local), item.media, 1)
            return {**out, "status": "failed", "reason": reason}
        tied = _equally_close(inv, suspect.hashes, match.method, match.distance) if match else []
    out["export_sha256"] = suspect.sha256
    if match is None:
        return {**out, "status": "unmatched", "reason": "no original in the inventory is close enough"}
    if tied:
        candidates = [{**_original(inv, sha), "distance": match.distance} for sha in tied]
        return {
            **out,
            "status": "ambiguous",
            "candidates": candidates,
            "reason": "equally close to several originals",
        }
    found = {**_original(inv, match.sha256), "method": match.method, "confidence": match.confidence}
    key = publications.key(item.platform, item.url, suspect.sha256, item.date)
    seen = known.keys.get(key)
    if seen is not None:
        return {**out, **found, "status": "already", "seq": seen["seq"]}
    copy = (match.details.get("derivative") or {}).get("sha256")
    entry = publications.record_import(
        inv,
        match.sha256,
        platform=item.platform,
        date=item.date,
        export=ex.path.name,
        url=item.url,
        caption=item.caption,
        copy=copy,
        export_sha256=suspect.sha256,
        media=_ledger_media(ex, item.media),
        match=match.method,
    )
    known.add({**entry.data, "seq": entry.seq})
    return {**out, **found, "status": "recorded", "seq": entry.seq, "copy": copy}


def _ledger_media(ex: Export, media: str) -> str:
    """The media file as a ledger entry names it: as the export names it; a CSV's by its name."""
    return os.path.basename(media) if ex.format == "csv" else media


def _equally_close(inv: Inventory, hashes: dict[str, Any], method: str, distance: int | None) -> list[str]:
    """The originals (two or more) whose nearest window is as near to the photo as the match's:
    the same search ``find_original`` decided by, none nearer than another."""
    if method != "perceptual" or distance is None or not hashes.get("variants"):
        return []
    from inventory.match.find import candidates

    nearest = [
        c["sha256"] for c in candidates(inv, hashes["variants"], distance) if c["distance"] == distance
    ]
    return nearest if len(nearest) > 1 else []


def _original(inv: Inventory, sha256: str) -> dict[str, Any]:
    return {"sha256": sha256, "path": inv.last_path_of(sha256) or None}


# -- what stays unmatched, for `backup check` -------------------------------------------------


def _unmatched_path(profile_name: str) -> Path:
    return state_dir(profile_name) / UNMATCHED_FILE


def _read_unmatched(path: Path) -> dict[str, dict[str, Any]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StateError(f"{path}: cannot be read ({exc}); delete it and import the exports again") from exc
    items = doc.get("items") if isinstance(doc, dict) and doc.get("format") == UNMATCHED_FORMAT else None
    if not isinstance(items, dict):
        raise StateError(
            f"{path}: not a list of unmatched publications; delete it and import the exports again"
        )
    return items


def _remember(profile: Profile, done: Imported) -> None:
    """Keep the unmatched and ambiguous items (by key) for ``backup check``; forget those now
    recorded, or found recorded."""
    path = _unmatched_path(profile.name)
    kept = _read_unmatched(path)
    before = dict(kept)
    now = utc_now()
    for item in done.items:
        key = item_key(item)
        if item["status"] in ("recorded", "already"):
            kept.pop(key, None)
        elif item["status"] in ("unmatched", "ambiguous"):
            fields = ("status", "platform", "date", "url", "caption", "media", "export_sha256", "reason")
            kept[key] = {k: item.get(k) for k in fields}
            kept[key].update({"export": done.export, "format": done.format, "imported": now})
            if item["status"] == "ambiguous":
                kept[key]["candidates"] = [c["sha256"] for c in item["candidates"]]
    if kept == before:
        return
    doc = {"format": UNMATCHED_FORMAT, "version": 1, "items": kept}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def unmatched_publications(profile: Profile) -> list[dict[str, Any]]:
    """Publications an import found with no original on record (``status`` ``unmatched``) or
    with several equally close (``ambiguous``, ``candidates``: their SHA-256s), still so at the
    last import that saw them, oldest date first. Each: ``status``, ``platform``, ``date``,
    ``url`` (or None), ``caption``, ``media`` (the file in the export, or None), ``export_sha256``,
    ``reason``, ``export`` (the export's path), ``format`` and ``imported`` (UTC). For
    ``backup check``: a finding each. Raises ``StateError`` when the file is unreadable."""
    items = _read_unmatched(_unmatched_path(profile.name))
    return sorted(items.values(), key=lambda i: (str(i.get("date")), str(i.get("url") or i.get("media"))))


def describe(fmt: str) -> str:
    """How a format is called to a person (``Instagram export``, ``TikTok export``, ``CSV``)."""
    return FORMATS.get(fmt, fmt)
