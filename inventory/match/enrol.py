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

DONE_KEY = "match_enrolled"


def enrol_missing(inv: Inventory) -> int:
    """Enrol the originals recorded without matching hashes; return how many were enrolled."""
    from inventory.record.examine import examine
    from inventory.store.inventory import add_match_hashes

    conn = inv.conn
    if conn.execute("SELECT 1 FROM meta WHERE key = ?", (DONE_KEY,)).fetchone():
        return 0
    todo = conn.execute(
        "SELECT c.sha256 FROM content c WHERE c.kind IN ('image', 'video') AND c.phash IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM match_hashes m WHERE m.sha256 = c.sha256) "
        "AND NOT EXISTS (SELECT 1 FROM frame_sequences f WHERE f.sha256 = c.sha256)"
    ).fetchall()
    enrolled = 0
    for (sha,) in todo:
        paths = conn.execute(
            "SELECT path FROM paths WHERE sha256 = ? ORDER BY missing_since IS NOT NULL", (sha,)
        ).fetchall()
        for (path,) in paths:
            try:
                facts, _ = examine(path)
            except OSError:
                continue
            if facts.sha256 != sha or facts.media.decode_error:
                continue
            with inv.transaction() as tx:
                add_match_hashes(tx, sha, facts.media)
            enrolled += 1
            break
    with inv.transaction() as tx:
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", (DONE_KEY,))
    return enrolled
