"""Where a creator's photos and videos likely are (``suggested_folders``), and a folder picker's
listing (``list_folders``).

Suggestions are folders that exist under the home folder: the system's own (Pictures, Movies,
Videos, Desktop, Downloads, and OneDrive's Pictures and Desktop on Windows), and the folders
camera-import and editing apps export into when they are there. An app's folder is suggested
only when it holds a photo or video near its top, so that an app's cache is not; app libraries
(``Photos Library.photoslibrary``, ``.fcpbundle``, ``.lrdata``... macOS packages) are never
suggested nor looked into: their files belong to the app.

Counting is cheap and bounded: only the top two levels of a folder (its files and its
sub-folders' files), hidden entries left out, no symlinked folder followed, stopping at 1000
photos and videos (``1000+``) or after looking at 20,000 entries; it never walks a whole disk.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from backup.app.setup.drives import drive_letters, drive_paths
from backup.errors import UsageError
from backup.profile.ondisk import inside
from backup.profile.specs import local_path_is_absolute
from inventory.media.sniff import IMAGE_EXTENSIONS, RAW_EXTENSIONS, VIDEO_EXTENSIONS

COUNT_LIMIT = 1000
_LOOK_BUDGET = 20_000
_MEDIA = frozenset({*IMAGE_EXTENSIONS, *RAW_EXTENSIONS, *VIDEO_EXTENSIONS})

# (key, folder under the home, suggested only when it holds media near its top). The system's
# folders are suggested whenever they exist; an app's only with media in it, except the
# Jianying/CapCut folders, which are their export folders and may be empty yet.
_PLACES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("pictures", ("Pictures",), False),
    ("movies", ("Movies",), False),
    ("videos", ("Videos",), False),
    ("desktop", ("Desktop",), False),
    ("downloads", ("Downloads",), False),
    ("onedrive:pictures", ("OneDrive", "Pictures"), False),
    ("onedrive:desktop", ("OneDrive", "Desktop"), False),
    ("app:lightroom", ("Pictures", "Lightroom"), True),
    ("app:lightroom", ("Pictures", "Lightroom Exports"), True),
    ("exports", ("Pictures", "Exports"), True),
    ("app:capture-one", ("Pictures", "Capture One"), True),
    ("app:davinci-resolve", ("Movies", "DaVinci Resolve"), True),
    ("app:davinci-resolve", ("Videos", "DaVinci Resolve"), True),
    ("app:game-bar", ("Videos", "Captures"), True),
    ("app:jianying", ("Movies", "JianyingPro"), False),
    ("app:jianying", ("Videos", "JianyingPro"), False),
    ("app:capcut", ("Movies", "CapCut"), False),
    ("app:capcut", ("Videos", "CapCut"), False),
)

# App libraries and caches: folders whose files belong to an app (macOS packages among them).
_LIBRARY_SUFFIXES = (
    ".photoslibrary",
    ".photolibrary",
    ".migratedphotolibrary",
    ".aplibrary",
    ".fcpbundle",
    ".fcpcache",
    ".imovielibrary",
    ".theater",
    ".lrdata",
    ".lrlibrary",
    ".cocatalog",
    ".cosessiondb",
    ".app",
    ".bundle",
    ".tvlibrary",
    ".musiclibrary",
)
_LIBRARY_NAMES = frozenset(
    {
        "photo booth library",
        "iphoto library",
        "imovie library",
        "imovie theater",
        "cacheclip",
        "proxymedia",
        "optimized media",
        "render files",
        "transcoded media",
        "analysis files",
    }
)


def is_app_library(name: str) -> bool:
    """A folder whose files belong to an app: a photo library, a macOS package, a render cache."""
    low = name.casefold()
    return low.endswith(_LIBRARY_SUFFIXES) or low in _LIBRARY_NAMES


def is_media_name(name: str) -> bool:
    return "." in name and name.rpartition(".")[2].casefold() in _MEDIA


class MediaCount(NamedTuple):
    """Photos and videos seen; ``more``: there may be more (the limit or the budget was hit)."""

    found: int
    more: bool

    @property
    def text(self) -> str:
        return f"{self.found}+" if self.more else str(self.found)


def count_media(folder: Path, limit: int = COUNT_LIMIT, budget: int = _LOOK_BUDGET) -> MediaCount:
    """The photos and videos in the top two levels of ``folder`` (see the module docstring)."""
    count = looked = 0
    level = [folder]
    for depth in (1, 2):
        below: list[Path] = []
        for current in level:
            try:
                it = os.scandir(current)
            except OSError:
                continue
            with it:
                for entry in it:
                    looked += 1
                    if looked > budget:
                        return MediaCount(count, True)
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_file():
                            if is_media_name(entry.name):
                                count += 1
                                if count >= limit:
                                    return MediaCount(limit, True)
                        elif (
                            depth == 1
                            and entry.is_dir(follow_symlinks=False)
                            and not is_app_library(entry.name)
                        ):
                            below.append(Path(entry.path))
                    except OSError:
                        continue
        level = below
    return MediaCount(count, False)


@dataclass
class Suggestion:
    key: str
    path: Path
    media: MediaCount
    within: str | None = None  # the key of the suggested folder this one is inside

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "path": str(self.path),
            "media": self.media.found,
            "more": self.media.more,
            "media_text": self.media.text,
            "within": self.within,
        }


@dataclass
class FolderSuggestions:
    home: Path
    folders: list[Suggestion] = field(default_factory=list)

    ok = True

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "home": str(self.home), "folders": [f.as_dict() for f in self.folders]}


def suggested_folders(home: Path | None = None) -> FolderSuggestions:
    """The folders under ``home`` (default: this user's) a creator likely shoots, imports or
    exports into, that exist here, each with a rough count of its photos and videos."""
    base = Path(home) if home is not None else Path.home()
    found: list[Suggestion] = []
    seen: set[str] = set()
    for key, parts, needs_media in _PLACES:
        path = base.joinpath(*parts)
        try:
            is_folder = path.is_dir()
        except OSError:
            continue
        ident = os.path.normcase(str(path))
        if not is_folder or ident in seen:  # a case-insensitive disk: Videos and videos
            continue
        media = count_media(path)
        if needs_media and media.found == 0:
            continue
        seen.add(ident)
        found.append(Suggestion(key, path, media))
    for s in found:
        outer = next((o for o in found if o is not s and inside(s.path, o.path)), None)
        s.within = outer.key if outer is not None else None
    return FolderSuggestions(base, found)


# -- the folder picker ----------------------------------------------------------------------

_UF_HIDDEN = getattr(stat, "UF_HIDDEN", 0)
_WIN_HIDDEN = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 2) | getattr(stat, "FILE_ATTRIBUTE_SYSTEM", 4)


def _hidden(entry: os.DirEntry[str]) -> bool:
    """Hidden: a name starting with '.', or the system's hidden flag (macOS ``~/Library``,
    Windows' hidden and system folders)."""
    if entry.name.startswith("."):
        return True
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    if getattr(st, "st_flags", 0) & _UF_HIDDEN:
        return True
    return bool(getattr(st, "st_file_attributes", 0) & _WIN_HIDDEN)


@dataclass
class Subfolder:
    name: str
    path: Path
    link: bool  # a symlink to a folder
    package: bool  # an app library or package (see is_app_library)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "link": self.link, "package": self.package}


@dataclass
class Root:
    """A place to start picking from: ``home``, ``computer`` (``/``), ``drive``."""

    path: Path
    label: str
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "label": self.label, "kind": self.kind}


