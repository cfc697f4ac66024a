"""The stamp stage: watermarked copies of the photos and videos in hand, recorded as derivatives
of their originals.

It works in two places of a pass:

- **inside the record stage**, as the scan's reader (``Stamper.read``): a new or changed photo is
  read once and decoded once, its facts and perceptual hashes are taken from that picture, and
  the same picture is stamped; a new video goes through one ffmpeg pass that writes the stamped
  copy and takes the grey frames its hashes need. The original is recorded by the scan; its copy
  is recorded as soon as the scan has committed the original (``Stamper.recorded``);
- **after it**, over what the inventory already holds (``Stamper.stamp_recorded``): photos and
  videos recorded earlier (by ``backup inventory scan``, or before the style changed) that have
  no copy made with this style yet are stamped from their files.

A copy already made with the same style is skipped unless ``force``. Every copy is written
atomically, its folder fsynced before the copy is recorded. A photo or video renamed or moved in
a source folder takes its copy along (``Stamper.follow``): the copy made for the path that no
longer holds it is renamed to the new path's output, and its record follows. It takes narrow arguments: the
inventory, the ``Stamping`` a use case settled from the profile, and the paths in hand.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inventory.atomic import fsync_dir
from inventory.errors import KeepmarkError
from inventory.progress import Progress
from inventory.record.examine import Observed, Read, decode, open_photo, photo_facts, read, video_facts
from inventory.record.facts import FileFacts
from inventory.store.rows import FileRow
from inventory.workers import bounded
from watermark.errors import WatermarkError

if TYPE_CHECKING:
    from inventory.record.walk import Found
    from inventory.store.inventory import Inventory
    from watermark.image import ImageOptions
    from watermark.style import Style, VideoSettings

PHOTO_FORMATS = {"jpeg", "png", "webp", "tiff", "heic", "heif", "gif"}
VIDEO_FORMATS = {"mp4", "mov", "m4v"}
RECORD_EVERY = 32  # copies per recorded batch (one transaction, one fsync per folder)
RECORD_SECONDS = 0.5


@dataclass(frozen=True)
class Stamping:
    """How copies are made in one run, settled once from the profile by a use case: the style,
    the photo and video settings, the account (``{name}``, ``{handle}``), where copies go and
    how they are told apart from originals, and the style's hash (a copy made with another
    hash is made again)."""

    style: Style
    image: ImageOptions
    video: VideoSettings
    account: Mapping[str, str]
    output: Path
    suffix: str
    style_hash: str
    labels: Mapping[str, str] = field(default_factory=dict)  # source folder -> its label

    def output_for(self, root: str, relpath: str) -> Path:
        """Where the copy of ``root``/``relpath`` goes: the output folder mirrors each source
        folder's tree under the source folder's label (its name, unless another source folder
        took that name first: ``inventory.store.labels``)."""
        rel = Path(relpath)
        if self.suffix:
            rel = rel.with_name(rel.stem + self.suffix + rel.suffix)
        return self.output / (self.labels.get(root) or Path(root).name) / rel

    def fields(self, capture_time: str | None, first_seen: str) -> dict[str, str]:
        """The text's fields for one file: its capture date, else the day it was first seen."""
        stamp = capture_time or first_seen
        day = stamp[:10] if stamp and len(stamp) >= 10 else ""
        return {**self.account, "year": day[:4], "date": day}

    def dated(self) -> bool:
        """Whether the mark's text shows the file's own date."""
        return "{year}" in self.style.text or "{date}" in self.style.text

    def takes(self, path: str, kind: str, fmt: str) -> bool:
        """Whether a copy of this file is made: a photo or video of a format that can be
        stamped, and not itself a copy (one beside the originals, or in the output folder)."""
        if (kind == "image" and fmt not in PHOTO_FORMATS) or (kind == "video" and fmt not in VIDEO_FORMATS):
            return False  # RAW photos, other containers: nothing to publish
        if kind not in ("image", "video"):
            return False
        if self.suffix:
            return not Path(path).stem.endswith(self.suffix)
        return not (self.output == Path(path).parent or self.output in Path(path).parents)


@dataclass
class StampReport:
    """What the stage did: copies made, copies already there, copies moved along with their
    renamed originals (``from`` the old output), files that could not be stamped (each with
    its reason), in path order."""

    output: str
    stamped: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    moved: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "stamped": self.stamped,
            "skipped": self.skipped,
            "failed": self.failed,
            "moved": self.moved,
            "ok": self.ok,
        }

    def sort(self) -> None:
        for listing in (self.stamped, self.skipped, self.failed, self.moved):
            listing.sort(key=lambda item: item["source"])  # not in the order the work ended


