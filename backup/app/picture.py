"""One photo or video of the library, everything known of it (the app's file page): its facts
and hashes, when it was first recorded and how that is proven (the signed checkpoint that
covers it, that checkpoint's trusted timestamp), its ledger entries, its stamped copies, its
publications, where it is on each target and in which snapshots; and "show in folder".

Only what the inventory says is ever opened: a file's page is asked for by SHA-256, and the
paths it shows or reveals are the inventory's own, never one from outside."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.app.library import SHA256, as_recorded
from backup.app.workspace import open_inventory, proof_store, source_labels
from backup.errors import NothingFound, UsageError
from backup.home import state_dir
from backup.profile.model import Profile
from backup.runs import layout
from backup.runs.catalog import Catalog, catalog_path
from backup.runs.snapshot import SNAPSHOT_ENTRY
from inventory.ledger import publications
from inventory.store.inventory import Inventory


@dataclass
class Picture:
    """What the file page shows (``as_dict`` is ``/api/library/SHA256``)."""

    profile: str
    record: dict[str, Any]
    first_recorded: dict[str, Any] | None
    publications: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    present: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            **self.record,
            "first_recorded": self.first_recorded,
            "publications": self.publications,
            "targets": self.targets,
            "present": self.present,
        }


def checked_sha(sha256: str) -> str:
    if not SHA256.match(sha256):
        raise UsageError(f"{sha256!r}: not a SHA-256 (64 lower-case hex digits)")
    return sha256


def picture(profile: Profile, sha256: str) -> Picture:
    """Everything known of the photo or video whose content is ``sha256``; ``NothingFound``
    when the inventory holds no photo or video with it."""
    checked_sha(sha256)
    with open_inventory(profile, create=False) as inv:
        if inv.picture_of(sha256) is None:
            raise NothingFound(f"{sha256}: no photo or video of the inventory has this content")
        record = inv.show(sha256)
        if record["kind"] not in ("image", "video"):
            raise NothingFound(f"{sha256}: not a photo or video (a {record['format']} file)")
        first = _first_recorded(profile, inv, record["ledger"])
        published = [
            {
                k: p.get(k)
                for k in ("seq", "recorded", "date", "platform", "url", "copy", "caption", "source", "export")
            }
            for p in publications.of(inv, sha256)
        ]
        snapshots = inv.ledger_entries_typed(SNAPSHOT_ENTRY)
        labels = source_labels(profile, keep=False, inv=inv)
        spans = [
            (f"{labels.get(root) or layout.source_label(root)}/{rel}", since, until)
            for root, rel, since, until in inv.held_spans(sha256)
        ]
    present = as_recorded(profile, sha256).paths
    targets = _on_targets(profile, sha256, spans, [e.as_dict() for e in snapshots])
    return Picture(profile.name, record, first, published, targets, present)


def _first_recorded(profile: Profile, inv: Inventory, ledger: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ledger entry that first recorded the content, the first signed checkpoint that covers
    it, and that checkpoint's trusted timestamp (checked against the authority's certificate)."""
    originals = [e for e in ledger if e["type"] == "original"] or ledger
    if not originals:
        return None
    entry = originals[0]
    doc: dict[str, Any] = {"seq": entry["seq"], "time": entry["time"], "signed": None, "timestamp": None}
    store = proof_store(profile)
    covering = next((s for s in store.stored() if s.checkpoint.entries >= entry["seq"]), None)
    if covering is None:
        return doc
    cp = covering.checkpoint
    doc["signed"] = {"time": cp.time, "key_id": cp.key_id, "entries": cp.entries, "file": covering.json.name}
    token, authority = covering.token, covering.authority
    if token is not None and authority is not None:
        from inventory.ledger import timestamp

        try:
            info = timestamp.verify(token.read_bytes(), cp.file_bytes(), authority.read_bytes())
            doc["timestamp"] = {"ok": True, **info.as_dict()}
        except (timestamp.TimestampError, OSError) as exc:
            doc["timestamp"] = {"ok": False, "problem": str(exc)}
    elif covering.pending:
        doc["timestamp"] = "pending"
    return doc


def _on_targets(
    profile: Profile, sha256: str, spans: list[tuple[str, str, str | None]], snapshots: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each target of the profile: the objects the backup catalog knows hold the content (as
    ``originals/...`` or an earlier version under ``versions/...``, with the path a snapshot
    lists it under), and the snapshots the ledger records on it while a file held it, each with
    the path (``<source folder label>/<relpath>``) it has in that snapshot."""
    held: dict[str, list[str]] = {}
    catalog = catalog_path(state_dir(profile.name))
    if catalog.exists():
        with Catalog(catalog) as cat:
            held = cat.holding(sha256)
    out = []
    for target in profile.targets:
        copies = []
        for key in held.get(target.name, []):
            if key.startswith(layout.ORIGINALS):
                copies.append({"key": key, "kind": "original", "path": key[len(layout.ORIGINALS) :]})
            elif (parsed := layout.parse_version_key(key)) is not None:
                copies.append({"key": key, "kind": "version", "path": parsed[0]})
        snaps = []
        for e in reversed(snapshots):  # newest first
            held_at = _held_at(spans, e["time"])
            if e["data"].get("target") == target.name and held_at is not None:
                snaps.append(
                    {
                        "id": e["data"]["snapshot"],
                        "kind": e["data"].get("kind"),
                        "time": e["time"],
                        "path": held_at,
                    }
                )
        out.append({"name": target.name, "kind": target.type, "copies": copies, "snapshots": snaps})
    return out


def _held_at(spans: list[tuple[str, str, str | None]], when: str) -> str | None:
    """The snapshot path of the file that held the content at ``when`` (after it was first
    seen, before it went missing or another content replaced it: ``Inventory.held_spans``), or
    None; ISO 8601 UTC times compare as text."""
    return next((path for path, first, gone in spans if first <= when and (not gone or when < gone)), None)


def original_file(profile: Profile, sha256: str) -> Path:
    """A file on this computer holding the content as recorded (a video's page plays it);
    ``NothingFound`` when none is."""
    checked_sha(sha256)
    held = as_recorded(profile, sha256)
    if not held.paths:
        raise NothingFound(f"{sha256}: {held.why}")
    return Path(held.paths[0])


@dataclass
class Revealed:
    path: str
    command: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "command": self.command}


def reveal_command(path: str, platform: str = sys.platform) -> list[str]:
    """The command that shows ``path`` in the system's file manager: selected in Finder or
    Explorer; on Linux its folder opened (``xdg-open``: the desktop's file manager)."""
    if platform == "darwin":
        return ["open", "-R", path]
    if platform.startswith("win"):
        return ["explorer", f"/select,{path}"]
    return ["xdg-open", os.path.dirname(path)]


def show_in_folder(profile: Profile, sha256: str) -> Revealed:
    """Open the file manager at the first file holding the content (a path of the inventory,
    never one from outside)."""
    path = str(original_file(profile, sha256))
    command = reveal_command(path)
    try:
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise UsageError(
            f"{path}: cannot open the file manager ({command[0]}: {exc.strerror or exc})"
        ) from exc
    return Revealed(path, command)
