"""Scanning source folders into the inventory.

The stages: walk (find files, leave out junk) -> quick check (size, mtime and inode as last
seen: an unchanged file is not read) -> read (SHA-256 and media facts, on a pool of threads:
hashlib, Pillow's decoders and ffmpeg all run outside the GIL, so every core is used) ->
record (batched transactions, each with its ledger entries). A kill at any moment loses at most
the batch in hand; the next scan reads those files again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from inventory.errors import ChangedWhileReading
from inventory.progress import Progress
from inventory.record.walk import Found, Ignore, WalkResult, walk
from inventory.record.walk_memo import walk_digest
from inventory.store.inventory import FileRow, Inventory
from inventory.timeutil import utc_now
from inventory.workers import bounded, default_workers

if TYPE_CHECKING:
    from inventory.record.examine import Observed
    from inventory.record.facts import FileFacts

STILL_WRITTEN = "still being written"
NOT_DECODED_YET = "does not decode yet"  # held back by ``hold`` (the daemon: maybe half-written)
BATCH_FILES = 64
BATCH_SECONDS = 0.5


class Source(NamedTuple):
    """A source folder (``root``) and where in it to scan (``start``, a folder or a file)."""

    root: str
    start: str


class ScanReport:
    """What a scan did. ``errors``: files that could not be read; ``undecodable``: photos and
    videos recorded by SHA-256 although they do not decode."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.new = 0
        self.changed = 0
        self.unchanged = 0
        self.files = 0
        self.ignored = 0
        self.bytes_read = 0
        self.missing = 0
        self.errors: list[dict[str, str]] = []
        self.undecodable: list[dict[str, str]] = []
        self.skipped: list[dict[str, str]] = []
        self.seconds = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.undecodable

    def as_dict(self) -> dict[str, Any]:
        return {
            "roots": self.roots,
            "files": self.files,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "ignored": self.ignored,
            "bytes_read": self.bytes_read,
            "errors": self.errors,
            "undecodable": self.undecodable,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
        }


