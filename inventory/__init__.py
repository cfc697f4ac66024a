"""Keepmark's content inventory: SHA-256 and perceptual hashes of every file in a creator's
source folders, kept in SQLite with an append-only, hash-chained ledger.

Usable without the CLI::

    from inventory import Inventory, Source, scan

    with Inventory.open("inventory.sqlite") as inv:
        report = scan(inv, [Source("/photos", "/photos")])
        print(report.new, inv.verify_ledger().ok)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inventory.errors import Ambiguous, ChangedWhileReading, DatabaseError, InventoryError, NotFound

if TYPE_CHECKING:
    from inventory.progress import Progress
    from inventory.record.facts import FileFacts, MediaFacts
    from inventory.record.scan import ScanReport, Source, scan
    from inventory.store.inventory import Inventory

# Imported on first use: a quick command should not pay for what it does not touch.
_LAZY = {
    "FileFacts": "inventory.record.facts",
    "MediaFacts": "inventory.record.facts",
    "Progress": "inventory.progress",
    "ScanReport": "inventory.record.scan",
    "Source": "inventory.record.scan",
    "scan": "inventory.record.scan",
    "Inventory": "inventory.store.inventory",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inventory' has no attribute {name!r}")


__all__ = [
    "Ambiguous",
    "ChangedWhileReading",
    "DatabaseError",
    "FileFacts",
    "Inventory",
    "InventoryError",
    "MediaFacts",
    "NotFound",
    "Progress",
    "ScanReport",
    "Source",
    "scan",
]