@dataclass(frozen=True)
class _Made:
    """A copy written, waiting to be recorded: its original (path and SHA-256), and the copy's
    SHA-256 and size when the stamper knows them (None: hashed when recorded)."""

    source: str
    original: str
    output: Path
    sha256: str | None
    size: int | None


class Stamper:
    """The stamp stage over the batch in hand (see the module's docstring). Use ``read`` as the
    scan's reader and ``recorded`` as its ``on_recorded``; then ``stamp_recorded``; then
    ``report()``. Call from one thread; ``read`` runs on the scan's workers."""

    def __init__(
        self,
        inv: Inventory,
        stamping: Stamping,
        *,
        force: bool = False,
        progress: Progress | None = None,
        workers: int | None = None,
    ) -> None:
        self.inv = inv
        self.s = stamping
        self.force = force
        self.progress = progress or Progress()
        self.workers = workers
        self.result = StampReport(output=str(stamping.output))
        self.roots: Sequence[str] = ()
        self._made: dict[str, _Made] = {}  # by source path: written by ``read``
        self._tried: set[str] = set()  # source paths ``read`` stamped (or failed to)
        self._lock = threading.Lock()
        self._one_video = threading.Lock()  # an encode takes every core: one video at a time
        self._batch: list[_Made] = []
        self._last = time.monotonic()
        # originals with a copy in this style: a file of one of them at a new path may be a
        # renamed original whose copy is to follow it (decided once it is recorded)
        self._copied = inv.derivative_sources(stamping.style_hash)
        self._deferred: set[str] = set()
        _reuse_image_memory()

    # -- inside the record stage ------------------------------------------------------------

    def read(self, found: Found) -> tuple[FileFacts, Observed]:
        """The scan's reader: read the file once; a photo or video to be stamped is decoded once
        for its facts and its copy. A copy that cannot be made is reported here; the original
        is recorded all the same."""
        r = read(found.path, os.path.basename(found.path))
        if not self._takes_now(found, r):
            return decode(r), r.observed
        if r.sha256 in self._copied:
            with self._lock:
                self._deferred.add(found.path)  # see ``recorded``
            return decode(r), r.observed
        if r.kind == "image":
            facts = self._photo(found, r)
        else:
            facts = self._video(found, r)
        return facts, r.observed

    def _takes_now(self, found: Found, r: Read) -> bool:
        return not (r.claimed or r.size == 0) and self.s.takes(found.path, r.kind, r.format)

    def _photo(self, found: Found, r: Read) -> FileFacts:
        from watermark.image import stamp_image

        facts, picture = _decode_photo(r)
        if self.s.dated() and facts.media.capture_time is None:
            # Its date is the day its content was first seen, which only the record knows (a
            # content seen before at another path keeps its day): stamped after the record.
            if picture is not None:
                picture.close()
            return facts
        out = self.s.output_for(found.root, found.relpath)
        fields = self.s.fields(facts.media.capture_time, "")
        try:
            result = stamp_image(
                Path(found.path), out, self.s.style, fields, self.s.image, image=picture, data=r.data
            )
        except WatermarkError as exc:
            self._failed(found.path, str(exc))
        except OSError as exc:
            self._failed(found.path, f"cannot read or write: {exc.strerror or exc}")
        else:
            self._wrote(_Made(found.path, r.sha256, out, result.sha256, result.size))
        finally:
            if picture is not None:
                picture.close()
        return facts

    def _video(self, found: Found, r: Read) -> FileFacts:
        from inventory.media.probe import probe
        from inventory.record.video import capture_time, sampling_for
        from watermark.video import stamp_video

        found_probe = probe(found.path)
        capture = capture_time(found_probe)
        if found_probe.first_video is None or (self.s.dated() and capture is None):
            return video_facts(r, found_probe)  # (see _photo)
        out = self.s.output_for(found.root, found.relpath)
        fields = self.s.fields(capture, "")
        taken = None
        with self._one_video:
            try:
                made = stamp_video(
                    Path(found.path),
                    out,
                    self.s.style,
                    fields,
                    self.s.video,
                    progress=self.progress,
                    probe=found_probe,
                    sampling=sampling_for(found_probe),
                )
            except WatermarkError as exc:
                self._failed(found.path, _unnamed(str(exc), found.path))
            except OSError as exc:
                self._failed(found.path, f"cannot read or write: {exc.strerror or exc}")
            else:
                taken = made.frames
                self._wrote(_Made(found.path, r.sha256, out, None, None))
        return video_facts(r, found_probe, taken)

    def _wrote(self, made: _Made) -> None:
        with self._lock:
            self._made[made.source] = made
            self._tried.add(made.source)

    def _failed(self, source: str, error: str) -> None:
        with self._lock:
            self._tried.add(source)
            self.result.failed.append({"source": source, "error": error})

    def recorded(self, rows: Iterable[FileRow]) -> None:
        """The scan committed these originals: record the copies ``read`` made of them."""
        with self._lock:
            made = [self._made.pop(row.path) for row in rows if row.path in self._made]
            known = [row for row in rows if row.path in self._deferred]
            self._deferred.difference_update(row.path for row in known)
        for m in made:
            self._add(m)
        self._flush(force=True)
        for row in known:
            if self.follow(row.path, row.root, row.relpath, row.sha256):
                with self._lock:
                    self._tried.add(row.path)

    # -- after the record stage ---------------------------------------------------------------

    def stamp_recorded(self, starts: Sequence[str]) -> None:
        """Stamp what the inventory holds under ``starts`` (source folders, or folders and
        files in them) and has no copy made with this style yet."""
        from watermark.image import stamp_image

        jobs = self._plan(starts)
        self.progress.started("stamp", len(jobs), len(jobs), "files")
        try:
            photos = [j for j in jobs if j[1] == "image"]
            for job, outcome in bounded(
                lambda j: _stamp_photo(stamp_image, self.s, j),
                photos,
                workers=self.workers,
                name="keepmark-stamp",
            ):
                self._done(job, outcome)
            for job in (j for j in jobs if j[1] == "video"):
                self._done(job, self._stamp_video_file(job))
            self._flush(force=True)
        finally:
            self.progress.finished("stamp")

    def _plan(self, starts: Sequence[str]) -> list[_Job]:
        exact = {s for s in starts if not os.path.isdir(s)}  # files: a set lookup, however many
        folders = [s for s in starts if s not in exact]
        jobs: list[_Job] = []
        for m in self.inv.current_media():
            path = m.path
            if path in self._tried:
                continue  # stamped (or failed) while it was read, in this pass
            if path not in exact and not any(
                path == s or path.startswith(s.rstrip(os.sep) + os.sep) for s in folders
            ):
                continue
            if not self.s.takes(path, m.kind, m.format):
                continue
            out = self.s.output_for(m.root, m.relpath)
            known = None if self.force else self.inv.derivative(m.sha256, self.s.style_hash, str(out))
            if known is not None and _same_size(out, known["size"]):
                self.result.skipped.append({"source": path, "output": str(out)})
                continue
            if m.sha256 in self._copied and self.follow(path, m.root, m.relpath, m.sha256):
                continue
            jobs.append((path, m.kind, m.sha256, out, self.s.fields(m.capture_time, m.first_seen)))
        return jobs

    def _stamp_video_file(self, job: _Job) -> _Made | str:
        from watermark.video import stamp_video

        path, _kind, sha, out, fields = job
        try:
            stamp_video(Path(path), out, self.s.style, fields, self.s.video, progress=self.progress)
        except WatermarkError as exc:
            return _unnamed(str(exc), path)
        except OSError as exc:
            return f"cannot read or write: {exc.strerror or exc}"
        return _Made(path, sha, out, None, None)

    def _done(self, job: _Job, outcome: _Made | str) -> None:
        path = job[0]
        if isinstance(outcome, str):
            self.result.failed.append({"source": path, "error": outcome})
        else:
            self._add(outcome)
        self.progress.file_done("stamp", path)

    # -- a renamed original's copy follows it ---------------------------------------------------

    def follow(self, path: str, root: str, relpath: str, sha256: str) -> bool:
        """Move the copy of ``sha256`` that no longer has an original beside it to ``path``'s
        output (``root``/``relpath``), when there is one: a copy made with this style for a
        path that is gone from the disk, still holding the bytes recorded. The file is renamed
        (atomic; both folders fsynced), then its record follows; emptied output folders are
        removed. False: nothing to move (a new copy is stamped instead)."""
        out = self.s.output_for(root, relpath)
        style = self.s.style_hash
        copies = [d for d in self.inv.derivatives_of(sha256) if d["style"] == style]
        if not copies or any(d["path"] == str(out) for d in copies):
            return False
        wanted = {
            str(self.s.output_for(f.root, f.relpath))
            for f in self.inv.files_of(sha256)
            if f.path != path and os.path.lexists(f.path)
        }
        for copy in copies:
            old = Path(copy["path"])
            if copy["path"] in wanted or not _holds(old, copy["sha256"], copy["size"]):
                continue
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                os.replace(old, out)
                fsync_dir(out.parent)
                if old.parent != out.parent:
                    fsync_dir(old.parent)
            except OSError:
                return False  # (another file system, say): stamped anew
            self._prune(old.parent)
            try:
                self.inv.move_derivative(sha256, style, str(old), str(out))
            except (sqlite3.Error, KeepmarkError) as exc:
                self._failed(path, f"copy moved from {old}, but not recorded: {exc}")
                return True
            with self._lock:
                self.result.moved.append({"source": path, "output": str(out), "from": str(old)})
            return True
        return False

    def _prune(self, folder: Path) -> None:
        """Remove ``folder`` and its parents while they are empty, up to the output folder."""
        while folder != self.s.output and self.s.output in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    # -- recording the copies -----------------------------------------------------------------

    def _add(self, made: _Made) -> None:
        self._batch.append(made)
        self._flush()

    def _flush(self, *, force: bool = False) -> None:
        """Record the copies in hand (one transaction for many), once their folders are
        fsynced: a copy is on record only once its bytes and name are durable."""
        if not self._batch or not (
            force or len(self._batch) >= RECORD_EVERY or time.monotonic() - self._last > RECORD_SECONDS
        ):
            return
        batch, self._batch = self._batch, []
        self._last = time.monotonic()
        try:
            for folder in {m.output.parent for m in batch}:
                fsync_dir(folder)
            self.inv.record_derivatives(
                [(m.original, str(m.output), self.s.style_hash, "stamped", m.sha256, m.size) for m in batch]
            )
        except (sqlite3.Error, OSError, KeepmarkError) as exc:
            for m in batch:
                self.result.failed.append({"source": m.source, "error": f"stamped, but not recorded: {exc}"})
            return
        self.result.stamped.extend({"source": m.source, "output": str(m.output)} for m in batch)

    def report(self) -> StampReport:
        self._flush(force=True)
        self.result.sort()
        return self.result


