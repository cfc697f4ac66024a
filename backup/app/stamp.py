"""``backup stamp``: stamped copies of a profile's photos and videos, recorded in the inventory.

The flow for each file: the inventory records the original (a scan, which reads only new and
changed files), then the stamper writes the copy to the output folder (mirroring the source
tree), then the copy is recorded as a derivative of its original, with a ledger entry. A copy
already made with the same style is skipped unless ``force``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.app.scan import record
from backup.app.workspace import open_inventory, sources_for
from backup.errors import KeepmarkError, Problem, ProfileError, UsageError
from backup.home import keepmark_home
from backup.profile.model import Profile
from inventory.atomic import fsync_dir
from inventory.errors import InventoryError
from inventory.progress import Progress
from watermark.errors import WatermarkError

PHOTO_FORMATS = {"jpeg", "png", "webp", "tiff", "heic", "heif", "gif"}
VIDEO_FORMATS = {"mp4", "mov", "m4v"}


@dataclass(frozen=True)
class Job:
    source: Path
    sha256: str
    kind: str  # "image" | "video"
    output: Path
    fields: dict[str, str]


@dataclass
class StampReport:
    output: str
    stamped: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "stamped": self.stamped,
            "skipped": self.skipped,
            "failed": self.failed,
            "ok": self.ok,
        }


def style_of(profile: Profile) -> Any:
    """The profile's ``[watermark]`` section as a ``watermark.Style``."""
    from watermark.style import Style

    wm = profile.watermark
    try:
        return Style(
            text=wm.text,
            logo=wm.logo,
            position=wm.position,
            opacity=wm.opacity,
            size=wm.size,
            margin=wm.margin,
            font=wm.font,
        )
    except WatermarkError as exc:
        raise ProfileError(
            str(profile.file), [Problem("watermark", str(exc), "fix the [watermark] section")]
        ) from exc


def video_settings_of(profile: Profile) -> Any:
    from watermark.style import Credits, VideoSettings

    wm = profile.watermark
    return VideoSettings(
        codec=wm.video_codec,
        crf=wm.video_crf,
        preset=wm.video_preset,
        credits=Credits(opening=wm.credits_opening, closing=wm.credits_closing),
    )


def image_options_of(profile: Profile) -> Any:
    from watermark.image import ImageOptions

    wm = profile.watermark
    account = profile.account
    return ImageOptions(
        jpeg_quality=wm.jpeg_quality,
        copyright=f"© {account.name} (@{account.handle})" if wm.copyright else None,
        artist=account.name if wm.copyright else None,
        max_pixels=wm.max_image_pixels,
        animated=wm.animated,
        sync_dir=False,  # stamp_profile fsyncs each output folder once per recorded batch
    )


def output_root(profile: Profile, out: str | None) -> Path:
    if out:
        return Path(os.path.abspath(os.path.expanduser(out)))
    if profile.watermark.output is not None:
        return profile.watermark.output
    return keepmark_home() / "stamped" / profile.name


def check_output(profile: Profile, root: Path) -> None:
    """Find output folder problems before the first file is processed."""
    suffix = profile.watermark.suffix
    for folder in profile.sources.folders:
        inside = root == folder or folder in root.parents
        if inside and not suffix:
            raise UsageError(
                f"output folder {root} is inside the source folder {folder}: choose another folder, "
                'or set [watermark] suffix (e.g. "-wm") so stamped copies are never taken for originals'
            )
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".keepmark-write-test-{os.getpid()}.keepmark-tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"output folder {root} cannot be written: {exc.strerror or exc}") from exc


def _output_for(profile: Profile, root: Path, source_root: str, relpath: str) -> Path:
    rel = Path(relpath)
    suffix = profile.watermark.suffix
    if suffix:
        rel = rel.with_name(rel.stem + suffix + rel.suffix)
    return root / Path(source_root).name / rel


def _fields(profile: Profile, capture_time: str | None, first_seen: str) -> dict[str, str]:
    stamp = capture_time or first_seen
    day = stamp[:10] if stamp and len(stamp) >= 10 else ""
    return {"name": profile.account.name, "handle": profile.account.handle, "year": day[:4], "date": day}


def plan(profile: Profile, paths: Sequence[str], root: Path) -> list[Job]:
    """The photos and videos to stamp, from the inventory (after a scan)."""
    starts = [s.start for s in sources_for(profile, paths)]
    exact = {s for s in starts if not os.path.isdir(s)}  # files: a set lookup, however many
    folders = [s for s in starts if s not in exact]
    suffix = profile.watermark.suffix
    jobs: list[Job] = []
    with open_inventory(profile) as inv:
        media = inv.current_media()
    for m in media:
        path = m.path
        if path not in exact and not any(
            path == s or path.startswith(s.rstrip(os.sep) + os.sep) for s in folders
        ):
            continue
        if suffix and Path(path).stem.endswith(suffix):
            continue  # a stamped copy written beside its original
        if not suffix and (root == Path(path).parent or root in Path(path).parents):
            continue  # the output folder (scans leave it out too)
        if (m.kind == "image" and m.format not in PHOTO_FORMATS) or (
            m.kind == "video" and m.format not in VIDEO_FORMATS
        ):
            continue  # RAW photos, other containers: nothing to publish
        jobs.append(
            Job(
                Path(path),
                m.sha256,
                m.kind,
                _output_for(profile, root, m.root, m.relpath),
                _fields(profile, m.capture_time, m.first_seen),
            )
        )
    return jobs


