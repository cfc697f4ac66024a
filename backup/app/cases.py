"""Cases: each suspect the app is asked to prove, kept with its evidence and the creator's own
follow-up (drafted, sent, resolved, and notes).

A case lives in the profile's state folder::

    <state>/cases/<id>/
      case.json          what was asked and found, the status and notes (written last; a folder
                         without it is an unfinished case, never listed, swept after a day)
      suspect/<name>     the suspect file as uploaded (its name sanitised)
      bundle/            the evidence bundle ``backup prove --out`` writes (only with a match)
      original-frame.jpg a clip's match: the original video's frame where the matched range starts
      bundle.zip         that bundle zipped under one folder, ``evidence-<id>/``, which
                         ``backup prove --verify`` accepts once unzipped

An id is ``YYYYMMDD-HHMMSS-xxxxxx`` (UTC, then six hex digits); an id from outside is checked
against that pattern and resolved inside the cases folder only. Every file is written
atomically (``inventory.atomic``). The format of ``case.json`` is in docs/design.md, "Cases".
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from backup.app.prove import prove
from backup.errors import NothingFound, StateError, UsageError
from backup.home import state_dir
from backup.profile.model import Profile
from backup.proof.bundle import zip_bundle
from inventory.atomic import TMP_SUFFIX, fsync_dir, write_atomic
from inventory.errors import UnreadableSuspect
from inventory.timeutil import utc_now

FORMAT = "keepmark-case"
VERSION = 1
CASES = "cases"
CASE_FILE = "case.json"
BUNDLE = "bundle"
ZIP = "bundle.zip"
SUSPECT_DIR = "suspect"
ORIGINAL_FRAME = "original-frame.jpg"  # a clip's match: the original's frame where the range starts
FRAME_SIDE = 1280
STATUSES = ("drafted", "sent", "resolved")
NOTES_MAX = 4000  # characters
NAME_MAX = 120  # characters of a sanitised file name
URL_MAX = 2000
CASE_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
UPLOAD_PREFIX = ".upload-"
GONE_PREFIX = ".deleted-"  # a case being deleted: renamed first, so it is gone from the list at once
STALE = 24 * 3600  # seconds: an unfinished case or upload older than this is swept away

MEDIA_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "heic": "image/heic",
    "heif": "image/heif",
    "avif": "image/avif",
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "3gp": "video/3gpp",
}

_lock = threading.Lock()  # one read-modify-write of a case.json at a time


@dataclass
class Case:
    """One case: its ``case.json`` document and its folder."""

    doc: dict[str, Any]
    folder: Path

    @property
    def id(self) -> str:
        return str(self.doc["id"])

    @property
    def matched(self) -> bool:
        return bool(self.doc["verdict"]["match"])

    def suspect_file(self) -> Path:
        return self.folder / str(self.doc["suspect"]["file"])

    def original_frame(self) -> Path | None:
        name = (self.doc.get("original") or {}).get("frame")
        return self.folder / ORIGINAL_FRAME if name == ORIGINAL_FRAME else None

    def zip_file(self) -> Path | None:
        name = self.doc.get("bundle_zip")
        return self.folder / str(name) if name else None

    def media_type(self) -> str:
        """The suspect's media type, from its content (as the inventory sniffs it)."""
        from inventory.media.sniff import HEAD_BYTES, sniff

        with open(self.suspect_file(), "rb") as f:
            sniffed = sniff(f.read(HEAD_BYTES), self.suspect_file().name)
        return MEDIA_TYPES.get(sniffed.format, "application/octet-stream")

    def drawing(self) -> dict[str, Any]:
        """What the side-by-side draws: the matching points ``[xs, ys, xo, yo]`` (suspect, then
        original, in upright full-picture pixels), the window of the original a crop matched
        (fractions left, top, right, bottom), the box of the suspect left after trimming its
        borders (pixels); each empty or None when the match does not carry it."""
        from inventory.match.params import WINDOWS

        details = ((self.doc.get("prove") or {}).get("match") or {}).get("details") or {}
        window = details.get("window")
        box = None
        if str(details.get("variant") or "").startswith("trimmed"):
            suspect = (self.doc.get("prove") or {}).get("suspect") or {}
            found = (suspect.get("hashes") or {}).get("variants", {}).get("trim_box")
            box = [float(v) for v in found] if isinstance(found, list) and len(found) == 4 else None
        return {
            "keypoints": details.get("keypoints") or [],
            "window": list(WINDOWS[window]) if window in WINDOWS and window != "full" else None,
            "trim_box": box,
        }

    def as_dict(self) -> dict[str, Any]:
        return dict(self.doc)


