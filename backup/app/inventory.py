"""``backup inventory list``, ``show`` and ``export``: what the inventory knows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.app.workspace import open_inventory
from backup.errors import UsageError
from backup.profile.model import Profile
from inventory.atomic import atomic_write_text
from inventory.export import to_csv, to_json


@dataclass
class FileList:
    """The files of the inventory (one entry per path), in path order. With ``offset`` and
    ``limit`` a page of them, and ``total`` says how many there are in all."""

    profile: str
    files: list[dict[str, Any]] = field(default_factory=list)
    offset: int = 0
    limit: int | None = None
    total: int = 0

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"profile": self.profile, "count": len(self.files), "files": self.files}
        if self.offset or self.limit is not None:
            doc.update(offset=self.offset, limit=self.limit, total=self.total)
        return doc


def list_files(
    profile: Profile, *, include_missing: bool = False, offset: int = 0, limit: int | None = None
) -> FileList:
    """The inventory's files (with ``include_missing``, also paths no longer found)."""
    if offset < 0 or (limit is not None and limit < 0):
        raise UsageError("offset and limit must be 0 or more")
    with open_inventory(profile) as inv:
        page = inv.list_files(include_missing=include_missing, offset=offset, limit=limit)
        total = inv.count_files(include_missing=include_missing) if offset or limit is not None else len(page)
    return FileList(profile.name, page, offset, limit, total)


@dataclass
class FileRecord:
    """Everything the inventory knows about one content: its facts, every path it was seen at,
    its stamped copies and the ledger entries that record it."""

    profile: str
    record: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, **self.record}


def show(profile: Profile, ref: str) -> FileRecord:
    """One content, by SHA-256 (or a prefix of 6+ digits) or by path."""
    with open_inventory(profile) as inv:
        return FileRecord(profile.name, inv.show(ref))


@dataclass
class Export:
    text: str
    rows: int
    written_to: Path | None = None


def export(profile: Profile, fmt: str = "csv", output: Path | None = None, *, bom: bool = True) -> Export:
    """Every recorded path with its content's facts, as CSV (beginning with a UTF-8 byte order
    mark unless not ``bom``) or JSON; written atomically to ``output`` when given."""
    if fmt not in ("csv", "json"):
        raise UsageError(f"unknown export format {fmt!r}; use csv or json")
    with open_inventory(profile) as inv:
        rows = inv.export_rows()
    text = to_csv(rows, bom=bom) if fmt == "csv" else to_json(rows, profile=profile.name, count=len(rows))
    if output is not None:
        if output.is_dir():
            raise UsageError(f"{output} is a folder; give a file name")
        atomic_write_text(output, text)
    return Export(text, len(rows), output)
