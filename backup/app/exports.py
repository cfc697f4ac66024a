"""Reading what platforms give back: an Instagram "Download your information" export (JSON), a
TikTok data export (JSON), and the plain CSV of ``date,url,file`` that creators keep by hand
(Xiaohongshu offers no documented export). ``open_export(path)`` tells which it is and reads
it into ``ExportItem`` values, one per published media file (or per post, where the export
holds no media); ``Export.media_file(item)`` gives a file on disk to match (a zip's member is
extracted to a private temporary folder, removed when the export is closed).

Shapes read (docs/design.md, "Publications from platform exports"):

- Instagram: ``your_instagram_activity/content/posts_N.json`` (older exports:
  ``content/posts_N.json``; the export may sit in one top folder) and, beside it,
  ``reels.json`` (``{"ig_reels_media": [post, ...]}``). A post is ``{"media": [{"uri",
  "creation_timestamp", "title"}, ...], "title"?, "creation_timestamp"?}``; ``uri`` is a path
  inside the export (``media/posts/202405/1791....jpg``); times are Unix seconds (timezone.utc); text is
  UTF-8 whose bytes Instagram wrote as ``\\u00XX`` escapes, decoded here.
- TikTok: ``user_data_tiktok.json`` (or ``user_data.json``), ``Video`` (or ``Post``, either
  possibly under ``Activity``) -> ``Videos`` (or ``Posts``) -> ``VideoList``: ``{"Date":
  "2024-05-14 10:22:33" (timezone.utc), "Link": ..., "Likes": ...}``. The export holds no media; a video
  file saved beside the JSON under the name tools give it (the date with ``_`` and ``-``:
  ``2024-05-14_10-22-33.mp4``) is taken as that video's media.
- CSV: UTF-8 (with or without a BOM), a header naming ``date``, ``url`` and ``file`` (any order,
  any case; optional ``platform`` and ``caption``); ``file`` relative to the CSV's folder.

Anything else, or a file that does not read as its shape, raises ``BadExport``: one line naming
the file (and the member, the post or the line) and why.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from inventory.errors import KeepmarkError

INSTAGRAM, TIKTOK, CSV = "instagram", "tiktok", "csv"
FORMATS = {INSTAGRAM: "Instagram export", TIKTOK: "TikTok export", CSV: "CSV"}

# Web addresses whose host says the platform (a CSV row without a platform column).
PLATFORM_HOSTS = {
    "xiaohongshu.com": "Xiaohongshu",
    "xhslink.com": "Xiaohongshu",
    "instagram.com": "Instagram",
    "tiktok.com": "TikTok",
    "tiktokv.com": "TikTok",
    "douyin.com": "Douyin",
    "weibo.com": "Weibo",
    "weibo.cn": "Weibo",
    "bilibili.com": "Bilibili",
    "b23.tv": "Bilibili",
    "youtube.com": "YouTube",
    "youtu.be": "YouTube",
    "x.com": "X",
    "twitter.com": "X",
    "facebook.com": "Facebook",
}

_POSTS = re.compile(r"(?:^|/)content/posts_\d+\.json$")
_TIKTOK_NAMES = ("user_data_tiktok.json", "user_data.json")
_MEDIA_SUFFIXES = (".mp4", ".mov", ".jpeg", ".jpg", ".png", ".webp", ".heic")


class BadExport(KeepmarkError):
    """An export that cannot be read: unknown, corrupt, or not in its platform's shape. Exit 2."""


@dataclass(frozen=True)
class ExportItem:
    """One published media file (or one post without media) as the export states it."""

    platform: str  # Instagram, TikTok, or the CSV's (column, or from the address)
    date: str  # ISO: a date (2024-05-14) or a UTC time (2024-05-14T10:22:33Z)
    url: str | None  # the post's address, where the export has one
    caption: str | None
    media: str | None  # the media file as the export names it (CSV: its absolute path); None: none
    where: str  # where in the export: "content/posts_1.json: post 3, media 2", "posts.csv: line 4"
    member: str | None = None  # the media's path inside the export, when it differs from ``media``

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["member"]
        return out


