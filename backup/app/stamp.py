"""``backup stamp``: watermarked copies of a profile's photos and videos, recorded in the
inventory as derivatives of their originals.

One pass over the source folders (or the paths given in them): new and changed files are
recorded, and each new photo or video is decoded once for both its record and its copy; then
what was recorded earlier and has no copy made with this style gets one (see
``backup.stages.stamp``). The same pass is what ``backup demo`` and the daemon run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from backup.app.results import ForProfile
from backup.app.scan import sign_checkpoint
from backup.app.workspace import open_inventory, source_labels, sources_for, walk_rules
from backup.errors import Problem, ProfileError, UsageError
from backup.home import keepmark_home
from backup.profile.model import Profile, WatermarkSettings
from backup.stages.stamp import Stamper, Stamping, StampReport
from inventory.progress import Progress
from inventory.record.scan import Hold, ScanReport
from inventory.record.scan import scan as scan_sources
from watermark.errors import WatermarkError

if TYPE_CHECKING:
    from watermark.style import Style

__all__ = ["Pass", "StampReport", "Stamped", "record_and_stamp", "stamp", "stamping_for", "style_of"]


def stamping_for(profile: Profile, out: str | None = None) -> Stamping:
    """How this profile's copies are made (``out``: another output folder), checked before the
    first file: the style (a bad one is a profile error naming ``watermark``), the output folder
    (not inside a source folder unless copies carry a suffix; writable)."""
    from watermark.image import ImageOptions
    from watermark.style import Credits, VideoSettings, style_hash

    wm, account = profile.watermark, profile.account
    try:
        style = style_of(wm)
    except WatermarkError as exc:
        raise ProfileError(
            str(profile.file), [Problem("watermark", str(exc), "fix the [watermark] section")]
        ) from exc
    rights = f"© {account.name} (@{account.handle})" if wm.copyright else None
    ascii_rights, ascii_artist = exif_account(account.name, account.handle) if wm.copyright else (None, None)
    image = ImageOptions(
        jpeg_quality=wm.jpeg_quality,
        copyright=rights,
        artist=account.name if wm.copyright else None,
        max_pixels=wm.max_image_pixels,
        animated=wm.animated,
        sync_dir=False,  # the stage fsyncs each output folder once per recorded batch
        exif_copyright=ascii_rights,
        exif_artist=ascii_artist,
    )
    video = VideoSettings(
        codec=wm.video_codec,
        crf=wm.video_crf,
        preset=wm.video_preset,
        credits=Credits(opening=wm.credits_opening, closing=wm.credits_closing),
        tags=(("artist", account.name), ("copyright", rights)) if rights else (),
    )
    root = output_root(profile, out)
    check_output(profile, root)
    names = {"name": account.name, "handle": account.handle}
    # One hash for the run: it covers the account's name and handle (the same for every file)
    # and the logo's and font's bytes, which are read once here rather than once per file.
    extra = {"image": repr(image), "video": repr(video), "format": "same as source"}
    if wm.copyright:
        # copies made before the copyright fields were ASCII-safe in EXIF, in XMP in every
        # format and on videos are made again, once (the fields are left out of the reprs)
        extra["metadata"] = f"{METADATA_RULES} {ascii_rights} {ascii_artist}"
    return Stamping(
        style=style,
        image=image,
        video=video,
        account=names,
        output=root,
        suffix=wm.suffix,
        style_hash=style_hash(style, fields=names, extra=extra),
    )


def style_of(wm: WatermarkSettings) -> Style:
    """The ``Style`` a profile's ``[watermark]`` settings describe: what stamping marks copies
    with and what the app's watermark designer previews (``WatermarkError`` for one that cannot
    be)."""
    from watermark.style import Style

    return Style(
        text=wm.text,
        logo=wm.logo,
        position=wm.position,
        opacity=wm.opacity,
        size=wm.size,
        margin=wm.margin,
        font=wm.font,
    )


METADATA_RULES = "exif-ascii xmp-utf8 video-tags"


def exif_account(name: str, handle: str) -> tuple[str | None, str | None]:
    """(Copyright, Artist) for EXIF, whose text fields are ASCII: readers take their bytes as
    ASCII, Latin-1 or a code page, so a name in another script would show as mojibake. The
    account's name where it is ASCII, else ``@handle`` where that is; "Copyright" spelled out
    (the sign is not ASCII). Nothing is transliterated: a field with no ASCII form is left
    out, and the full name is in XMP ``dc:creator``/``dc:rights`` (UTF-8)."""
    from watermark.metadata import ascii_text

    name_ok = ascii_text(name)
    handle_ok = ascii_text(f"@{handle}") if handle else None
    if name_ok and handle_ok:
        who: str | None = f"{name_ok} ({handle_ok})"
    else:
        who = name_ok or handle_ok
    return (f"Copyright {who}" if who else None), (name_ok or handle_ok)


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


def _logo_problem(stamping: Stamping) -> str | None:
    """Why the style's logo cannot be used, if it cannot (every copy would fail the same way)."""
    if stamping.style.logo is None:
        return None
    from watermark.mark import load_logo

    try:
        load_logo(Path(stamping.style.logo))
    except WatermarkError as exc:
        return str(exc)
    return None


@dataclass
class Pass:
    """What one pass of the record and stamp stages did."""

    scan: ScanReport
    stamp: StampReport


def record_and_stamp(
    profile: Profile,
    paths: Sequence[str] = (),
    *,
    out: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    skip_newer: int | None = None,
    hold: Hold | None = None,
) -> Pass:
    """Record new and changed files of the profile's source folders (or of ``paths`` in them),
    stamping each new photo and video from the same decode, then stamp what was recorded
    earlier without a copy in this style; sign a checkpoint of what was recorded.
    ``skip_newer``, ``hold``: see ``inventory.record.scan.scan``."""
    progress = progress or Progress()
    stamping = stamping_for(profile, out)
    sources = sources_for(profile, paths)
    with open_inventory(profile) as inv:
        stamping = replace(stamping, labels=source_labels(profile, inv=inv))
        stamper = Stamper(inv, stamping, force=force, progress=progress, workers=workers)
        logo = _logo_problem(stamping)
        if logo is not None:
            stamper.result.failed.append({"source": str(stamping.style.logo), "error": logo})
        report = scan_sources(
            inv,
            sources,
            **walk_rules(profile)._asdict(),
            progress=progress,
            workers=workers,
            skip_newer=skip_newer,
            hold=hold,
            reader=stamper.read if logo is None else None,
            on_recorded=stamper.recorded,
        )
        sign_checkpoint(profile, inv, after_scan=True)
        if logo is None:
            stamper.stamp_recorded([s.start for s in sources])
        return Pass(report, stamper.report())


Stamped = ForProfile[StampReport]


def stamp(
    profile: Profile,
    paths: Sequence[str] = (),
    *,
    out: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Stamped:
    """Write watermarked copies of the profile's photos and videos (or those under ``paths``)
    into the output folder, recording every new original on the way."""
    done = record_and_stamp(profile, paths, out=out, force=force, progress=progress, workers=workers)
    return Stamped(profile.name, done.stamp)
