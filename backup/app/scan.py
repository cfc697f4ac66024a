"""``backup inventory scan``: record new and changed files, then sign a checkpoint of them.

``record`` is the recording step that every use case which reads the source folders runs first
(the stamp, the backup runs, the daemon's reconciliation); ``scan`` is the creator's command.
Both sign a checkpoint of what they recorded and send waiting timestamp requests: the record
of ownership is only as good as its newest signed head.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from backup.app.results import ForProfile
from backup.app.workspace import open_inventory, proof_store, sources_for, walk_rules
from backup.profile.model import Profile
from backup.proof.store import ProofError
from backup.runs.snapshot import SNAPSHOT_ENTRY
from inventory.progress import Progress
from inventory.record.scan import ScanReport
from inventory.record.scan import scan as scan_sources
from inventory.store.inventory import FileRow, Inventory

ScanResult = ForProfile[ScanReport]


def scan(profile: Profile, paths: Sequence[str] = (), *, progress: Progress | None = None) -> ScanResult:
    """Record new and changed files of the profile's source folders (or of ``paths`` in them)."""
    return ScanResult(profile.name, record(profile, paths, progress=progress))


def record(
    profile: Profile,
    paths: Sequence[str] = (),
    *,
    progress: Progress | None = None,
    on_recorded: Callable[[list[FileRow]], None] | None = None,
    skip_newer: int | None = None,
) -> ScanReport:
    """Record new and changed files of the profile's source folders (or of ``paths`` in them),
    then sign a checkpoint of what was recorded. ``on_recorded`` and ``skip_newer``: see
    ``inventory.record.scan.scan``."""
    sources = sources_for(profile, paths)
    with open_inventory(profile) as inv:
        report = scan_sources(
            inv,
            sources,
            **walk_rules(profile)._asdict(),
            progress=progress,
            on_recorded=on_recorded,
            skip_newer=skip_newer,
        )
        sign_checkpoint(profile, inv, after_scan=True)
        return report


def sign_checkpoint(profile: Profile, inv: Inventory, *, after_scan: bool = False) -> None:
    """Sign a checkpoint of what was just recorded and send waiting timestamp requests. After
    a scan, entries that only note backup snapshots wait for the next checkpoint (so that a
    scan that found nothing new signs nothing). A checkpoint that cannot be made (the ledger
    no longer matches an earlier one) does not stop the work that recorded the content:
    ``backup ledger verify`` names the problem."""
    try:
        proof_store(profile).checkpoint(inv, unless_only=(SNAPSHOT_ENTRY,) if after_scan else ())
    except ProofError:
        pass