@dataclass
class CaseList:
    profile: str
    cases: list[Case]

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "cases": [summary(c.doc) for c in self.cases]}


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """A case as the list shows it: everything but the full prove document."""
    return {k: v for k, v in doc.items() if k != "prove"}


# -- where cases live -------------------------------------------------------------------------


def cases_dir(profile: Profile) -> Path:
    return state_dir(profile.name) / CASES


def case_folder(profile: Profile, case_id: str) -> Path:
    """The folder of the case ``case_id``, checked against the id pattern and resolved inside
    the profile's cases folder; ``UsageError`` for an id that is not one."""
    if not isinstance(case_id, str) or not CASE_ID.match(case_id):
        raise UsageError(f"case {case_id!r}: not a case id (YYYYMMDD-HHMMSS-xxxxxx)")
    root = cases_dir(profile).resolve()
    folder = (root / case_id).resolve()
    if folder.parent != root:
        raise UsageError(f"case {case_id!r}: not a case of this profile")
    return folder


def new_upload(profile: Profile) -> Path:
    """A new, empty file in the cases folder for an upload to be streamed into (hidden, with
    the temporary suffix; ``open_case`` takes it over, a sweep removes it if it is left)."""
    import tempfile

    root = cases_dir(profile)
    root.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=root, prefix=UPLOAD_PREFIX, suffix=TMP_SUFFIX)
    os.close(fd)
    return Path(name)


