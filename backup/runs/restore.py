"""``backup restore``: a snapshot's files (all, or those matching globs) back into a folder,
byte for byte. Each file is written under a temporary name, its SHA-256 checked against the
snapshot, given its modification time, fsynced and renamed; an existing file is left alone
unless ``overwrite``. A manifest path that would land outside the folder is refused. Files are
restored eight at a time (one file's fsync overlaps the others' copying and hashing); the
folders they went into are fsynced once each at the end."""

from __future__ import annotations

import fnmatch
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from backup.errors import KeepmarkError, UsageError
from backup.runs import layout
from backup.runs.snapshot import Entry, parse_time, resolve
from backup.runs.verify import Locator
from backup.targets.base import ObjectError, Target, TargetError, file_hash
from backup.targets.copying import hash_back, hashing_copy, kernel_copy, regular_size
from inventory.atomic import atomic_path, fsync_dir
from inventory.errors import Ambiguous
from inventory.progress import Progress
from inventory.workers import Pool

RESTORE_WORKERS = 8  # files restored at once unless KEEPMARK_UPLOADS says otherwise


@dataclass
class RestoreResult:
    target: str
    snapshot: str | None = None
    to: str = ""
    restored: int = 0
    bytes: int = 0
    already: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.skipped or self.failed or self.error)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "snapshot": self.snapshot,
            "to": self.to,
            "restored": self.restored,
            "bytes": self.bytes,
            "already_there": self.already,
            "skipped": self.skipped,
            "failed": self.failed,
            "error": self.error,
            "ok": self.ok,
        }


def matches(path: str, globs: Sequence[str]) -> bool:
    """A glob matches the path itself or any folder above it (``Shoots/2026`` takes the folder)."""
    if not globs:
        return True
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatchcase(p, g.strip("/")) for g in globs for p in prefixes)


def choose(entries: Sequence[Entry], include: Sequence[str], snapshot: str = "") -> list[Entry]:
    """The entries ``include`` takes (all without it). Each is a glob as ``matches`` reads it;
    one without a folder that matches no path that way is a file name, looked for in every
    folder: ``IMG_0042.HEIC`` is the one file of that name (``Ambiguous``, naming them, when
    several folders hold one), ``IMG_*.HEIC`` every file whose name matches."""
    if not include:
        return list(entries)
    globs: list[str] = []
    named: set[str] = set()
    for g in include:
        if "/" in g.strip("/") or any(matches(e.path, [g]) for e in entries):
            globs.append(g)
            continue
        found = [e.path for e in entries if fnmatch.fnmatchcase(e.path.rsplit("/", 1)[-1], g.strip("/"))]
        if len(found) > 1 and not any(ch in g for ch in "*?["):
            where = f" in snapshot {snapshot}" if snapshot else ""
            raise Ambiguous(f"{g}: {len(found)} files{where} have this name; give the path of one", found)
        named.update(found)
    return [e for e in entries if e.path in named or (globs and matches(e.path, globs))]


class _Confine:
    """Whether a destination stays inside the restore folder once symbolic links are followed;
    each existing folder is resolved once (many files go into few folders, and resolving walks
    every component of the path)."""

    def __init__(self, folder: Path) -> None:
        self.real = os.path.realpath(folder)
        self._dirs: dict[str, str] = {}
        self._lock = threading.Lock()

    def _real_dir(self, folder: str) -> str:
        with self._lock:
            found = self._dirs.get(folder)
        if found is None:
            found = os.path.realpath(folder)
            if os.path.isdir(folder):  # one not made yet may still be made a link: not kept
                with self._lock:
                    self._dirs[folder] = found
        return found

    def holds(self, dest: Path) -> bool:
        if os.path.lexists(dest):
            real = os.path.realpath(dest)
        else:
            real = os.path.join(self._real_dir(str(dest.parent)), dest.name)
        return os.path.commonpath([self.real, real]) == self.real


