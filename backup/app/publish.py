"""``backup publish add``: record where and when an original was published; ``backup publish
list``: the publications recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backup.app.scan import sign_checkpoint
from backup.app.workspace import open_inventory
from backup.errors import UsageError
from backup.profile.model import Profile
from inventory.ledger import publications
from inventory.ledger.chain import Entry


@dataclass
class Published:
    profile: str
    entry: Entry

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "entry": self.entry.as_dict()}


def add(profile: Profile, file: str, *, platform: str, url: str, when: str | None = None) -> Published:
    """Append a ``publication`` ledger entry for the original ``file`` (a path, or the full
    SHA-256 of a recorded original),
    then sign a checkpoint of it."""
    with open_inventory(profile, create=False) as inv:
        try:
            entry = publications.record(inv, file, platform=platform, url=url, when=when)
        except publications.BadPublication as exc:
            raise UsageError(str(exc)) from exc
        sign_checkpoint(profile, inv)
    return Published(profile.name, entry)


@dataclass
class Publications:
    """The publications recorded, oldest first. Each: its ledger entry (``seq``) and when it
    was recorded (``recorded``, UTC), ``date``, ``platform``, ``url``, the original's
    ``sha256`` and a ``path`` of it (present, else the last it was seen at; null if none),
    ``copy``, the SHA-256 of the stamped copy that was posted (null when the original was),
    ``caption`` (null when none is known), ``source`` (``add``: ``backup publish add``;
    ``import``: ``backup publish import``) and, for an import, ``export`` (the export's name),
    ``media`` (the file in it) and ``export_sha256`` (that file's SHA-256); ``url`` is null when
    the export gave no link."""

    profile: str
    items: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "count": len(self.items), "publications": self.items}


def list_publications(profile: Profile, ref: str | None = None) -> Publications:
    """Every publication recorded, or those of one original (``ref``: a SHA-256, a prefix of
    one, a path or a file name, as ``inventory show`` takes it)."""
    with open_inventory(profile, create=False) as inv:
        sha = inv.resolve(ref) if ref else None
        items = [
            {
                "seq": p["seq"],
                "recorded": p["recorded"],
                "date": p.get("date"),
                "platform": p.get("platform"),
                "url": p.get("url"),
                "sha256": p["sha256"],
                "path": inv.last_path_of(p["sha256"]) or None,
                "copy": p.get("copy"),
                "caption": p.get("caption"),
                "source": p.get("source"),
                "export": p.get("export"),
                "media": p.get("media"),
                "export_sha256": p.get("export_sha256"),
            }
            for p in publications.every(inv)
            if sha is None or p.get("sha256") == sha
        ]
    return Publications(profile.name, items)