def printable(path: str) -> str:
    """A path as text that can be printed and stored: undecodable bytes become U+FFFD."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return path


Reader = Callable[["Found"], "tuple[FileFacts, Observed]"]
"""What reads one found file and says what it is: ``examine`` by default; a stage that also
stamps what it reads gives its own, which decodes each photo once for both. A reader raises
what ``examine`` raises for a file that cannot be read."""


Hold = Callable[["Found", "FileFacts", "Observed"], bool]
"""Whether a file that was read should be left for later instead of recorded (listed in
``skipped``, reason ``does not decode yet``): the daemon holds a photo or video that does not
decode while it may still be being written."""


def examine_found(found: Found) -> tuple[FileFacts, Observed]:
    from inventory.record.examine import examine

    return examine(found.path, os.path.basename(found.path))


def _read(found: Found, reader: Reader) -> tuple[Found, FileFacts | None, Observed | None, str | None]:
    if printable(found.path) != found.path:
        return found, None, None, "its name is not valid UTF-8, so it cannot be recorded: rename it"
    try:
        facts, observed = reader(found)
    except FileNotFoundError:
        return found, None, None, "vanished during the scan"
    except PermissionError as exc:
        return found, None, None, f"cannot read: {exc.strerror or 'permission denied'}"
    except IsADirectoryError:
        return found, None, None, "became a folder during the scan"
    except ChangedWhileReading:
        return found, None, None, "changed while being read (still being written?); the next scan records it"
    except OSError as exc:
        return found, None, None, f"cannot read: {exc.strerror or exc}"
    except Exception as exc:
        return found, None, None, f"unexpected error: {type(exc).__name__}: {exc}"
    return found, facts, observed, None


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def scan(
    inv: Inventory,
    sources: Sequence[Source],
    *,
    ignore: Iterable[str] = (),
    follow_symlinks: bool = False,
    exclude: Iterable[str] = (),
    workers: int | None = None,
    progress: Progress | None = None,
    on_recorded: Callable[[list[FileRow]], None] | None = None,
    skip_newer: int | None = None,
    reader: Reader | None = None,
    hold: Hold | None = None,
) -> ScanReport:
    """Record new and changed files under ``sources``; return what happened. ``on_recorded``
    is called (in the scanning thread) with each committed batch of new and changed files, so
    the next stage can start on them while the scan goes on. ``skip_newer``: files modified
    after this time (nanoseconds since the epoch) may still be being written; they are left
    for later (listed in ``skipped``, reason ``still being written``). ``reader``: what reads
    each new or changed file (``examine`` by default; see ``Reader``). ``hold``: see ``Hold``."""
    progress = progress or Progress()
    started_at, t0 = utc_now(), time.perf_counter()
    report = ScanReport(roots=sorted({s.root for s in sources}))
    ignore = list(ignore)
    rules = Ignore(ignore)
    excluded = list(exclude)
    complete: list[Source] = []
    incomplete: list[str] = []
    walks: list[WalkResult] = []
    for source in sources:
        if not os.path.exists(source.start) and not os.path.islink(source.start):
            where = "source folder" if source.start == source.root else "path"
            report.errors.append(
                {"path": source.start, "error": f"{where} not found (is its drive connected?)"}
            )
            continue
        walked = walk(
            source.root, source.start, ignore=rules, follow_symlinks=follow_symlinks, exclude=excluded
        )
        walks.append(walked)
        report.errors.extend({"path": printable(p), "error": e} for p, e in walked.errors)
        report.skipped.extend({"path": printable(p), "reason": r} for p, r in walked.skipped)
        report.ignored += walked.ignored
        incomplete.extend(walked.incomplete)
        complete.append(source)

    # A whole scan whose walk found the files exactly as the last one left them: nothing to
    # check or record (see inventory.record.walk_memo).
    whole = bool(sources) and len(complete) == len(sources) and all(s.start == s.root for s in sources)
    digest = None
    if whole and not incomplete and not report.errors:
        setup = {
            "sources": [list(s) for s in sources],
            "ignore": list(ignore),
            "follow_symlinks": follow_symlinks,
            "exclude": excluded,
        }
        digest = walk_digest(setup, walks)
    generation, remembered = inv.paths_state()
    if digest is not None and digest == remembered and (skip_newer is None or _settled(walks, skip_newer)):
        report.files = report.unchanged = _count(walks)
        _read_and_record(inv, [], report, 1, progress, None, examine_found, None)
        _finish(inv, report, started_at, t0)
        return report
    writes = inv.paths_writes
    found: dict[str, Found] = {}
    for walked in walks:
        for item in walked.files:
            found.setdefault(item.path, item)
    report.files = len(found)

    known = inv.known_paths(report.roots)
    todo: list[Found] = []
    reappeared: list[str] = []
    for path, item in found.items():
        if skip_newer is not None and item.mtime_ns > skip_newer:
            report.skipped.append({"path": printable(path), "reason": STILL_WRITTEN})
            continue
        k = known.get(path)
        if k is not None and k[1] == item.size and k[2] == item.mtime_ns and k[3] == item.inode:
            report.unchanged += 1
            if k[4] is not None:
                reappeared.append(path)
        else:
            todo.append(item)
    inv.mark_present(reappeared)

    _read_and_record(
        inv, todo, report, workers or default_workers(), progress, on_recorded, reader or examine_found, hold
    )

    failed = {e["path"] for e in report.errors}
    # Only folders, and files no longer there, can have lost files: a start that is a file the
    # walk found cannot (the daemon scans many single files at once).
    folder_starts = [s.start for s in complete if s.start not in found]
    gone = [
        path
        for path, k in known.items()
        if path not in found
        and k[4] is None
        and path not in failed
        and any(_under(path, d) for d in folder_starts)
        and not any(_under(path, d) for d in incomplete)
    ]
    report.missing = inv.mark_missing(gone)
    still_written = any(s.get("reason") in (STILL_WRITTEN, NOT_DECODED_YET) for s in report.skipped)
    if digest is not None and not report.errors and not still_written:
        inv.remember_walk(digest, generation + inv.paths_writes - writes)
    _finish(inv, report, started_at, t0)
    return report


def _settled(walks: Sequence[WalkResult], skip_newer: int) -> bool:
    return all(max(f.mtimes, default=0) <= skip_newer for w in walks for f in w.folders)


def _count(walks: Sequence[WalkResult]) -> int:
    """How many files the walks found, each once: a folder reached by two walks (overlapping
    sources) lists the same paths, and a path belongs to one folder."""
    if len(walks) == 1:
        return walks[0].count
    seen: set[str] = set()
    count = 0
    for w in walks:
        for f in w.folders:
            if f.base not in seen:
                seen.add(f.base)
                count += len(f.names)
    return count


def _finish(inv: Inventory, report: ScanReport, started_at: str, t0: float) -> None:
    """Put the report's lists in path order (files are read in parallel and listed as their
    reads end) and log the scan."""
    for listing in (report.errors, report.undecodable, report.skipped):
        listing.sort(key=lambda item: item["path"])
    report.seconds = time.perf_counter() - t0
    inv.log_scan(
        started_at,
        report.roots,
        {
            "new": report.new,
            "changed": report.changed,
            "unchanged": report.unchanged,
            "errors": len(report.errors) + len(report.undecodable),
        },
    )


def _read_and_record(
    inv: Inventory,
    todo: list[Found],
    report: ScanReport,
    workers: int,
    progress: Progress,
    on_recorded: Callable[[list[FileRow]], None] | None,
    reader: Reader,
    hold: Hold | None,
) -> None:
    progress.started("scan", len(todo), sum(f.size for f in todo))
    if not todo:
        progress.finished("scan")
        return
    batch: list[tuple[Found, FileFacts, Observed]] = []
    last_commit = time.monotonic()

    def flush() -> None:
        nonlocal last_commit
        if batch:
            rows: list[FileRow] = []
            for outcome, (item, facts, seen) in zip(inv.record_many(batch), batch, strict=True):
                if outcome.status != "failed":
                    rows.append(
                        FileRow(item.root, item.relpath, item.path, facts.sha256, seen.size, seen.mtime_ns)
                    )
                if outcome.status == "failed":
                    report.errors.append(
                        {"path": printable(outcome.path), "error": outcome.error or "failed"}
                    )
                    continue
                if outcome.status == "new":
                    report.new += 1
                elif outcome.status == "changed":
                    report.changed += 1
                else:
                    report.unchanged += 1
                if facts.decode_error:
                    report.undecodable.append(
                        {"path": outcome.path, "sha256": facts.sha256, "error": facts.decode_error}
                    )
            batch.clear()
            if on_recorded is not None and rows:
                on_recorded(rows)
        last_commit = time.monotonic()

    def take(result: tuple[Found, FileFacts | None, Observed | None, str | None]) -> None:
        item, facts, observed, error = result
        progress.advanced("scan", item.size, item.path)
        progress.file_done("scan", item.path)
        if error is not None or facts is None or observed is None:
            report.errors.append({"path": printable(item.path), "error": error or "unknown error"})
            return
        report.bytes_read += observed.size
        if hold is not None and hold(item, facts, observed):
            report.skipped.append({"path": printable(item.path), "reason": NOT_DECODED_YET})
            return
        batch.append((item, facts, observed))
        if len(batch) >= BATCH_FILES or time.monotonic() - last_commit >= BATCH_SECONDS:
            flush()

    try:
        for _item, result in bounded(
            lambda found: _read(found, reader), todo, workers=workers, name="keepmark-scan"
        ):
            take(result)
        flush()
    finally:
        progress.finished("scan")
