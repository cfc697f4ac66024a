"""What Keepmark knows it has stored on each target: ``<state>/<profile>/backups.sqlite``.

It lets an incremental run upload only what is new or changed without asking the target about
every file. It is a cache of the targets' truth, never the truth itself: a row is written only
after its object is durable on the target, a full run rebuilds it from the target's listing,
and losing it costs a full comparison, never a backup. Schema in docs/design.md; the tables
and their SQL are in ``inventory.store.catalog``.
"""

from __future__ import annotations

from pathlib import Path

from backup.errors import StateError
from backup.runs.layout import ORIGINALS
from inventory.errors import DatabaseError
from inventory.store.catalog import CatalogStore, InventoryCopy, Listing, StoredObject, StoredRow

__all__ = ["Catalog", "InventoryCopy", "Listing", "StoredObject", "StoredRow", "catalog_path"]


class Catalog(CatalogStore):
    """The profile's backup catalog, for the backup runs (``StateError`` if it cannot be opened)."""

    def __init__(self, path: Path) -> None:
        try:
            super().__init__(path, originals=ORIGINALS)
        except DatabaseError as exc:
            raise StateError(str(exc)) from exc

    def __enter__(self) -> Catalog:
        return self


def catalog_path(state_dir: Path) -> Path:
    return state_dir / "backups.sqlite"
