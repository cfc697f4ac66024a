"""Errors raised by the inventory library. It never prints and never exits."""

from __future__ import annotations


class InventoryError(Exception):
    """Base class: the inventory could not do what was asked."""


class DatabaseError(InventoryError):
    """The inventory database cannot be opened or has an unknown schema."""


class NotFound(InventoryError):
    """No record matches the given SHA-256, prefix or path."""


class Ambiguous(InventoryError):
    """A SHA-256 prefix matches more than one record."""


class ChangedWhileReading(InventoryError):
    """The file changed size or mtime while it was being read."""


class UnreadableSuspect(InventoryError):
    """A file given to match against the inventory cannot be read or decoded."""