class _Folder:
    """An export as a folder on disk (members named by their path under it, with ``/``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> list[str]:
        out = []
        for folder, dirs, files in os.walk(self.root):
            dirs.sort()
            rel = Path(folder).relative_to(self.root).as_posix()
            out += [f if rel == "." else f"{rel}/{f}" for f in sorted(files)]
        return out

    def _path(self, name: str) -> Path | None:
        path = (self.root / name).resolve()
        root = self.root.resolve()
        if path != root and root not in path.parents:
            return None  # ../ out of the export: not one of its files
        return path

    def exists(self, name: str) -> bool:
        path = self._path(name)
        return path is not None and path.is_file()

    def read(self, name: str) -> bytes:
        path = self._path(name)
        if path is None:
            raise OSError(f"{name}: outside the export")
        return path.read_bytes()

    def local(self, name: str, scratch: Path) -> Path | None:
        return self._path(name) if self.exists(name) else None

    def close(self) -> None:
        pass


class _Zip:
    """An export as a zip file."""

    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise BadExport(f"{path}: not a readable zip file ({_reason(exc)})") from exc
        self.path = path
        self._names = {i.filename: i for i in self.zip.infolist() if not i.is_dir()}

    def names(self) -> list[str]:
        return sorted(self._names)

    def exists(self, name: str) -> bool:
        return name in self._names

    def read(self, name: str) -> bytes:
        try:
            return self.zip.read(self._names[name])
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
            raise BadExport(f"{self.path}: {name}: cannot be read from the zip ({_reason(exc)})") from exc

    def local(self, name: str, scratch: Path) -> Path | None:
        if name not in self._names:
            return None
        target = scratch / f"{len(list(scratch.iterdir()))}{PurePosixPath(name).suffix[:12]}"
        with self.zip.open(self._names[name]) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return target

    def close(self) -> None:
        self.zip.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


class Export:
    """An opened export: its ``format`` (``instagram``, ``tiktok``, ``csv``), the ``items`` it
    states, and its media files on request. Close it (or use ``with``)."""

    def __init__(self, path: Path, fmt: str, items: list[ExportItem], source: _Folder | _Zip | None) -> None:
        self.path = path
        self.format = fmt
        self.items = items
        self._source = source
        self._scratch: Path | None = None

    @contextmanager
    def media_file(self, item: ExportItem) -> Iterator[Path | None]:
        """A file on disk with the item's media, or None when the export does not hold it. A
        zip's member is extracted for the time of the ``with`` only."""
        if item.media is None:
            yield None
            return
        if self._source is None:  # a CSV: the file is where the row says
            yield Path(item.media) if os.path.isfile(item.media) else None
            return
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="keepmark-export-"))
        try:
            local = self._source.local(item.member or item.media, self._scratch)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise BadExport(f"{self.path}: {item.media}: cannot be read ({_reason(exc)})") from exc
        try:
            yield local
        finally:
            if local is not None and self._scratch in local.parents:
                local.unlink(missing_ok=True)

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> Export:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_export(path: str | os.PathLike[str]) -> Export:
    """Read the export at ``path``: a zip or a folder (Instagram, TikTok), a ``posts_N.json`` or
    ``user_data_tiktok.json`` file alone, or a ``.csv``."""
    given = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    if not given.exists():
        raise BadExport(f"{given}: no such file or folder")
    if given.is_file() and given.suffix.lower() == ".csv":
        return Export(given, CSV, read_csv(given), None)
    if given.is_dir():
        source: _Folder | _Zip = _Folder(given)
    elif zipfile.is_zipfile(given):
        source = _Zip(given)
    elif given.suffix.lower() == ".json":
        source = _Folder(given.parent)
        try:
            return _from_json_file(given, source)
        except BaseException:
            source.close()
            raise
    elif given.suffix.lower() == ".zip":
        raise BadExport(f"{given}: not a readable zip file (no zip directory found)")
    else:
        raise BadExport(f"{given}: not an export Keepmark reads: {_EXPECTED}")
    try:
        return _from_source(given, source)
    except BaseException:
        source.close()
        raise


_EXPECTED = (
    "expected an Instagram export (your_instagram_activity/content/posts_1.json), a TikTok export "
    "(user_data_tiktok.json) or a CSV with a date,url,file header"
)


def _from_json_file(path: Path, source: _Folder) -> Export:
    name = path.name
    if name in _TIKTOK_NAMES:
        return Export(path, TIKTOK, _tiktok(path, source, name), source)
    if re.fullmatch(r"posts_\d+\.json", name):
        # The export's root: above your_instagram_activity/content/ (or content/).
        content = path.parent
        root = content.parent.parent if content.parent.name == "your_instagram_activity" else content.parent
        folder = _Folder(root)
        rel = path.relative_to(root).as_posix()
        return Export(path, INSTAGRAM, _instagram(path, folder, [rel]), folder)
    raise BadExport(f"{path}: not an export Keepmark reads: {_EXPECTED}")