def restore(
    target: Target,
    to: Path,
    *,
    snapshot_id: str | None = None,
    include: Sequence[str] = (),
    overwrite: bool = False,
    progress: Progress | None = None,
) -> RestoreResult:
    progress = progress or Progress()
    to = Path(os.path.abspath(os.path.expanduser(to)))
    result = RestoreResult(target.name, to=str(to))
    try:
        target.open_session()
        snap = resolve(target, snapshot_id)
        result.snapshot = snap.id
        chosen = choose(snap.entries, include, snap.id)
        if include and not chosen:
            raise UsageError(f"nothing in snapshot {snap.id} matches {' '.join(include)}")
        to.mkdir(parents=True, exist_ok=True)
        where = Locator(target)
        confine = _Confine(to)
        progress.started("restore", len(chosen), sum(e.size for e in chosen), target=target.name)
        pool: Pool[Entry] = Pool(_workers(), "restore")
        folders: set[Path] = set()

        def collect(block: bool) -> None:
            for entry, fut in pool.finished(block=block):
                try:
                    outcome = fut.result()
                except (ObjectError, OSError) as exc:
                    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                    outcome = ("failed", {"path": entry.path, "error": reason})
                _count(result, entry, outcome, folders)
                progress.file_done("restore", entry.path)

        try:
            for entry in chosen:
                progress.check()
                pool.submit(entry, _one, target, where, confine, entry, to, overwrite, progress)
                collect(block=len(pool) >= 2 * pool.workers)
            while len(pool):
                collect(block=True)
        finally:
            pool.close()
            for folder in sorted(folders):
                fsync_dir(folder)
            progress.finished("restore")
    except (TargetError, KeepmarkError) as exc:
        if isinstance(exc, (UsageError, Ambiguous)):
            raise
        result.error = str(exc)
    finally:
        target.close()
    return result


def _workers() -> int:
    env = os.environ.get("KEEPMARK_UPLOADS", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else RESTORE_WORKERS


# What restoring one file came to: ("restored", its folder), ("already", None), or ("skipped" |
# "failed", {"path": ..., "error": ...}). Counted in the calling thread.
Outcome = tuple[str, Any]


def _count(result: RestoreResult, entry: Entry, outcome: Outcome, folders: set[Path]) -> None:
    kind, detail = outcome
    if kind == "restored":
        result.restored += 1
        result.bytes += entry.size
        folders.add(detail)
    elif kind == "already":
        result.already += 1
    elif kind == "skipped":
        result.skipped.append(detail)
    else:
        result.failed.append(detail)


def _one(
    target: Target,
    where: Locator,
    confine: _Confine,
    entry: Entry,
    to: Path,
    overwrite: bool,
    progress: Progress,
) -> Outcome:
    """Restore one file (in a worker thread); what came of it."""
    why = layout.unsafe_path(entry.path)
    if why is not None:
        return ("failed", {"path": entry.path, "error": f"refused: {why}, it would land outside {to}"})
    dest = to.joinpath(*entry.path.split("/"))
    if not confine.holds(dest):
        return ("failed", {"path": entry.path, "error": f"refused: it would land outside {to}"})
    if dest.exists() or dest.is_symlink():
        if dest.is_file() and not dest.is_symlink() and file_hash("sha256", dest) == entry.sha256:
            return ("already", None)
        if not overwrite:
            return ("skipped", {"path": entry.path, "error": f"{dest} exists; --overwrite replaces it"})
        if dest.is_symlink() or not dest.is_file():
            return ("failed", {"path": entry.path, "error": f"{dest} exists and is not a regular file"})
    candidates = where.candidates(entry)
    if not candidates:
        there = where.objects.get(entry.key)
        if there is not None:  # cut short, or grown
            raise ObjectError(
                f"{entry.key}: damaged on {target.name} ({there.size} bytes, expected {entry.size})"
            )
        raise ObjectError(f"{entry.key}: not on {target.name}")
    last = ""
    for info in candidates:
        try:
            with atomic_path(dest, sync_dir=False) as tmp:
                with target.open(info.key) as src, open(tmp, "w+b", buffering=0) as out:
                    got = _copy(src, out, progress)
                    if got != entry.sha256:
                        raise _Mismatch(got)
                mtime = parse_time(entry.mtime).timestamp()
                os.utime(tmp, (mtime, mtime))
        except _Mismatch as exc:
            last = str(exc)
            continue
        return ("restored", dest.parent)
    raise ObjectError(f"{entry.key}: damaged on {target.name} (SHA-256 {last}, expected {entry.sha256})")


def _copy(src: IO[bytes], out: IO[bytes], progress: Progress) -> str:
    """``src`` into ``out``; the SHA-256 of what ``out`` holds. From a regular file (a drive
    target) the bytes are copied in the kernel and ``out`` is read back and hashed: what is
    checked is what was written. Otherwise they are read, hashed and written in one pass."""
    size = regular_size(src)
    if size is not None:
        copied = kernel_copy(src.fileno(), out.fileno(), size, lambda n: progress.advanced("restore", n))
        if copied is not None:  # a short copy (the file shrank) is a wrong hash, not a crash
            return hash_back(out)
    return hashing_copy(src, out, lambda n: progress.advanced("restore", n))


class _Mismatch(Exception):
    pass