@dataclass
class FolderListing:
    path: Path
    parent: Path | None
    folders: list[Subfolder] = field(default_factory=list)
    roots: list[Root] = field(default_factory=list)

    ok = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "path": str(self.path),
            "parent": str(self.parent) if self.parent is not None else None,
            "folders": [f.as_dict() for f in self.folders],
            "roots": [r.as_dict() for r in self.roots],
        }


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _folder(path: str) -> Path:
    """``path`` as an absolute folder that exists; ``UsageError`` naming it and why not."""
    raw = os.path.expanduser(path) if path.strip() else ""
    if not raw:
        raise UsageError("folder: empty; give an absolute folder path")
    if "\x00" in raw:
        raise UsageError(f"{path!r}: not a folder path")
    if not local_path_is_absolute(raw):
        raise UsageError(f"{path}: a relative path; give an absolute folder path, e.g. {Path.home()}")
    folder = Path(os.path.normpath(raw))
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        raise UsageError(f"{folder}: no such folder") from None
    except OSError as exc:
        raise UsageError(f"{folder}: cannot be read: {_reason(exc)}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{folder}: is a file, not a folder")
    return folder


def roots(home: Path | None = None) -> list[Root]:
    """Where a folder picker starts: the home folder, then ``/`` and the drives mounted now
    (on Windows, every drive letter that exists)."""
    base = Path(home) if home is not None else Path.home()
    found = [Root(base, base.name or str(base), "home")]
    if os.name == "nt":
        found += [Root(p, str(p).rstrip("\\"), "drive") for p in drive_letters(system=True)]
    else:
        found.append(Root(Path(os.sep), os.sep, "computer"))
        found += [Root(p, p.name, "drive") for p in drive_paths()]
    return found


def list_folders(path: str, *, home: Path | None = None) -> FolderListing:
    """The sub-folders of the absolute folder ``path`` (never files; hidden ones left out;
    symlinks to folders marked ``link``), sorted as people sort (case left aside), with the
    parent (None at a root) and where to start (``roots``). ``UsageError`` (one line naming the
    path and why) for a relative path, one that does not exist, is not a folder or cannot be
    read."""
    folder = _folder(path)
    subfolders: list[Subfolder] = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    if _hidden(entry) or not entry.is_dir():
                        continue
                    link = entry.is_symlink()
                except OSError:
                    continue
                subfolders.append(
                    Subfolder(entry.name, folder / entry.name, link, is_app_library(entry.name))
                )
    except OSError as exc:
        raise UsageError(f"{folder}: cannot be read: {_reason(exc)}") from None
    subfolders.sort(key=lambda s: (s.name.casefold(), s.name))
    parent = folder.parent if folder.parent != folder else None
    return FolderListing(folder, parent, subfolders, roots(home))