def stamp_profile(
    profile: Profile,
    paths: Sequence[str] = (),
    *,
    out: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    scan: bool = True,
) -> StampReport:
    """Stamp the profile's photos and videos (or those under ``paths``) into the output folder.
    The inventory is brought up to date first, unless ``scan`` is False (the caller did)."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from inventory.workers import default_workers
    from watermark.image import stamp_image
    from watermark.style import style_hash

    progress = progress or Progress()
    root = output_root(profile, out)
    check_output(profile, root)
    style = style_of(profile)
    report = StampReport(output=str(root))
    if style.logo is not None:
        try:
            from watermark.mark import load_logo

            load_logo(Path(style.logo))
        except WatermarkError as exc:
            report.failed.append({"source": str(style.logo), "error": str(exc)})
            return report
    if scan:
        record(profile, paths, progress=progress)
    jobs = plan(profile, paths, root)
    image_options, video = image_options_of(profile), video_settings_of(profile)
    extra = {"image": repr(image_options), "video": repr(video), "format": "same as source"}
    # One hash for the run: it covers the account's name and handle (the same for every file)
    # and the logo's and font's bytes, which are read once here rather than once per file.
    account = {"name": profile.account.name, "handle": profile.account.handle}
    h = style_hash(style, fields=account, extra=extra)
    todo: list[tuple[Job, str]] = []
    with open_inventory(profile) as inv:
        for job in jobs:
            known = None if force else inv.derivative(job.sha256, h, str(job.output))
            if known is not None and _same_file(job.output, known["size"]):
                report.skipped.append({"source": str(job.source), "output": str(job.output)})
            else:
                todo.append((job, h))
        progress.started("stamp", len(todo), len(todo), "files")

        batch: list[tuple[Job, str, str | None, int | None]] = []
        last = time.monotonic()

        def flush() -> None:
            # Copies are recorded in batches: one transaction (and one fsync) for many files.
            nonlocal last
            if not batch:
                return
            items = [(j.sha256, str(j.output), h, "stamped", sha, size) for j, h, sha, size in batch]
            try:
                for folder in {j.output.parent for j, *_ in batch}:
                    fsync_dir(folder)  # the renames are durable before the copies are recorded
                inv.record_derivatives(items)
                report.stamped.extend({"source": str(j.source), "output": str(j.output)} for j, *_ in batch)
            except (sqlite3.Error, OSError, KeepmarkError, InventoryError) as exc:
                for j, *_ in batch:
                    report.failed.append(
                        {"source": str(j.source), "error": f"stamped, but not recorded: {exc}"}
                    )
            batch.clear()
            last = time.monotonic()

        def done(job: Job, h: str, result: tuple[str | None, int | None] | str) -> None:
            if isinstance(result, str):
                report.failed.append({"source": str(job.source), "error": result})
            else:
                batch.append((job, h, *result))
                if len(batch) >= 32 or time.monotonic() - last > 0.5:
                    flush()
            progress.file_done("stamp", str(job.source))

        def one_image(job: Job) -> tuple[str | None, int | None] | str:
            try:
                result = stamp_image(job.source, job.output, style, job.fields, image_options)
            except WatermarkError as exc:
                return str(exc)
            except OSError as exc:
                return f"cannot read or write: {exc.strerror or exc}"
            return result.sha256, result.size

        photos = [(j, h) for j, h in todo if j.kind == "image"]
        if photos:
            _reuse_image_memory()
        videos = [(j, h) for j, h in todo if j.kind == "video"]
        try:
            with ThreadPoolExecutor(
                max_workers=workers or default_workers(), thread_name_prefix="keepmark-stamp"
            ) as pool:
                pending: dict[Future[tuple[str | None, int | None] | str], tuple[Job, str]] = {}
                for job, h in photos:
                    pending[pool.submit(one_image, job)] = (job, h)
                while pending:
                    finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                    for fut in finished:
                        job, h = pending.pop(fut)
                        done(job, h, fut.result())
            flush()
            for job, h in videos:
                error = _one_video(job, style, video, progress)
                done(job, h, error if error is not None else (None, None))
            flush()
        finally:
            progress.finished("stamp")
    for listing in (report.stamped, report.skipped, report.failed):
        listing.sort(key=lambda item: item["source"])  # not in the order the work ended
    return report


def _one_video(job: Job, style: Any, settings: Any, progress: Progress) -> str | None:
    from watermark.video import stamp_video

    shown = 0.0

    def tick(done: float, total: float) -> None:
        nonlocal shown
        if shown == 0.0 and done > 0:
            progress.started("video", 1, total, "seconds", path=str(job.source))
        if done > shown:
            progress.advanced("video", done - shown, str(job.source))
            shown = done

    try:
        stamp_video(job.source, job.output, style, job.fields, settings, progress=tick)
    except WatermarkError as exc:
        message = str(exc)
        prefix = f"{job.source}: "
        return message[len(prefix) :] if message.startswith(prefix) else message  # named once, by the CLI
    except OSError as exc:
        return f"cannot read or write: {exc.strerror or exc}"
    finally:
        if shown > 0:
            progress.finished("video")
    return None


def _reuse_image_memory() -> None:
    """Let Pillow keep freed image blocks for the next photo (``PILLOW_BLOCKS_MAX`` wins if
    set). A 12 MP photo is ~36 MB of pixels; on worker threads every fresh allocation of that
    size is new memory the kernel must map and zero, a few ms a photo."""
    if os.environ.get("PILLOW_BLOCKS_MAX"):
        return
    from PIL import _imaging as core  # Pillow's C core: the same object as Image.core

    core.set_blocks_max(max(core.get_blocks_max(), 32))


def _same_file(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False
