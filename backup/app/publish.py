"""``backup publish add``: record where and when an original was published."""

from __future__ import annotations

from dataclasses import dataclass
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
    """Append a ``publication`` ledger entry for the original ``file`` (a path or a SHA-256),
    then sign a checkpoint of it."""
    with open_inventory(profile, create=False) as inv:
        try:
            entry = publications.record(inv, file, platform=platform, url=url, when=when)
        except publications.BadPublication as exc:
            raise UsageError(str(exc)) from exc
        sign_checkpoint(profile, inv)
    return Published(profile.name, entry)
