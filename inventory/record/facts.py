"""What one read of a file teaches the inventory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class MediaFacts:
    """Facts decoded from a photo or a video. Every field may be unknown."""

    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    capture_time: str | None = None
    phash: str | None = None
    dhash: str | None = None
    frame_hashes: list[str] | None = None
    # For matching: pHashes of crop windows of a photo (inventory.match.params.WINDOWS), and a
    # video's frame pHashes sampled at a fixed rate (inventory.match.params.SEQUENCE_RATE).
    window_hashes: dict[str, str] | None = None
    frame_sequence: list[str] | None = None
    hash_params: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    decode_error: str | None = None


@dataclass
class FileFacts:
    """Facts about one file's content: its SHA-256 and what it is."""

    sha256: str
    size: int
    kind: str
    format: str
    media: MediaFacts = field(default_factory=MediaFacts)

    @property
    def decode_error(self) -> str | None:
        return self.media.decode_error
