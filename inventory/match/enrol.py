"""Enrolling the matching hashes of records made before they existed (schema 2 and earlier).

A scan enrols every new photo's window pHashes and every new video's frame sequence. Records
from an older inventory have neither; the first match after the upgrade reads each such
original once more from a path where it still is (checking its SHA-256) and enrols it. A record
whose file is nowhere to be found can only be matched exactly until it is seen again. When this
is done the ``meta`` key ``match_enrolled`` is set, so later matches skip the check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inventory.store.inventory import Inventory


def enrol_missing(inv: Inventory) -> int:
    """Enrol the originals recorded without matching hashes; return how many were enrolled."""
    from inventory.record.examine import examine

    if inv.match_enrolled():
        return 0
    enrolled = 0
    for sha in inv.unenrolled_media():
        for path in inv.paths_of(sha):
            try:
                facts, _ = examine(path)
            except OSError:
                continue
            if facts.sha256 != sha or facts.media.decode_error:
                continue
            inv.enrol(sha, facts.media)
            enrolled += 1
            break
    inv.note_match_enrolled()
    return enrolled
