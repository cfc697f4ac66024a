"""The backup engine: one target's part of a run (``backup incremental``, ``backup full``, and a
real-time backup of important files).

One run: scan (the inventory must know every file; unchanged files are not re-read), then for
each target in turn: open it, decide what it lacks, keep the earlier content of changed files
under ``versions/``, upload, copy the inventory, and write the snapshot last. A failing target
is reported and the others go on.

- incremental: what the catalog (``backups.sqlite``) does not list as stored with the same
  SHA-256 is uploaded. A target the catalog does not know yet gets a full comparison.
- full: every original is compared with the target by SHA-256 (the hashes the target stores, or
  by reading the object), and whatever is missing or different is uploaded; the catalog is
  rebuilt from what was found. It also replaces the copies known to be damaged and reads back
  its rotating share of the target (``backup.runs.repairs``, ``backup.runs.readback``).
- repair (``backup repair``): only the copies known to be damaged, without a snapshot.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from backup.runs import layout
from backup.runs.catalog import Catalog, Listing, StoredObject, StoredRow
from backup.runs.plan import Want, compare_content, object_sha256
from backup.runs.readback import COUNTED, READ_BACK, ReadBack
from backup.runs.repairs import Repairs
from backup.runs.results import TargetResult
from backup.runs.sidecar import InventorySource, Sidecar
from backup.runs.snapshot import (
    Entry,
    Snapshot,
    files_section,
    iso,
    iso_from_ns,
    new_id,
    render,
)
from backup.targets.base import (
    BatchUpload,
    ObjectError,
    ObjectInfo,
    Target,
    TargetError,
    Temporaries,
)
from inventory.progress import Progress
from inventory.workers import Pool

KINDS = ("incremental", "full")
REPAIRING = ("full", "repair")  # the kinds of run that replace copies known to be damaged
RECORD_EVERY = 1.0  # seconds between catalog commits while uploading
BATCH = 200  # originals per put_files call (targets that take batches: base.BatchUpload)


class TargetRun(Repairs):
    """One target's part of a run, as a stream: ``start()`` opens the target and learns what it
    holds; ``offer()`` takes originals as they become known (from the scan, while it goes on)
    and queues what the target lacks on a pool of upload threads; ``finish()`` offers the rest,
    waits, copies the inventory and writes the snapshot. Failures of the whole target end up in
    the result (status ``failed``), never as an exception."""

    def __init__(
        self,
        target: Target,
        *,
        kind: str,
        identity: str,
        sidecar: Sidecar,
        catalog: Catalog,
        progress: Progress | None = None,
        damaged: Mapping[str, Mapping[str, str]] | None = None,
        recorded: Callable[[str], bool] | None = None,
        read_back: int = 0,
    ) -> None:
        """``damaged``: {key: the finding (``problem``, ``found_by``)} of the copies on this
        target known to be damaged, replaced by a ``full`` or ``repair`` run without a look.
        ``recorded``: whether a SHA-256 is a content the inventory recorded; the object a
        changed original replaces is kept under versions/ only when it holds one (anything else
        is a damaged copy, replaced and reported in ``result.repaired``). ``read_back``: a full
        run reads back ``1/read_back`` of the originals (``backup.runs.readback``; 0: none)."""
        self.t = target
        self.kind = kind
        self.identity = identity
        self.sidecar = sidecar
        self.catalog = catalog
        self.progress = progress or Progress()
        self.result = TargetResult(target.name)
        self.started = datetime.now(timezone.utc)
        self.compare_all = True
        self.listing: dict[str, ObjectInfo] = {}
        self._stored: dict[str, str] | None = None
        self.offered: set[str] = set()
        self.failed_paths: set[str] = set()
        self.done: list[StoredRow] = []
        self.pending: Pool[Want | list[Want]] = Pool(1, f"upload-{target.name}")
        self._batched: list[Want] = []
        self.ready = False
        self.error: BaseException | None = None
        self._last = time.monotonic()
        self._starter: threading.Thread | None = None
        self._backlog: list[Want] = []
        self._start_error: BaseException | None = None
        self.damaged = dict(damaged or {}) if kind in REPAIRING else {}
        self.recorded = recorded
        self.cycle = read_back if kind == "full" else 0
        self.read_back: ReadBack | None = None
        self._found: dict[str, dict[str, str]] = {}  # damage found, until its upload ends
        self._found_lock = threading.Lock()

    # -- phases -----------------------------------------------------------------------------

    def start(self) -> bool:
        """Open the target and learn what it holds; False (with the result failed) if it
        cannot be used."""
        t, catalog = self.t, self.catalog
        try:
            t.open_session()
            self.compare_all = (
                self.kind == "full"
                or not catalog.known_target(t.name, self.identity)
                or not catalog.has_any(t.name)
            )
            catalog.remember_target(t.name, self.identity)
            if self.cycle > 0:
                self.read_back = ReadBack(self.cycle, catalog.count_runs(t.name, READ_BACK, COUNTED))
            if self.compare_all:
                if isinstance(t, Temporaries):  # leftovers of a killed run (this run holds the lock)
                    t.clean_temporaries()
                self.listing = {i.key: i for i in t.list(layout.ORIGINALS, hashes=True)}
        except (TargetError, ObjectError, OSError) as exc:
            self._target_failed(exc)
            return False
        self.pending = Pool(upload_workers(t), f"upload-{t.name}")
        self.ready = True
        return True

    @property
    def stored(self) -> dict[str, str]:
        """{key: sha256} the catalog says the target holds (read when first needed: a run
        with nothing new never needs it)."""
        if self._stored is None:
            self._stored = self.catalog.stored(self.t.name)
        return self._stored

    def _submit(self, fn: Any, *args: Any) -> None:
        self.pending.submit(args[0], fn, *args)

    def start_in_background(self) -> None:
        """``start()`` on a thread of its own (connecting to a cloud service takes a while),
        so that the scan goes on meanwhile; ``offer()`` keeps what it gets until it is done."""

        def run() -> None:
            try:
                self.start()
            except BaseException as exc:  # raised again by wait_started(), in the caller's thread
                self._start_error = exc

        self._starter = threading.Thread(target=run, name=f"open-{self.t.name}", daemon=True)
        self._starter.start()

    def wait_started(self) -> bool:
        """Wait for a background ``start()``; whether the target can be used."""
        if self._starter is not None:
            self._starter.join()
            self._starter = None
            if self._start_error is not None:
                raise self._start_error
            backlog, self._backlog = self._backlog, []
            self.offer(backlog)
        return self.ready

    def offer(self, wants: Iterable[Want]) -> None:
        """Queue what the target lacks among ``wants`` (call from one thread)."""
        if self._starter is not None:
            if self._starter.is_alive():
                self._backlog.extend(wants)
                return
            self.wait_started()
        if not self.ready or self.error is not None:
            return
        batchable = isinstance(self.t, BatchUpload)
        for w in wants:
            if w.key in self.offered:
                continue
            self.offered.add(w.key)
            if w.key in self.damaged:
                self._submit(self._replace, w)
            elif self.compare_all:
                info = self.listing.get(w.key)
                if info is None and batchable:
                    self._batch(w)
                else:
                    self._submit(self._compare_and_put, w, info)
            elif self.stored.get(w.key) == w.sha256:
                self.result.unchanged += 1
            elif w.key not in self.stored and batchable:
                self._batch(w)
            else:
                known = self.catalog.stored_row(self.t.name, w.key) if w.key in self.stored else None
                self._submit(self._put, w, None, known)
        self._collect(block=False)

    def _batch(self, want: Want) -> None:
        """Originals new to a target that takes batches (``BatchUpload``: one rclone process for
        many files) are sent BATCH at a time."""
        self._batched.append(want)
        if len(self._batched) >= BATCH:
            self._flush_batch()

    def _flush_batch(self) -> None:
        if self._batched:
            batch, self._batched = self._batched, []
            self._submit(self._put_batch, batch)

    def _put_batch(self, batch: list[Want]) -> dict[str, Exception | None]:
        assert isinstance(self.t, BatchUpload)  # only batched when it is (see offer)
        return self.t.put_files([(w.key, Path(w.src), w.sha256, w.size) for w in batch], self._bytes)

    def finish(self, all_wants: Callable[[], Sequence[Want]], inventory: InventorySource) -> TargetResult:
        """Offer the rest, wait for every upload, copy the inventory, write the snapshot.
        ``all_wants`` gives every original (asked only when needed: an incremental run over an
        inventory that has not changed since this target's last snapshot takes that
        snapshot's list of files as it is)."""
        with self._ending():
            if self.ready and (last := self._unchanged(inventory)) is not None:
                self.result.unchanged = last.files
                self._write_snapshot(last, inventory, remember=False)
            elif self.ready:
                wants = all_wants()
                rest = [w for w in wants if w.key not in self.offered]
                self.progress.started(
                    "upload", len(rest) + len(self.pending), sum(w.size for w in rest), target=self.t.name
                )
                try:
                    self._send(wants)
                finally:
                    self.progress.finished("upload")
                self._write_snapshot(self._listing(wants), inventory)
                self._log_read_back()
        return self.result

    def send(self, wants: Sequence[Want]) -> TargetResult:
        """Upload what the target lacks among ``wants`` and record it in the catalog, without a
        snapshot: the daemon's real-time backup of important folders (the next scheduled run's
        snapshot lists the files)."""
        with self._ending():
            if self.ready:
                self._send(wants)
                self.result.status = "partial" if self.result.failed else "ok"
        return self.result

    def _send(self, wants: Sequence[Want]) -> None:
        self.offer(wants)
        self._flush_batch()
        self._collect(block=True)
        if self.error is not None:
            raise self.error

    @contextlib.contextmanager
    def _ending(self) -> Iterator[None]:
        """The end of ``finish()`` and ``send()``: a failure of the whole target goes into the
        result; the pool is shut down, the target closed and the run logged in any case (an
        interruption as ``interrupted``)."""
        try:
            yield
        except (TargetError, ObjectError, OSError) as exc:
            self._target_failed(exc)
        except BaseException:
            self.result.status = "interrupted"  # Ctrl-C, a daemon stopping
            raise
        finally:
            self._shutdown()
            self.t.close()
            self.catalog.log_run(
                self.t.name,
                self.kind,
                iso(self.started),
                self.result.status,
                files=self.result.files,
                bytes=self.result.bytes,
                snapshot=self.result.snapshot,
                error=self.result.error,
            )

    def abandon(self) -> TargetResult:
        """End a run that cannot go on: the target failed to open, the scan failed, or the
        target failed while it took files during the scan (a full drive: that failure is the
        result, never an "ok" without a snapshot; an interruption is raised again)."""
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        self._shutdown()
        self.t.close()
        error = self.error
        if error is not None and self.result.status != "failed":
            if not isinstance(error, (TargetError, ObjectError, OSError)):
                self.result.status = "interrupted"
                self.catalog.log_run(self.t.name, self.kind, iso(self.started), "interrupted")
                raise error
            self._target_failed(error)
        if self.result.status == "failed":
            self.catalog.log_run(
                self.t.name,
                self.kind,
                iso(self.started),
                "failed",
                files=self.result.files,
                bytes=self.result.bytes,
                error=self.result.error,
            )
        return self.result

    # -- work on the pool -------------------------------------------------------------------

    def _compare_and_put(self, want: Want, info: ObjectInfo | None) -> int:
        if info is None:
            return self._put(want, None)
        if self.read_back is not None and self.read_back.chosen(want.key):
            return self._read_back(want, info)
        try:
            same, sha = compare_content(self.t, info, want)
        except (ObjectError, OSError):
            same, sha = False, None  # unreadable on either side: store it again
        return -1 if same else self._put(want, info, compared=True, old_sha=sha)

    def _put(
        self,
        want: Want,
        prior: ObjectInfo | None,
        known: StoredObject | None = None,
        *,
        compared: bool = False,
        old_sha: str | None = None,
        found_by: str | None = None,
    ) -> int:
        """Upload one original, keeping what it replaces under versions/ when that is an
        earlier content (a damaged copy is not kept: ``Repairs``); bytes sent, or -1
        when the target turned out to hold it already. ``known``: what the catalog says the
        target holds under the key (sha256, size, mtime_ns). ``compared``: ``prior`` was
        already found to differ (``old_sha``: its SHA-256, if that came out), so it is not read
        again."""
        t = self.t
        if prior is None and known is not None:  # an incremental run, changed content
            prior = t.stat(want.key)
        if prior is not None:
            if not compared:
                same, old_sha = compare_content(t, prior, want)
                if same:
                    return -1  # already there (an earlier run stopped before recording it)
            # What the object holds, as the target stores it or read back (not what the catalog
            # says was stored there: a damaged copy must not pass for the earlier content).
            old_sha = old_sha or object_sha256(t, want.key)[0]
            if self._earlier(old_sha, want):
                mtime = known.mtime_ns / 1e9 if known else (prior.mtime or time.time())
                vkey = layout.version_key(want.path, old_sha, mtime)
                if t.stat(vkey) is None:
                    t.copy(want.key, vkey)
                    self.result.versions += 1
            else:  # not content ever recorded: a damaged copy, replaced and not kept
                why = (
                    f"size {prior.size}, expected {want.size}"
                    if prior.size != want.size
                    else f"content differs: SHA-256 {old_sha}, expected {want.sha256}"
                )
                self._note_found(want, why, found_by or self.kind)
        t.put_file(want.key, Path(want.src), want.sha256, want.size, self._bytes, mtime_ns=want.mtime_ns)
        return want.size

    def _bytes(self, n: int) -> None:
        self.progress.advanced("upload", n)

    # -- bookkeeping (in the calling thread) ------------------------------------------------

    def _collect(self, block: bool) -> None:
        while self.pending:
            finished = self.pending.finished(block=block)
            if not finished:
                break
            for item, fut in finished:
                wants = item if isinstance(item, list) else [item]
                try:
                    outcome = fut.result()
                except (TargetError, KeyboardInterrupt) as exc:
                    self.error = self.error or exc
                    self._shutdown()
                    return
                except (ObjectError, OSError) as exc:
                    for want in wants:
                        self._fail(want, exc)
                    continue
                for want in wants:
                    if isinstance(outcome, dict):  # a batch: {key: None | the error}
                        err = outcome.get(want.key)
                        if err is not None:
                            self._fail(want, err)
                            continue
                        sent = want.size
                    else:
                        sent = outcome
                    self._done(want, sent)
            if self.done and (not self.pending or time.monotonic() - self._last > RECORD_EVERY):
                self.catalog.record(self.t.name, self.done)
                self.done = []
                self._last = time.monotonic()
        if self.done and not self.pending:
            self.catalog.record(self.t.name, self.done)
            self.done = []

    def _done(self, want: Want, sent: int) -> None:
        self.done.append((want.key, want.sha256, want.size, want.mtime_ns))
        if (found := self._take_found(want, stored=True)) is not None:
            bisect.insort(self.result.repaired, found, key=lambda item: item["path"])
        if sent >= 0:
            self.result.files += 1
            self.result.bytes += sent
        else:
            self.result.unchanged += 1
        self.progress.file_done("upload", want.path)

    def _fail(self, want: Want, exc: BaseException) -> None:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, OSError) and not isinstance(exc, ObjectError):
            reason = f"{want.src}: {reason}"
        self.failed_paths.add(want.path)
        if (found := self._take_found(want, stored=False)) is not None:
            bisect.insort(self.result.damaged, found, key=lambda item: item["path"])
        # in path order, not in the order uploads end
        bisect.insort(self.result.failed, {"path": want.path, "error": reason}, key=lambda item: item["path"])
        self.progress.file_done("upload", want.path)

    def _shutdown(self) -> None:
        self.ready = False
        # Uploads not started are dropped; the ones running finish (each is atomic either way).
        self.pending.close()
        if self.done:
            self.catalog.record(self.t.name, self.done)
            self.done = []

    def _target_failed(self, exc: BaseException) -> None:
        self.result.status = "failed"
        self.result.error = f"{exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)

    def _holds(self, key: str, sha256: str, size: int) -> bool:
        """Whether the catalog says the target holds these bytes under ``key`` and the target
        still has an object of that size there."""
        row = self.catalog.stored_row(self.t.name, key)
        if row is None or row.sha256 != sha256 or row.size != size:
            return False
        info = self.t.stat(key)
        return info is not None and info.size == size

    def _copy_proof(self) -> None:
        """The ledger's public key and its signed checkpoints with their timestamps, under
        ``inventory/``. They never change once written: an incremental run trusts the catalog,
        a full run checks the target's listing."""
        t = self.t
        files = list(self.sidecar.proof_files())
        if not files:
            return
        listed = {o.key: o.size for o in t.list(layout.INVENTORY)} if self.kind == "full" else None
        known = self.catalog.stored_under(t.name, layout.INVENTORY)
        for name, path in files:
            key = layout.INVENTORY + name
            row = known.get(key)
            st = path.stat()
            if (
                listed is None
                and row is not None
                and (row.size, row.mtime_ns) == (st.st_size, st.st_mtime_ns)
            ):
                continue  # sent as it is now (the quick check of the originals, for a file
                # that is written once; a rotated key file gets a new time)
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            held = row is not None and row.sha256 == sha and row.size == len(data)
            there = held and (listed is None or listed.get(key) == len(data))
            if there and row is not None and row.mtime_ns == st.st_mtime_ns:
                continue
            if not there:
                t.put_bytes(key, data)
            self.catalog.record(t.name, [(key, sha, len(data), st.st_mtime_ns)])

    def _unchanged(self, inventory: InventorySource) -> Listing | None:
        """The last snapshot's (files, bytes, files section), when this is an incremental run
        that found nothing to send and the inventory is as it was when that snapshot was made
        (the catalog forgets it as soon as anything is stored on the target)."""
        if self.compare_all or self.kind != "incremental" or self.offered or self.pending:
            return None
        return self.catalog.manifest(self.t.name, inventory.fingerprint)

    def _listing(self, wants: Sequence[Want]) -> Listing:
        """The snapshot's originals: every one but those that failed."""
        entries = [
            Entry(w.path, w.sha256, w.size, iso_from_ns(w.mtime_ns))
            for w in wants
            if w.path not in self.failed_paths
        ]
        return Listing(len(entries), sum(e.size for e in entries), files_section(entries))

    def _write_snapshot(self, listing: Listing, inventory: InventorySource, *, remember: bool = True) -> None:
        """Copy the inventory and the profile if the target lacks them as they are now, then
        write the manifest (and ``remember`` its list, for the next run to take as it is)."""
        t, result = self.t, self.result
        held = self.catalog.inventory_copy(t.name)
        there = t.stat(layout.INVENTORY_DB) if held and held.fingerprint == inventory.fingerprint else None
        if held and there is not None and there.size == held.size:
            db_sha, db_size = held.sha256, held.size  # the target holds the inventory as it is now
        else:
            db = inventory.copy()
            t.put_file(layout.INVENTORY_DB, db.path, db.sha256, db.size, mtime_ns=db.mtime_ns)
            self.catalog.remember_inventory_copy(t.name, inventory.fingerprint, db.sha256, db.size)
            db_sha, db_size = db.sha256, db.size
        profile_bytes = Path(self.sidecar.profile_file).read_bytes()
        profile_sha = hashlib.sha256(profile_bytes).hexdigest()
        if not self._holds(layout.INVENTORY_PROFILE, profile_sha, len(profile_bytes)):
            t.put_bytes(layout.INVENTORY_PROFILE, profile_bytes)
            self.catalog.record(t.name, [(layout.INVENTORY_PROFILE, profile_sha, len(profile_bytes), 0)])
        self._copy_proof()
        finished = datetime.now(timezone.utc)
        snap = Snapshot(
            id=new_id(self.kind, finished),
            kind=self.kind,
            profile=self.sidecar.profile,
            target=t.name,
            started=iso(self.started),
            finished=iso(finished),
            entries=(),
            failed=tuple(result.failed),
            inventory={"key": layout.INVENTORY_DB, "sha256": db_sha, "size": db_size},
        )
        manifest = render(snap.head(listing.files, listing.bytes), listing.section)
        t.put_bytes(layout.snapshot_key(snap.id), manifest)
        if remember and not result.failed:
            self.catalog.remember_manifest(t.name, inventory.fingerprint, listing)
        result.snapshot = snap.id
        result.total_files = listing.files
        result.total_bytes = listing.bytes
        result.status = "partial" if result.failed else "ok"


def upload_workers(target: Target) -> int:
    env = os.environ.get("KEEPMARK_UPLOADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return 4  # as rclone's --transfers: more only adds contention, locally and at the service


def back_up_to(
    target: Target,
    wants: Sequence[Want],
    *,
    kind: str,
    identity: str,
    sidecar: Sidecar,
    catalog: Catalog,
    inventory: InventorySource,
    progress: Progress | None = None,
) -> TargetResult:
    """One target's part of a run, all at once (the originals are known)."""
    run = TargetRun(target, kind=kind, identity=identity, sidecar=sidecar, catalog=catalog, progress=progress)
    return run.finish(lambda: wants, inventory) if run.start() else run.abandon()