def _from_source(given: Path, source: _Folder | _Zip) -> Export:
    names = source.names()
    posts = sorted(n for n in names if _POSTS.search(n) and "__MACOSX" not in n)
    if posts:
        return Export(given, INSTAGRAM, _instagram(given, source, posts), source)
    for wanted in _TIKTOK_NAMES:
        found = sorted((n for n in names if PurePosixPath(n).name == wanted), key=len)
        if found:
            return Export(given, TIKTOK, _tiktok(given, source, found[0]), source)
    raise BadExport(f"{given}: not an export Keepmark reads: {_EXPECTED}")


def _label(given: Path, name: str) -> str:
    """How an error names a file of the export: its path, or the export's and the member's."""
    return str(given) if given.as_posix().endswith("/" + name) else f"{given}: {name}"


def _load_json(where: Path, source: _Folder | _Zip, name: str) -> Any:
    label = _label(where, name)
    try:
        data = source.read(name)
    except OSError as exc:
        raise BadExport(f"{label}: cannot be read ({_reason(exc)})") from exc
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise BadExport(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise BadExport(
            f"{label}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc


# -- Instagram ------------------------------------------------------------------------------


def fix_mojibake(text: str) -> str:
    """Instagram's export writes each byte of a caption's UTF-8 as its own ``\\u00XX``: read the
    characters back as bytes and decode them. Text that is not such (a character above U+00FF,
    bytes that are not UTF-8) is kept as it is."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _instagram(given: Path, source: _Folder | _Zip, posts_files: list[str]) -> list[ExportItem]:
    items: list[ExportItem] = []
    for name in posts_files:
        root = _instagram_root(name)
        doc = _load_json(given, source, name)
        label = _label(given, name)
        if not isinstance(doc, list):
            raise BadExport(f"{label}: expected a list of posts, found {_kind(doc)}")
        items += _instagram_posts(doc, label, name, root)
        reels = f"{PurePosixPath(name).parent}/reels.json"
        if source.exists(reels):
            doc = _load_json(given, source, reels)
            rlabel = f"{given}: {reels}"
            if not isinstance(doc, dict) or not isinstance(doc.get("ig_reels_media", []), list):
                raise BadExport(f'{rlabel}: expected {{"ig_reels_media": [...]}}, found {_kind(doc)}')
            items += _instagram_posts(doc.get("ig_reels_media", []), rlabel, reels, root)
    return items


def _instagram_root(name: str) -> str:
    """The folder inside the export that ``uri`` paths start from ("" or "top-folder/")."""
    parts = PurePosixPath(name).parts
    cut = len(parts) - 2  # .../content/posts_1.json
    if cut >= 1 and parts[cut - 1] == "your_instagram_activity":
        cut -= 1
    return "".join(f"{p}/" for p in parts[:cut])


def _instagram_posts(posts: list[Any], label: str, name: str, root: str) -> list[ExportItem]:
    items = []
    for n, post in enumerate(posts, 1):
        here = f"{label}: post {n}"
        if not isinstance(post, dict) or not isinstance(post.get("media"), list):
            raise BadExport(f'{here}: expected an object with a "media" list, found {_kind(post)}')
        post_caption = _text(post.get("title"))
        for m, media in enumerate(post["media"], 1):
            where = f"{here}, media {m}" if len(post["media"]) > 1 else here
            if not isinstance(media, dict):
                raise BadExport(f'{where}: expected an object with "uri", found {_kind(media)}')
            stamp = media.get("creation_timestamp", post.get("creation_timestamp"))
            if not isinstance(stamp, int) or isinstance(stamp, bool) or stamp <= 0:
                raise BadExport(f"{where}: creation_timestamp: expected Unix seconds, found {stamp!r}")
            uri = media.get("uri")
            if not isinstance(uri, str) or not uri.strip():
                raise BadExport(f"{where}: uri: expected the media file's path, found {uri!r}")
            stated = uri.strip()
            local = None if re.match(r"[a-z]+://", stated) else stated
            items.append(
                ExportItem(
                    platform="Instagram",
                    date=_utc(datetime.fromtimestamp(stamp, timezone.utc)),
                    url=None,
                    caption=post_caption or _text(media.get("title")),
                    media=local,
                    where=where.replace(f"{label}: ", f"{name}: ", 1),
                    member=root + local.lstrip("/") if local is not None else None,
                )
            )
    return items


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return fix_mojibake(value).strip()


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


# -- TikTok ---------------------------------------------------------------------------------


def _tiktok(given: Path, source: _Folder | _Zip, name: str) -> list[ExportItem]:
    doc = _load_json(given, source, name)
    label = _label(given, name)
    videos = _tiktok_list(doc)
    if videos is None:
        raise BadExport(f"{label}: no list of posted videos (Video -> Videos -> VideoList) in it")
    media = {PurePosixPath(n).stem: n for n in source.names() if n.lower().endswith(_MEDIA_SUFFIXES)}
    items = []
    for n, video in enumerate(videos, 1):
        here = f"{name}: VideoList item {n}"
        if not isinstance(video, dict):
            raise BadExport(f"{label}: VideoList item {n}: expected an object, found {_kind(video)}")
        when = video.get("Date")
        try:
            moment = datetime.strptime(str(when).strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
        except ValueError:
            raise BadExport(
                f"{label}: VideoList item {n}: Date: expected YYYY-MM-DD HH:MM:SS, found {when!r}"
            ) from None
        link = video.get("Link")
        url = None
        if isinstance(link, str) and link.strip():
            url = link.strip().split()[0]  # a photo slideshow lists one link a line: the first
            if urlsplit(url).scheme not in ("http", "https"):
                raise BadExport(f"{label}: VideoList item {n}: Link: not a web address: {url!r}")
        stem = moment.strftime("%Y-%m-%d_%H-%M-%S")
        own = media.get(stem)
        caption = next(
            (_text(video.get(k)) for k in ("Title", "Description", "Desc") if _text(video.get(k))), None
        )
        items.append(ExportItem("TikTok", _utc(moment), url, caption, own, here))
    return items


def _tiktok_list(doc: Any) -> list[Any] | None:
    if not isinstance(doc, dict):
        return None
    for top in (doc, doc.get("Activity")):
        if not isinstance(top, dict):
            continue
        for outer, inner in (("Video", "Videos"), ("Post", "Posts")):
            section = top.get(outer)
            if isinstance(section, dict) and isinstance(section.get(inner), dict):
                found = section[inner].get("VideoList")
                if found is None and "VideoList" in section[inner]:
                    return []  # TikTok writes null for an account that posted nothing
                if isinstance(found, list):
                    return found
    return None


# -- CSV ------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[ExportItem]:
    """The rows of a hand-kept CSV: a header naming date, url and file (and optionally platform
    and caption), then one publication a row. Blank rows are skipped."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadExport(f"{path}: cannot be read ({_reason(exc)})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadExport(
            f'{path}: not UTF-8 text (byte {exc.start}); save it as "CSV UTF-8" and import it again'
        ) from exc
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows, None)
    except csv.Error as exc:
        raise BadExport(f"{path}: line 1: {exc}") from exc
    columns = [h.strip().lower() for h in header or []]
    missing = [c for c in ("date", "url", "file") if c not in columns]
    if missing:
        found = ",".join(header or []) or "nothing"
        raise BadExport(
            f"{path}: line 1: expected a header naming the columns date,url,file (found {found!r})"
        )
    col: dict[str, int] = {
        name: columns.index(name)
        for name in ("date", "url", "file", "platform", "caption")
        if name in columns
    }
    items = []
    try:
        for row in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            items.append(_csv_row(path, line, row, col))
    except csv.Error as exc:
        raise BadExport(f"{path}: line {rows.line_num}: {exc}") from exc
    return items


def _csv_row(path: Path, line: int, row: list[str], col: dict[str, int]) -> ExportItem:
    def cell(name: str) -> str:
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    here = f"{path}: line {line}"
    when = csv_date(cell("date"))
    if when is None:
        raise BadExport(
            f"{here}: date: expected YYYY-MM-DD (or an ISO date and time), found {cell('date')!r}"
        )
    url = cell("url") or None
    if url is not None and (
        urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc or re.search(r"\s", url)
    ):
        raise BadExport(f"{here}: url: not a web address (http:// or https://): {url!r}")
    file = cell("file")
    if not url and not file:
        raise BadExport(f"{here}: neither a url nor a file: nothing says which post it is")
    platform = cell("platform") or (platform_of(url) if url else None)
    if not platform:
        what = f"the address {url!r} does not say which platform" if url else "the row has no address"
        raise BadExport(f"{here}: platform: {what}; add a platform column")
    media = os.path.abspath(os.path.join(path.parent, os.path.expanduser(file))) if file else None
    return ExportItem(platform, when, url, cell("caption") or None, media, f"{path.name}: line {line}")


def csv_date(text: str) -> str | None:
    """``2024-05-14``, ``2024/5/14`` (as spreadsheets write it) or an ISO date and time (one
    with an offset in UTC, one without as written); None when it is none of these."""
    value = text.strip()
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _utc(moment) if moment.tzinfo is not None else moment.isoformat(timespec="seconds")


def platform_of(url: str) -> str | None:
    """The platform a web address is on, by its host; None when the host is not a known one."""
    host = (urlsplit(url).hostname or "").lower()
    for known, name in PLATFORM_HOSTS.items():
        if host == known or host.endswith("." + known):
            return name
    return None