def safe_name(raw: str | None) -> str:
    """The uploaded file's name as it is kept: its last part only (no folder of the sender's
    survives), letters, digits, ``.``, ``-`` and ``_`` kept, anything else ``_``, at most
    ``NAME_MAX`` characters with its extension kept; ``suspect`` when nothing is left."""
    base = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[^\w.\-]+", "_", base).strip("._-")
    name = re.sub(r"\.{2,}", ".", name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext[:12].lower()
    stem = stem[: NAME_MAX - len(ext) - 1] or "suspect"
    return f"{stem}.{ext}" if ext else stem


# -- making a case ----------------------------------------------------------------------------


def open_case(profile: Profile, upload: Path, name: str | None, *, url: str | None = None) -> Case:
    """Prove the uploaded file (``upload``, from ``new_upload``) and keep it as a new case: the
    suspect, the evidence bundle and its zip when there is a match, then ``case.json``. Refuses
    (``UsageError``, one line naming the file) a file that is no photo or video, or one that
    does not decode; nothing of it is kept then. The upload is taken over (moved or removed)."""
    from inventory.media.sniff import HEAD_BYTES, sniff

    root = cases_dir(profile)
    kept = safe_name(name)
    folder: Path | None = None
    try:
        if url is not None:
            url = url.strip() or None
        if url is not None and len(url) > URL_MAX:
            raise UsageError(f"url: at most {URL_MAX} characters")
        if url is not None:
            from inventory.ledger.publications import BadPublication, check_url

            try:
                url = check_url(url)
            except BadPublication as exc:
                raise UsageError(f"url: {exc}") from exc
        with open(upload, "rb") as f:
            head = f.read(HEAD_BYTES)
        if not head:
            raise UsageError(f"{kept}: the file is empty; choose a photo or a video")
        sniffed = sniff(head, kept)
        if sniffed.kind not in ("image", "video"):
            raise UsageError(f"{kept}: not a photo or a video; choose a photo or a video file")
        _sweep(root)
        case_id, folder = _new_folder(root)
        suspect = folder / SUSPECT_DIR / kept
        suspect.parent.mkdir()
        os.replace(upload, suspect)
        fsync_dir(suspect.parent)
        try:
            proved = prove(profile, str(suspect), out=folder / BUNDLE, url=url)
        except UnreadableSuspect as exc:
            raise UsageError(str(exc).replace(str(suspect), kept)) from exc
        doc = _case_doc(case_id, suspect, kept, sniffed.kind, url, proved.as_dict(), proved.result.evidence)
        time_range = doc["verdict"].get("time_range")
        if doc["original"] is not None and time_range:
            frame = _frame_of(doc["original"]["path"], float(time_range[0]))
            if frame is not None:
                write_atomic(folder / ORIGINAL_FRAME, frame)
                doc["original"]["frame"], doc["original"]["frame_at"] = ORIGINAL_FRAME, time_range[0]
        if proved.result.bundle is not None:
            zip_bundle(proved.result.bundle, folder / ZIP, f"evidence-{case_id}")
            doc["bundle"], doc["bundle_zip"] = BUNDLE, ZIP
        write_atomic(folder / CASE_FILE, _dump(doc))
        return Case(doc, folder)
    except BaseException:
        if folder is not None and not (folder / CASE_FILE).exists():
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        try:
            upload.unlink()
        except OSError:
            pass  # moved into the case, or never made


def _new_folder(root: Path) -> tuple[str, Path]:
    while True:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        case_id = f"{stamp}-{secrets.token_hex(3)}"
        folder = root / case_id
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        return case_id, folder


def _sweep(root: Path) -> None:
    """Remove what a crash left: cases deleted but not yet removed, and unfinished cases (no
    case.json) and uploads over a day old (younger ones may still be in the making)."""
    if not root.is_dir():
        return
    old = time.time() - STALE
    for entry in root.iterdir():
        try:
            if entry.name.startswith(GONE_PREFIX) and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
                continue
            if entry.stat().st_mtime > old:
                continue
            if entry.is_file() and entry.name.startswith(UPLOAD_PREFIX):
                entry.unlink()
            elif entry.is_dir() and CASE_ID.match(entry.name) and not (entry / CASE_FILE).exists():
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def _dump(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _case_doc(
    case_id: str,
    suspect: Path,
    name: str,
    kind: str,
    url: str | None,
    proved: dict[str, Any],
    evidence: dict[str, Any] | None,
) -> dict[str, Any]:
    match = proved.get("match")
    now = utc_now()
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "id": case_id,
        "created": now,
        "updated": now,
        "suspect": {
            "name": name,
            "file": f"{SUSPECT_DIR}/{name}",
            "sha256": proved["suspect"]["sha256"],
            "size": suspect.stat().st_size,
            "kind": proved["suspect"].get("kind") or kind,
            "size_px": _picture_size(suspect) if kind == "image" else None,
        },
        "url": url,
        "verdict": verdict(match),
        "original": None,
        "proof": None,
        "bundle": None,
        "bundle_zip": None,
        "status": "drafted",
        "notes": "",
        "history": [{"time": now, "status": "drafted"}],
        "prove": proved,
    }
    if match is not None:
        o = (evidence or {}).get("original") or {}
        path = str(match["path"])
        size_px = _picture_size(Path(path)) if o.get("kind") == "image" else None
        if size_px is None and o.get("width") and o.get("height"):
            size_px = [int(o["width"]), int(o["height"])]
        doc["original"] = {
            "sha256": match["sha256"],
            "path": path,
            "name": os.path.basename(path),
            "kind": o.get("kind"),
            "size": o.get("size"),
            "size_px": size_px,
            "capture_time": o.get("capture_time"),
            "camera": " ".join((o.get("camera") or {}).values()) or None,
            "first_recorded": o.get("first_seen"),
            "publications": o.get("publications") or [],
        }
        doc["proof"] = proof_summary(evidence or {})
    return doc


def verdict(match: dict[str, Any] | None) -> dict[str, Any]:
    """What the match says, in short: how, how sure, what to draw."""
    if match is None:
        return {"match": False}
    details = match.get("details") or {}
    return {
        "match": True,
        "method": match["method"],
        "confidence": match["confidence"],
        "distance": match.get("distance"),
        "score": match.get("score"),
        "variant": details.get("variant"),
        "window": details.get("window"),
        "mirrored": details.get("mirrored"),
        "inliers": details.get("inliers"),
        "points": len(details.get("keypoints") or []),
        "time_range": details.get("time_range"),
        "clip_range": details.get("clip_range"),
        "derivative": (details.get("derivative") or {}).get("path"),
    }


def proof_summary(ev: dict[str, Any]) -> dict[str, Any]:
    """How the first record is proven, from the evidence: the ledger entry that recorded it,
    the signed checkpoint covering it, and that checkpoint's trusted timestamp (or why none)."""
    checkpoints = ev.get("checkpoints") or []
    first = checkpoints[0] if checkpoints else None
    stamped = next((cp for cp in checkpoints if isinstance(cp.get("timestamp"), dict)), None)
    stamp: dict[str, Any] | str | None = None
    if stamped is not None:
        t = stamped["timestamp"]
        stamp = {"time": t.get("time"), "authority": t.get("authority"), "serial": t.get("serial")}
    elif any(cp.get("timestamp") == "pending" for cp in checkpoints):
        stamp = "pending"
    return {
        "first_recorded": (ev.get("original") or {}).get("first_seen"),
        "ledger_entry": (ev.get("ledger") or {}).get("first"),
        "checkpoint": {
            "entries": first["checkpoint"]["entries"],
            "time": first["checkpoint"]["time"],
            "key_id": first["checkpoint"].get("key_id"),
        }
        if first
        else None,
        "timestamp": stamp,
    }


def _frame_of(path: str, at: float) -> bytes | None:
    """The original video's frame at ``at`` seconds (JPEG), or None when it cannot be read."""
    from inventory.media.thumbnail import ThumbnailError, video_frame

    if not os.path.isfile(path):
        return None
    try:
        return video_frame(path, at, FRAME_SIDE)
    except ThumbnailError:
        return None


def _picture_size(path: Path) -> list[int] | None:
    """A photo's width and height as it is meant to be seen (EXIF orientation applied): the
    space the matching points are given in."""
    from PIL import Image

    from inventory.media.heif import register_heif
    from inventory.media.orientation import orientation_of, swaps_sides

    register_heif()
    try:
        with Image.open(path) as im:
            w, h = im.size
            if swaps_sides(orientation_of(im.getexif())):
                w, h = h, w
    except (OSError, ValueError, SyntaxError):
        return None
    return [w, h]


# -- reading and updating cases ---------------------------------------------------------------


def _read(folder: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads((folder / CASE_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("id") != folder.name:
        return None
    return doc


def list_cases(profile: Profile) -> CaseList:
    """The profile's finished cases, newest first (a folder without a readable case.json, a
    case whose prove did not finish, is left out)."""
    root = cases_dir(profile)
    found: list[Case] = []
    if root.is_dir():
        for entry in root.iterdir():
            if entry.is_dir() and CASE_ID.match(entry.name):
                doc = _read(entry)
                if doc is not None:
                    found.append(Case(doc, entry))
    found.sort(key=lambda c: (str(c.doc.get("created", "")), c.id), reverse=True)
    return CaseList(profile.name, found)


def get_case(profile: Profile, case_id: str) -> Case:
    """The case ``case_id``; ``UsageError`` for a bad id, ``NothingFound`` for no such case."""
    folder = case_folder(profile, case_id)
    doc = _read(folder)
    if doc is None:
        raise NothingFound(f"case {case_id}: no such case of {profile.name}")
    return Case(doc, folder)


def update_case(profile: Profile, case_id: str, *, status: Any = None, notes: Any = None) -> Case:
    """Set a case's status (one of ``STATUSES``) and/or notes (at most ``NOTES_MAX``
    characters); a change of status is added to its history. Written atomically."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"status: one of {', '.join(STATUSES)}, not {status!r}")
    if notes is not None:
        if not isinstance(notes, str):
            raise UsageError("notes: give text")
        notes = notes.replace("\r\n", "\n").strip()
        if len(notes) > NOTES_MAX:
            raise UsageError(f"notes: at most {NOTES_MAX} characters, not {len(notes)}")
    with _lock:
        case = get_case(profile, case_id)
        doc = case.doc
        now = utc_now()
        if status is not None and status != doc.get("status"):
            doc["status"] = status
            doc.setdefault("history", []).append({"time": now, "status": status})
        if notes is not None:
            doc["notes"] = notes
        doc["updated"] = now
        write_atomic(case.folder / CASE_FILE, _dump(doc))
    return case


def delete_case(profile: Profile, case_id: str) -> str:
    """Delete a case: its suspect file, evidence bundle, zip, status and notes (never an
    original, nor anything of the inventory). The folder is renamed out of the list first, in
    one step, then removed; what a crash leaves of it is removed by the next case's sweep.
    The case's id; ``UsageError`` for a bad id, ``NothingFound`` for no such case."""
    with _lock:
        case = get_case(profile, case_id)
        gone = case.folder.with_name(f"{GONE_PREFIX}{case.id}")
        try:
            os.replace(case.folder, gone)
        except OSError as exc:  # Windows: a file of it still open
            raise StateError(f"case {case.id}: cannot be deleted now ({exc.strerror}); try again") from exc
        fsync_dir(gone.parent)
    shutil.rmtree(gone, ignore_errors=True)
    return case.id
