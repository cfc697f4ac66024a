"""Keepmark's error base, and the errors of the inventory library.

Every error Keepmark raises on purpose derives from ``KeepmarkError``, which carries the exit
code it means to a script. The library raises and never prints or exits; the CLI edge turns any
``KeepmarkError`` into one line on stderr and its ``exit_code`` (``backup.errors`` has the table).
It lives here, on the ground floor, so that the inventory, the watermarking and the backup code
can all derive from it.
"""

from __future__ import annotations

from collections.abc import Sequence

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CANNOT_START = 2


class KeepmarkError(Exception):
    """Base class. ``exit_code`` says what the failure means to a script."""

    exit_code = EXIT_CANNOT_START


class InventoryError(KeepmarkError):
    """Base class: the inventory could not do what was asked."""


class DatabaseError(InventoryError):
    """The inventory database cannot be opened or has an unknown schema."""


class NotFound(InventoryError):
    """No record matches the given SHA-256, prefix or path."""

    exit_code = EXIT_FAILED


class Ambiguous(InventoryError):
    """A SHA-256 prefix, or a bare file name, matches more than one record; ``candidates``
    names them (the CLI prints one a line)."""

    def __init__(self, message: str, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class ChangedWhileReading(InventoryError):
    """The file changed size or mtime while it was being read."""


class UnreadableSuspect(InventoryError):
    """A file given to match against the inventory cannot be read or decoded."""
