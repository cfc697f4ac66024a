"""``backup incremental`` and ``backup full``: the profile's originals onto every target.

One run: scan (the inventory must know every file; unchanged files are not re-read), then for
each target in turn: open it, decide what it lacks, keep the earlier content of changed files
under ``versions/``, upload, copy the inventory, and write the snapshot last. A failing target
is reported and the others go on.

- incremental: what the catalog (``backups.sqlite``) does not list as stored with the same
  SHA-256 is uploaded. A target the catalog does not know yet gets a full comparison.
- full: every original is compared with the target by SHA-256 (the hashes the target stores, or
  by reading the object), and whatever is missing or different is uploaded; the catalog is
  rebuilt from what was found.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from backup.errors import UsageError
from backup.profile.model import Profile
from backup.runs import layout
from backup.runs.catalog import Catalog, StoredRow
from backup.runs.snapshot import Entry, Snapshot, iso, iso_from_ns, new_id
from backup.targets.base import CHUNK, ObjectError, ObjectInfo, SourceChanged, Target, TargetError

KINDS = ("incremental", "full")
RECORD_EVERY = 1.0  # seconds between catalog commits while uploading


class Want(NamedTuple):
    """One original that a target must hold."""

    path: str  # <source folder name>/<relpath>
    key: str
    src: str
    sha256: str
    size: int
    mtime_ns: int


class RunProgress(Protocol):
    def begin(self, label: str, files: int, total_bytes: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def file_done(self) -> None: ...

    def end(self) -> None: ...


@dataclass
class TargetResult:
    name: str
    status: str = "ok"  # ok | partial | failed
    files: int = 0  # uploaded by this run
    bytes: int = 0
    snapshot: str | None = None
    error: str | None = None
    total_files: int = 0  # in the snapshot
    total_bytes: int = 0
    unchanged: int = 0
    versions: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "files": self.files,
            "bytes": self.bytes,
            "snapshot": self.snapshot,
            "error": self.error,
            "total_files": self.total_files,
            "total_bytes": self.total_bytes,
            "unchanged": self.unchanged,
            "versions": self.versions,
            "failed": self.failed,
        }


@dataclass
class RunReport:
    kind: str
    scan: dict[str, Any] = field(default_factory=dict)
    targets: list[TargetResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.scan.get("errors") and all(t.status == "ok" for t in self.targets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ok": self.ok,
            "scan": self.scan,
            "targets": [t.as_dict() for t in self.targets],
        }


def wanted_files(rows: Iterable[tuple[str, str, str, str, int, int]]) -> list[Want]:
    out = []
    for root, relpath, path, sha, size, mtime_ns in rows:
        p = layout.snapshot_path(root, relpath)
        out.append(Want(p, layout.original_key(p), path, sha, size, mtime_ns))
    return out


def read_sha256(target: Target, key: str) -> str:
    digest = hashlib.sha256()
    with target.open(key) as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def same_content(target: Target, info: ObjectInfo, want: Want) -> bool:
    """Whether the object holds exactly the original's bytes, by the cheapest honest means: the
    SHA-256 the target stores, another hash it stores against the same hash of the local file,
    or reading the object."""
    if info.size != want.size:
        return False
    if "sha256" in info.hashes:
        return info.hashes["sha256"].lower() == want.sha256
    for name, value in sorted(info.hashes.items()):
        try:
            return target.local_hash(name, Path(want.src)).lower() == value.lower()
        except (OSError, ValueError, ObjectError):
            break
    return read_sha256(target, info.key) == want.sha256


class _Uploader:
    """Uploads one target's share of a run with a pool of threads, keeping earlier contents
    under versions/, recording what is durable in the catalog as it goes."""

    def __init__(
        self,
        target: Target,
        catalog: Catalog,
        result: TargetResult,
        stored: dict[str, tuple[str, int, int]],
        progress: RunProgress | None,
        workers: int,
    ) -> None:
        self.t = target
        self.catalog = catalog
        self.result = result
        self.stored = stored
        self.progress = progress
        self.workers = workers
        self.done: list[StoredRow] = []
        self.failed_paths: set[str] = set()
        self._last = time.monotonic()

    def flush(self, force: bool = False) -> None:
        if self.done and (force or time.monotonic() - self._last > RECORD_EVERY):
            self.catalog.record(self.result.name, self.done)
            self.done = []
            self._last = time.monotonic()

    def one(self, want: Want, prior: ObjectInfo | None) -> int:
        """Upload one original; the bytes sent. Raises ObjectError for this file only."""
        t = self.t
        known = self.stored.get(want.key)
        if prior is None and known is not None:  # an incremental run, changed content
            prior = t.stat(want.key)
        if prior is not None:
            if same_content(t, prior, want):
                return 0  # already there (an earlier run stopped before recording it)
            old_sha = prior.hashes.get("sha256") or (known[0] if known else None) or read_sha256(t, want.key)
            mtime = known[2] / 1e9 if known else (prior.mtime or time.time())
            vkey = layout.version_key(want.path, old_sha, mtime)
            if t.stat(vkey) is None:
                t.copy(want.key, vkey)
                self.result.versions += 1
        t.put_file(want.key, Path(want.src), want.sha256, want.size, self._bytes)
        return want.size

    def _bytes(self, n: int) -> None:
        if self.progress is not None:
            self.progress.advance(n)

    def run(self, todo: Sequence[tuple[Want, ObjectInfo | None]]) -> None:
        fresh = [w for w, p in todo if p is None and w.key not in self.stored]
        batch_put = getattr(self.t, "put_files", None)
        singles = list(todo)
        if batch_put is not None and fresh:
            self._batched(batch_put, fresh)
            done_keys = {w.key for w in fresh}
            singles = [(w, p) for w, p in todo if w.key not in done_keys]
        with ThreadPoolExecutor(self.workers, thread_name_prefix=f"upload-{self.result.name}") as pool:
            pending: dict[Future[int], Want] = {}
            items = iter(singles)
            try:
                while True:
                    while len(pending) < self.workers * 2:
                        nxt = next(items, None)
                        if nxt is None:
                            break
                        pending[pool.submit(self.one, *nxt)] = nxt[0]
                    if not pending:
                        break
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        self._finish(pending.pop(fut), fut)
                    self.flush()
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
            finally:
                self.flush(force=True)

    def _finish(self, want: Want, fut: Future[int]) -> None:
        try:
            sent = fut.result()
        except (ObjectError, OSError) as exc:
            self._fail(want, exc)
            return
        self._ok(want, sent)

    def _ok(self, want: Want, sent: int) -> None:
        self.done.append((want.key, want.sha256, want.size, want.mtime_ns))
        if sent:
            self.result.files += 1
            self.result.bytes += sent
        if self.progress is not None:
            self.progress.file_done()

    def _fail(self, want: Want, exc: BaseException) -> None:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, OSError) and not isinstance(exc, SourceChanged):
            reason = f"{want.src}: {reason}"
        self.failed_paths.add(want.path)
        self.result.failed.append({"path": want.path, "error": reason})
        if self.progress is not None:
            self.progress.file_done()

    def _batched(self, put_files: Callable[..., dict[str, BaseException | None]], fresh: list[Want]) -> None:
        size = 500
        for i in range(0, len(fresh), size):
            chunk = fresh[i : i + size]
            outcome = put_files([(w.key, Path(w.src), w.sha256, w.size) for w in chunk], self._bytes)
            for w in chunk:
                err = outcome.get(w.key)
                if err is None:
                    self._ok(w, w.size)
                elif isinstance(err, TargetError):
                    raise err
                else:
                    self._fail(w, err)
            self.flush(force=True)


def compare(
    target: Target, wants: Sequence[Want], workers: int, progress: RunProgress | None
) -> tuple[list[tuple[Want, ObjectInfo | None]], list[Want]]:
    """Full comparison with the target's listing: (to upload with what is there now, already
    there)."""
    listing = {i.key: i for i in target.list(layout.ORIGINALS, hashes=True)}
    todo: list[tuple[Want, ObjectInfo | None]] = []
    check: list[tuple[Want, ObjectInfo]] = []
    for w in wants:
        info = listing.get(w.key)
        if info is None:
            todo.append((w, None))
        elif info.size != w.size:
            todo.append((w, info))
        else:
            check.append((w, info))
    present: list[Want] = []
    if progress is not None:
        progress.begin(f"{target.name}: checking", len(check), sum(w.size for w, _ in check))
    with ThreadPoolExecutor(workers, thread_name_prefix=f"check-{target.name}") as pool:
        for (w, info), same in zip(
            check, pool.map(lambda c: _same_or_error(target, c[1], c[0]), check), strict=True
        ):
            if same:
                present.append(w)
            else:
                todo.append((w, info))
            if progress is not None:
                progress.advance(w.size)
                progress.file_done()
    if progress is not None:
        progress.end()
    return todo, present


def _same_or_error(target: Target, info: ObjectInfo, want: Want) -> bool:
    try:
        return same_content(target, info, want)
    except (ObjectError, OSError):
        return False  # unreadable on either side: upload it again


def default_workers(target: Target) -> int:
    env = os.environ.get("KEEPMARK_UPLOADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    from backup.targets.local import LocalTarget

    return max(2, min(4, os.cpu_count() or 2)) if isinstance(target, LocalTarget) else 8


def back_up_to(
    target: Target,
    wants: Sequence[Want],
    *,
    kind: str,
    identity: str,
    profile: Profile,
    catalog: Catalog,
    inventory_copy: tuple[Path, str, int],
    progress: RunProgress | None = None,
) -> TargetResult:
    """One target's part of a run. Target-wide failures are caught and reported in the result."""
    result = TargetResult(target.name)
    started = datetime.now(timezone.utc)
    try:
        target.open_session()
        if getattr(target, "fresh", False):
            catalog.forget(target.name)
        compare_all = (
            kind == "full"
            or not catalog.known_target(target.name, identity)
            or not catalog.has_any(target.name)
        )
        catalog.remember_target(target.name, identity)
        workers = default_workers(target)
        stored = {} if compare_all else catalog.stored(target.name)
        if compare_all:
            cleaner = getattr(target, "clean_temporaries", None)
            if cleaner is not None:  # leftovers of a run that was killed (this one holds the lock)
                cleaner()
            todo, present = compare(target, wants, workers, progress)
            catalog.record(target.name, [(w.key, w.sha256, w.size, w.mtime_ns) for w in present])
            result.unchanged = len(present)
        else:
            todo = [(w, None) for w in wants if stored.get(w.key, ("",))[0] != w.sha256]
            result.unchanged = len(wants) - len(todo)
        if progress is not None:
            progress.begin(f"{target.name}: uploading", len(todo), sum(w.size for w, _ in todo))
        uploader = _Uploader(target, catalog, result, stored, progress, workers)
        try:
            uploader.run(todo)
        finally:
            if progress is not None:
                progress.end()
        db, db_sha, db_size = inventory_copy
        target.put_file(layout.INVENTORY_DB, db, db_sha, db_size)
        target.put_bytes(layout.INVENTORY_PROFILE, Path(profile.file).read_bytes())
        entries = tuple(
            Entry(w.path, w.sha256, w.size, iso_from_ns(w.mtime_ns))
            for w in wants
            if w.path not in uploader.failed_paths
        )
        finished = datetime.now(timezone.utc)
        snap = Snapshot(
            id=new_id(kind, finished),
            kind=kind,
            profile=profile.name,
            target=target.name,
            started=iso(started),
            finished=iso(finished),
            entries=entries,
            failed=tuple(result.failed),
            inventory={"key": layout.INVENTORY_DB, "sha256": db_sha, "size": db_size},
        )
        target.put_bytes(layout.snapshot_key(snap.id), snap.to_json())
        result.snapshot = snap.id
        result.total_files = len(entries)
        result.total_bytes = snap.total_bytes
        result.status = "partial" if result.failed else "ok"
    except (TargetError, ObjectError, OSError) as exc:
        result.status = "failed"
        result.error = str(exc) if not isinstance(exc, OSError) else f"{target.name}: {exc.strerror or exc}"
    finally:
        target.close()
    catalog.log_run(
        target.name,
        kind,
        iso(started),
        result.status,
        files=result.files,
        bytes=result.bytes,
        snapshot=result.snapshot,
        error=result.error,
    )
    return result


def copy_inventory(inv: Any, folder: Path) -> tuple[Path, str, int]:
    """A consistent copy of the inventory in ``folder``: (path, sha256, size)."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".inventory-copy.", suffix=".sqlite")
    os.close(fd)
    path = Path(name)
    path.unlink()
    inv.copy_to(path)
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return path, digest.hexdigest(), size


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"unknown kind of run {kind!r}; use one of {', '.join(KINDS)}")
