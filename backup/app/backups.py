"""``backup incremental`` and ``backup full`` (and the daemon's scheduled runs), the daemon's
real-time backup of important files, and ``backup verify``'s reading of the targets."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from backup.app.repair import DamageBook
from backup.app.results import ForProfile
from backup.app.scan import record
from backup.app.workspace import (
    chosen_targets,
    made_targets,
    open_inventory,
    sidecar,
    source_labels,
    targets_for,
)
from backup.errors import StateError
from backup.home import state_dir
from backup.profile.model import Profile
from backup.runs.catalog import Catalog, catalog_path
from backup.runs.engine import TargetRun
from backup.runs.lock import run_lock
from backup.runs.plan import check_kind, wanted_files
from backup.runs.results import RunReport, TargetResult
from backup.runs.sidecar import InventorySource
from backup.runs.snapshot import SNAPSHOT_ENTRY
from backup.targets import identity
from backup.targets.base import TargetError
from inventory.progress import Progress
from inventory.store.inventory import FileRow

if TYPE_CHECKING:
    from backup.runs.verify import VerifyResult


def run_backup(
    profile: Profile,
    kind: str,
    *,
    only: Sequence[str] = (),
    progress: Progress | None = None,
) -> RunReport:
    """Scan the profile's sources, then back the originals up to each chosen target.

    The first target is opened before the scan and takes new and changed files as the scan
    records them, so hashing and copying overlap; the others follow one after the other."""
    check_kind(kind)
    configs = chosen_targets(profile, only)
    folder = state_dir(profile.name)
    report = RunReport(kind)
    with (
        run_lock(folder, f"backup {kind}"),
        Catalog(catalog_path(folder)) as catalog,
        open_inventory(profile) as record_of_damage,
    ):
        # What verify found damaged, and what tells a damaged copy from an earlier version.
        book = DamageBook(record_of_damage)
        runs: list[TargetRun | TargetResult] = [
            TargetResult(cfg.name, status="failed", error=str(target))
            if isinstance(target, TargetError)
            else TargetRun(
                target,
                kind=kind,
                identity=identity(cfg),
                sidecar=sidecar(profile),
                catalog=catalog,
                progress=progress,
                damaged=book.known(cfg.name) if kind == "full" else None,
                recorded=book.recorded,
                read_back=profile.schedule.read_back_cycle,
            )
            for cfg, target in made_targets(profile, configs, catalog)
        ]
        first = next((r for r in runs if isinstance(r, TargetRun)), None)
        if first is not None:
            if first.t.opens_quickly:
                first.start()  # a thread would only slow the scan down
            else:
                first.start_in_background()  # connecting to a service overlaps the scan

        labels = source_labels(profile)

        def stream(rows: list[FileRow]) -> None:
            if first is not None:
                first.offer(wanted_files(rows, labels))

        try:
            report.scan = record(profile, progress=progress, on_recorded=stream).as_dict()
            streaming = first is not None and first.wait_started()
        except BaseException:
            if first is not None:
                first.abandon()
            raise
        with open_inventory(profile) as inv:
            # Every original, read only if some target needs the list (see TargetRun.finish).
            wants = functools.cache(lambda: wanted_files(inv.current_files(), labels))
            copy = InventorySource(inv, folder)
            try:
                for item in runs:
                    if isinstance(item, TargetResult):
                        result = item
                    elif item is first:
                        result = item.finish(wants, copy) if streaming else item.abandon()
                    elif item.start():
                        result = item.finish(wants, copy)
                    else:
                        result = item.abandon()
                    report.targets.append(result)
                    book.settle(result, f"backup {kind}")
                    if result.snapshot:
                        inv.note(
                            SNAPSHOT_ENTRY,
                            {
                                "target": result.name,
                                "snapshot": result.snapshot,
                                "kind": kind,
                                "files": result.total_files,
                                "bytes": result.total_bytes,
                            },
                        )
            finally:
                copy.close()
    return report


BackupRun = ForProfile[RunReport]


def incremental(profile: Profile, *, only: Sequence[str] = (), progress: Progress | None = None) -> BackupRun:
    """The weekly job: new and changed originals to every target (or those named), then a
    snapshot on each."""
    return BackupRun(profile.name, run_backup(profile, "incremental", only=only, progress=progress))


def full(profile: Profile, *, only: Sequence[str] = (), progress: Progress | None = None) -> BackupRun:
    """The monthly job: every original checked on every target by SHA-256, what is missing or
    different uploaded, then a snapshot on each."""
    return BackupRun(profile.name, run_backup(profile, "full", only=only, progress=progress))


REALTIME = "realtime"


def back_up_files(profile: Profile, rows: Sequence[FileRow], only: Sequence[str] = ()) -> list[TargetResult]:
    """Back these recorded originals up to every target (those named in ``only``) now, without
    a snapshot (the daemon's real-time path for important folders). Holds the run lock: raises
    ``Busy`` while another run of the profile is in progress."""
    folder = state_dir(profile.name)
    results: list[TargetResult] = []
    with (
        run_lock(folder, "real-time backup"),
        Catalog(catalog_path(folder)) as catalog,
        open_inventory(profile) as inv,
    ):
        wants = wanted_files(rows, source_labels(profile, inv=inv))
        book = DamageBook(inv)  # a damaged copy is replaced, not kept as a version
        for cfg, target in made_targets(profile, chosen_targets(profile, only), catalog):
            if isinstance(target, TargetError):
                results.append(TargetResult(cfg.name, status="failed", error=str(target)))
                continue
            run = TargetRun(
                target,
                kind=REALTIME,
                identity=identity(cfg),
                sidecar=sidecar(profile),
                catalog=catalog,
                recorded=book.recorded,
            )
            results.append(run.send(wants) if run.start() else run.abandon())
            book.settle(results[-1], "real-time backup")
    return results


def verify_profile(
    profile: Profile,
    only: Sequence[str] = (),
    *,
    snapshot: str | None = None,
    read_data: bool = False,
    sample: float | None = None,
    progress: Progress | None = None,
) -> list[VerifyResult]:
    """Verify the chosen targets' snapshot (``backup verify``), and log each verify in the
    catalog (the health check asks when data was last read back)."""
    from backup.runs.snapshot import iso, utc_datetime
    from backup.runs.verify import VerifyResult, verify_target

    results = []
    with contextlib.ExitStack() as stack:
        try:  # where what is found damaged is recorded, when there is an inventory
            book: DamageBook | None = DamageBook(stack.enter_context(open_inventory(profile, create=False)))
        except StateError:
            book = None
        for cfg, target in targets_for(profile, only):
            started = iso(utc_datetime())
            if isinstance(target, Exception):
                result = VerifyResult(cfg.name, status="failed", error=str(target))
            else:
                result = verify_target(
                    target, snapshot, read_data=read_data, sample=sample, progress=progress
                )
                if book is not None and result.status != "failed":
                    book.verified(result)
            log_verify(
                profile,
                cfg.name,
                started,
                result.status,
                kind="verify-read" if (read_data or sample) else "verify",
                files=result.read,
                bytes=result.bytes_read,
                snapshot=result.snapshot,
                error=result.error or (f"{len(result.problems)} problems" if result.problems else None),
            )
            results.append(result)
    return results


def log_verify(profile: Profile, target: str, started: str, status: str, **fields: Any) -> None:
    """Remember a verify (the health check asks when data was last read back)."""
    with Catalog(catalog_path(state_dir(profile.name))) as catalog:
        catalog.log_run(target, fields.pop("kind", "verify"), started, status, **fields)
