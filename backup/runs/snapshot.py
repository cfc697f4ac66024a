"""Snapshot manifests: ``snapshots/<id>.json`` on each target, one per finished run, listing
every original as of that run. Written last and atomically, so a snapshot exists only if its
run finished. The format is in docs/design.md ("Snapshot manifests")."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any, NamedTuple

from backup.runs import layout
from backup.targets.base import ObjectError, Target

FORMAT = "keepmark-snapshot"
VERSION = 1
# The type of the ledger entry that notes each snapshot written (see docs/design.md).
SNAPSHOT_ENTRY = "snapshot"


class Entry(NamedTuple):
    path: str  # <source folder name>/<relpath>
    sha256: str
    size: int
    mtime: str  # ISO 8601 UTC

    @property
    def key(self) -> str:
        return layout.original_key(self.path)


class Snapshot(NamedTuple):
    id: str
    kind: str  # "incremental" | "full"
    profile: str
    target: str
    started: str
    finished: str
    entries: tuple[Entry, ...]
    failed: tuple[dict[str, str], ...] = ()
    inventory: dict[str, Any] | None = None

    @property
    def time(self) -> datetime:
        return parse_time(self.finished)

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "time": self.finished,
            "files": len(self.entries),
            "bytes": self.total_bytes,
            "failed": len(self.failed),
        }

    def to_json(self) -> bytes:
        """The manifest: a header, then one line per file (fast to write and to read)."""
        return render(self.head(len(self.entries), self.total_bytes), files_section(self.entries))

    def head(self, files: int, total_bytes: int) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "id": self.id,
            "kind": self.kind,
            "profile": self.profile,
            "target": self.target,
            "started": self.started,
            "finished": self.finished,
            "totals": {"files": files, "bytes": total_bytes},
            "inventory": self.inventory,
            "failed": list(self.failed),
        }


def files_section(entries: Iterable[Entry]) -> bytes:
    """The ``files`` array of a manifest (UTF-8), one line per file: the part a run may take
    over unchanged from the previous run when nothing changed."""
    from json.encoder import encode_basestring  # type: ignore[attr-defined]

    lines = [
        f'{{"path":{encode_basestring(p)},"sha256":"{h}","size":{n},"mtime":"{m}"}}' for p, h, n, m in entries
    ]
    return ("[\n" + ",\n".join(lines) + "\n]").encode("utf-8")


def render(head: dict[str, Any], files: bytes) -> bytes:
    """A manifest: its head's fields, then the ``files`` section as it is."""
    enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return b"".join(((enc(head)[:-1] + ',\n"files":').encode("utf-8"), files, b"}\n"))


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_SECONDS: dict[int, str] = {}


def iso_from_ns(ns: int) -> str:
    """A file time in nanoseconds as ISO 8601 UTC, to the microsecond (whole seconds are
    cached: files written together share them)."""
    sec, us = divmod(ns // 1000, 1_000_000)
    head = _SECONDS.get(sec)
    if head is None:
        if len(_SECONDS) > 100_000:
            _SECONDS.clear()
        head = _SECONDS[sec] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    return f"{head}.{us:06d}Z"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def new_id(kind: str, moment: datetime) -> str:
    """Sortable by time, to the millisecond: ``20261124T051233.512Z-full-3fa9``."""
    utc = moment.astimezone(timezone.utc)
    return f"{utc.strftime('%Y%m%dT%H%M%S')}.{utc.microsecond // 1000:03d}Z-{kind}-{os.urandom(2).hex()}"


class BadManifest(ObjectError):
    """A manifest that is not a Keepmark snapshot, or is damaged."""


def parse(data: bytes, key: str) -> Snapshot:
    try:
        doc = json.loads(data.decode("utf-8"))
        if doc.get("format") != FORMAT:
            raise ValueError("not a Keepmark snapshot")
        if int(doc.get("version", 0)) > VERSION:
            raise ValueError(f"written by a newer Keepmark (version {doc['version']})")
        entries = tuple(
            Entry(str(f["path"]), str(f["sha256"]), int(f["size"]), str(f["mtime"])) for f in doc["files"]
        )
        return Snapshot(
            id=str(doc["id"]),
            kind=str(doc["kind"]),
            profile=str(doc["profile"]),
            target=str(doc["target"]),
            started=str(doc["started"]),
            finished=str(doc["finished"]),
            entries=entries,
            failed=tuple(doc.get("failed") or ()),
            inventory=doc.get("inventory"),
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BadManifest(f"{key}: damaged snapshot manifest ({exc})") from exc


def list_ids(target: Target) -> list[str]:
    """Snapshot ids on a target, oldest first."""
    ids = []
    for info in target.list(layout.SNAPSHOTS):
        name = info.key[len(layout.SNAPSHOTS) :]
        if name.endswith(".json") and "/" not in name:
            ids.append(name[: -len(".json")])
    return sorted(ids)


def load(target: Target, snapshot_id: str) -> Snapshot:
    key = layout.snapshot_key(snapshot_id)
    with target.open(key) as f:
        return parse(f.read(), key)


def load_all(target: Target) -> Iterator[Snapshot | BadManifest]:
    for sid in list_ids(target):
        try:
            yield load(target, sid)
        except BadManifest as exc:
            yield exc


def resolve(target: Target, wanted: str | None) -> Snapshot:
    """The snapshot ``wanted`` (an id or a unique prefix of one), or the newest."""
    from backup.errors import NothingFound, UsageError

    ids = list_ids(target)
    if not ids:
        raise NothingFound(f"{target.name}: no snapshots yet (run `backup full` first)")
    if wanted is None or wanted == "latest":
        return load(target, ids[-1])
    matches = [i for i in ids if i.startswith(wanted)]
    if not matches:
        raise NothingFound(f"{target.name}: no snapshot {wanted!r} (see `backup snapshots`)")
    if len(matches) > 1 and wanted not in matches:
        raise UsageError(f"{target.name}: {wanted!r} matches {len(matches)} snapshots; give more of the id")
    return load(target, wanted if wanted in matches else matches[0])


def utc_datetime() -> datetime:
    return datetime.now(timezone.utc)
