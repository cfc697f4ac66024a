"""Find the original behind a suspect file (a repost, a screenshot, a cut clip).

``find_original(inv, path)`` hashes the suspect and returns what was computed from it
(``Suspect``) with the best match in the inventory (``Match``), or ``None`` when nothing is
close enough. Matching methods, their thresholds and the measurements behind them are in
docs/design.md, section "Matching".
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from inventory.errors import UnreadableSuspect

if TYPE_CHECKING:
    from inventory.store import Inventory

# The largest pHash Hamming distance accepted on its own (without a geometric check).
PHASH_ACCEPT = 10


@dataclass(frozen=True)
class Suspect:
    """What was computed from the suspect file."""

    path: str
    sha256: str
    kind: str  # "image" | "video" | "other"
    hashes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    """The original a suspect was matched to, how, and how sure the match is."""

    sha256: str
    path: str
    method: str  # "exact" | "perceptual" | "features" | "video"
    distance: int | None
    score: float
    confidence: float
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_original(inv: Inventory, path: str | os.PathLike[str]) -> tuple[Suspect, Match | None]:
    """Best match for the suspect file in the inventory, or None when nothing is close enough.
    Raises ``UnreadableSuspect`` (naming the file and the reason) for unreadable input."""
    import json

    from inventory.examine import examine
    from inventory.phash import hamming

    name = os.fspath(path)
    try:
        facts, _ = examine(name)
    except OSError as exc:
        raise UnreadableSuspect(f"{name}: cannot read: {exc.strerror or exc}") from exc
    if facts.media.decode_error:
        raise UnreadableSuspect(f"{name}: {facts.media.decode_error}")
    hashes: dict[str, Any] = {}
    m = facts.media
    if m.phash:
        hashes["phash"] = m.phash
    if m.dhash:
        hashes["dhash"] = m.dhash
    if m.frame_hashes:
        hashes["frame_hashes"] = m.frame_hashes
    if m.hash_params:
        hashes["params"] = json.loads(m.hash_params)
    suspect = Suspect(path=os.path.abspath(name), sha256=facts.sha256, kind=facts.kind, hashes=hashes)
    row = inv.conn.execute("SELECT sha256 FROM content WHERE sha256 = ?", (facts.sha256,)).fetchone()
    if row:
        return suspect, Match(facts.sha256, original_path(inv, facts.sha256), "exact", 0, 1.0, 1.0, {})
    if not m.phash or facts.kind != "image":
        return suspect, None
    best: tuple[int, str] | None = None
    for sha, ph in inv.conn.execute(
        "SELECT sha256, phash FROM content WHERE kind = 'image' AND phash IS NOT NULL"
    ):
        d = hamming(m.phash, ph)
        if best is None or d < best[0]:
            best = (d, sha)
    if best is None or best[0] > PHASH_ACCEPT:
        return suspect, None
    d, sha = best
    confidence = round(1.0 - d / 64, 3)
    return suspect, Match(sha, original_path(inv, sha), "perceptual", d, float(64 - d), confidence, {})


def original_path(inv: Inventory, sha256: str) -> str:
    """A current path of the content, else the last path it was seen at."""
    row = inv.conn.execute(
        "SELECT path FROM paths WHERE sha256 = ? ORDER BY missing_since IS NOT NULL, path LIMIT 1", (sha256,)
    ).fetchone()
    if row is None:
        row = inv.conn.execute(
            "SELECT path FROM sightings WHERE sha256 = ? ORDER BY first_seen DESC LIMIT 1", (sha256,)
        ).fetchone()
    return str(row[0]) if row else ""
