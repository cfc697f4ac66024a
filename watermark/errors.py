"""Errors raised by the watermark library. It never prints and never exits."""

from __future__ import annotations

from inventory.errors import KeepmarkError


class WatermarkError(KeepmarkError):
    """Base class: a mark could not be made or applied."""


class MissingGlyphs(WatermarkError):
    """No available font has glyphs for some characters of the mark's text."""

    def __init__(self, characters: str, searched: str = "") -> None:
        self.characters = characters
        listed = " ".join(f"{c!r} (U+{ord(c):04X})" for c in characters)
        where = f"; searched {searched}" if searched else ""
        super().__init__(
            f"no font has glyphs for {listed}{where}: install a font that covers them "
            '(e.g. Noto Sans CJK, Noto Color Emoji) or set [watermark] font = "/path/to/font"'
        )


class BadInput(WatermarkError):
    """A photo or video that cannot be stamped (corrupt, truncated, unsupported, empty...)."""


class BadOutput(WatermarkError):
    """The output folder cannot be used (not writable, inside a source folder...)."""
