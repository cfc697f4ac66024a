"""Matching a suspect copy to an original: perceptual hashes, their enrolment, the index and the search.

The library call the README shows, ``from inventory.match import find_original``, keeps working:
``find_original``, ``Match`` and ``Suspect`` are imported from ``inventory.match.find`` on first
use (imported here, they would load the whole search, OpenCV included, with every small module
of this package).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inventory.match.find import Match, Suspect, find_original

__all__ = ["Match", "Suspect", "find_original"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from inventory.match import find

        return getattr(find, name)
    raise AttributeError(f"module 'inventory.match' has no attribute {name!r}")