# (source path, kind, original's SHA-256, output, fields)
_Job = tuple[str, str, str, Path, dict[str, str]]


def _stamp_photo(stamp_image: Callable[..., Any], s: Stamping, job: _Job) -> _Made | str:
    path, _kind, sha, out, fields = job
    try:
        result = stamp_image(Path(path), out, s.style, fields, s.image)
    except WatermarkError as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read or write: {exc.strerror or exc}"
    return _Made(path, sha, out, result.sha256, result.size)


def _decode_photo(r: Read) -> tuple[FileFacts, Any]:
    """The photo's facts, and the picture they were taken from, decoded in full (None when it
    does not decode: the facts say why, and the stamper, given only the path, says why it
    cannot stamp it).

    The full picture is decoded before the facts are taken (a JPEG's hashes come from a reduced
    decode of its bytes): Pillow keeps freed image memory for the next picture in a stack, and
    a small picture decoded in between would take and shrink a large block each time, so the
    next photo's pixels would be new memory to map and zero."""
    try:
        picture = open_photo(r)
        picture.load()
    except Exception:
        return decode(r), None  # the same failure, worded as a scan words it
    facts = photo_facts(r, picture)
    if facts.decode_error is not None:
        picture.close()
        return facts, None
    return facts, picture


def _unnamed(message: str, path: str) -> str:
    """A stamper's message without the file's name in front (the CLI names the file once)."""
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _holds(path: Path, sha256: str, size: int) -> bool:
    """Whether ``path`` still holds the copy recorded (its size, then its bytes)."""
    from inventory.store.derivatives import hash_file

    if not _same_size(path, size):
        return False
    try:
        return hash_file(str(path))[0] == sha256
    except OSError:
        return False


def _same_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _reuse_image_memory() -> None:
    """Let Pillow keep freed image blocks for the next photo (``PILLOW_BLOCKS_MAX`` wins if
    set). A 12 MP photo is ~36 MB of pixels; on worker threads every fresh allocation of that
    size is new memory the kernel must map and zero, a few ms a photo."""
    if os.environ.get("PILLOW_BLOCKS_MAX"):
        return
    from PIL import _imaging as core  # Pillow's C core: the same object as Image.core

    core.set_blocks_max(max(core.get_blocks_max(), 32))
