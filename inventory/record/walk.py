"""Find the files of the source folders, leaving out junk and the profile's ignore globs."""

from __future__ import annotations

import fnmatch
import gc
import os
import re
import stat
from collections.abc import Iterable
from typing import NamedTuple

# Left out everywhere: OS litter, partial downloads, editors' lock and temporary files.
JUNK_FILES = (
    ".DS_Store",
    "._*",
    "Thumbs.db",
    "ehthumbs.db",
    "desktop.ini",
    "Icon\r",
    "*.part",
    "*.partial",
    "*.crdownload",
    "*.download",
    "*.opdownload",
    "*.tmp",
    "*.temp",
    "~$*",
    ".~lock.*#",
    "*.icloud",
    ".*.keepmark-tmp",
)
JUNK_DIRS = (
    ".Spotlight-V100",
    ".Trashes",
    ".fseventsd",
    ".TemporaryItems",
    ".DocumentRevisions-V100",
    "$RECYCLE.BIN",
    "System Volume Information",
    "*.download",
)


class Found(NamedTuple):
    """One regular file found under a source folder."""

    path: str
    root: str
    relpath: str  # relative to root, with "/" separators
    size: int
    mtime_ns: int
    inode: int


class Listed(NamedTuple):
    """The files a walk kept from one folder, column by column (a no-change scan compares the
    columns as a whole and never needs one object per file)."""

    base: str  # the folder's path, ending with a separator
    prefix: str  # its path relative to the root, with "/" separators, ending with "/" (or "")
    names: list[str]
    sizes: list[int]
    mtimes: list[int]  # nanoseconds
    inodes: list[int]


class WalkResult:
    """What a walk found. (A plain class: dataclasses cost a no-change scan its start-up.)"""

    def __init__(self, root: str) -> None:
        self.root = root
        self.folders: list[Listed] = []
        self.errors: list[tuple[str, str]] = []
        self.skipped: list[tuple[str, str]] = []
        self.ignored = 0
        # Folders that could not be fully listed: nothing under them may be taken as deleted.
        self.incomplete: list[str] = []
        self._files: list[Found] | None = None

    @property
    def count(self) -> int:
        return sum(len(f.names) for f in self.folders)

    @property
    def files(self) -> list[Found]:
        """Every file found, one ``Found`` each, in the order found (made on first use)."""
        if self._files is None:
            root, make = self.root, tuple.__new__
            self._files = [
                make(Found, (f.base + name, root, f.prefix + name, size, mtime, inode))
                for f in self.folders
                for name, size, mtime, inode in zip(f.names, f.sizes, f.mtimes, f.inodes, strict=True)
            ]
        return self._files


class Ignore:
    """Case-insensitive globs. A glob with a ``/`` matches the path relative to the source
    folder; one without matches the file or folder name anywhere."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        user = [p.strip().rstrip("/") for p in patterns if p.strip()]
        names = [p for p in user if "/" not in p]
        self._files = _NameMatcher([*JUNK_FILES, *names])
        self._dirs = _NameMatcher([*JUNK_DIRS, *names])
        paths = [p.lstrip("/") for p in user if "/" in p]
        self._paths = _compile([*paths, *(p + "/*" for p in paths)]) if paths else None
        self._screen: tuple[str, ...] | None = None

    def file(self, name: str, relpath: str) -> bool:
        if self._files.match(name.lower()):
            return True
        return self._paths is not None and self._paths.match(relpath.lower()) is not None

    def file_name(self, lname: str) -> bool:
        """Whether a lowercased file name is left out, by the name alone (enough when no glob
        has a ``/``)."""
        return self._files.match(lname)

    def folder_screen(self) -> tuple[str, ...] | None:
        """For rules without a ``/`` that are all exact names, prefixes and suffixes (with at
        most one ``*`` inside): needles, none of which occurs in a folder's lowercased file
        names joined as NUL name NUL name ... NUL unless one of the names may be left out.
        The walk tests a whole folder with a few substring searches and looks at single names
        only when one finds something."""
        if self._screen is None and self._paths is None and self._files.rest is None:
            m = self._files
            self._screen = (
                *(f"\0{n}\0" for n in sorted(m.exact)),
                *(f"{t}\0" for t in m.suffixes),
                *(f"\0{h}" for h in m.prefixes + m.around_heads),
            )
        return self._screen

    def directory(self, name: str, relpath: str) -> bool:
        if self._dirs.match(name.lower()):
            return True
        return self._paths is not None and self._paths.match(relpath.lower()) is not None


class _NameMatcher:
    """Globs split by shape so the common cases are string methods, not a regex: exact names,
    ``*.suffix`` and ``prefix*``; anything else goes to one compiled expression."""

    def __init__(self, globs: Iterable[str]) -> None:
        exact: set[str] = set()
        suffixes: list[str] = []
        prefixes: list[str] = []
        around: list[tuple[str, str]] = []
        rest: list[str] = []
        for g in (g.lower() for g in globs):
            body = g[1:] if g.startswith("*") else g[:-1] if g.endswith("*") else g
            if (
                g.count("*") == 1
                and not any(ch in g for ch in "?[")
                and not g.startswith("*")
                and not g.endswith("*")
            ):
                head, tail = g.split("*")
                around.append((head, tail))
            elif any(ch in body for ch in "*?[") or g == "*":
                rest.append(g)
            elif g.startswith("*"):
                suffixes.append(body)
            elif g.endswith("*"):
                prefixes.append(body)
            else:
                exact.add(g)
        self.exact = exact
        self.suffixes = tuple(suffixes)
        self.prefixes = tuple(prefixes)
        self.around = around  # "head*tail"
        self.around_heads = tuple(h for h, _ in around)
        self.rest = _compile(rest) if rest else None

    def match(self, lname: str) -> bool:
        return (
            lname in self.exact
            or lname.endswith(self.suffixes)
            or lname.startswith(self.prefixes)
            or (
                lname.startswith(self.around_heads)
                and any(
                    len(lname) >= len(h) + len(t) and lname.startswith(h) and lname.endswith(t)
                    for h, t in self.around
                )
            )
            or (self.rest is not None and self.rest.match(lname) is not None)
        )


def _compile(globs: list[str]) -> re.Pattern[str]:
    """One regular expression for many case-insensitive globs (matched against lowercase)."""
    return re.compile("|".join(f"(?:{fnmatch.translate(g.lower())})" for g in globs), re.DOTALL)


# Folders are listed through a file descriptor where the platform can (not on Windows).
_BY_FD = os.scandir in os.supports_fd
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _inside(path: str, folders: Iterable[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def walk(
    root: str,
    start: str | None = None,
    *,
    ignore: Ignore | None = None,
    follow_symlinks: bool = False,
    exclude: Iterable[str] = (),
) -> WalkResult:
    """List the regular files under ``start`` (default ``root``), an absolute folder or file.

    Symlinks are skipped unless ``follow_symlinks``; when followed, a folder is never entered
    twice, so a symlink loop ends. Folders in ``exclude`` (e.g. the stamped-output folder) are
    not entered. Unreadable folders are reported in ``errors`` and the walk goes on.
    """
    ignore = ignore or Ignore()
    excluded = [os.path.abspath(e) for e in exclude]
    result = WalkResult(root)
    start = start or root
    try:
        st = os.stat(start) if follow_symlinks else os.lstat(start)
    except OSError as exc:
        result.errors.append((start, _reason(exc)))
        result.incomplete.append(start)
        return result
    if stat.S_ISREG(st.st_mode):
        rel = _relpath(start, root)
        folder, name = os.path.split(start)
        if ignore.file(name, rel):
            result.ignored += 1
        else:
            base = folder if folder.endswith(os.sep) else folder + os.sep
            prefix = rel[: len(rel) - len(name)]
            result.folders.append(Listed(base, prefix, [name], [st.st_size], [st.st_mtime_ns], [st.st_ino]))
        return result
    if not stat.S_ISDIR(st.st_mode):
        result.skipped.append((start, "not a regular file or folder"))
        return result
    seen: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
    # The walk makes tuples by the ten thousand and frees none: the cyclic garbage collector
    # would run over and over for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _walk_dir(start, root, ignore, follow_symlinks, excluded, seen, result)
    finally:
        if collecting:
            gc.enable()
    return result


def _relpath(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def _walk_dir(
    top: str,
    root: str,
    ignore: Ignore,
    follow: bool,
    excluded: list[str],
    seen: set[tuple[int, int]],
    result: WalkResult,
) -> None:
    # The hot loop of a no-change scan: one stat per file, and as little Python as possible.
    root_len = len(root.rstrip(os.sep)) + 1
    is_dir, is_reg = stat.S_ISDIR, stat.S_ISREG
    screen = ignore.folder_screen()  # None: each file is tested in the loop
    stack = [top]
    while stack:
        folder = stack.pop()
        prefix = folder[root_len:].replace(os.sep, "/") + "/" if len(folder) > root_len else ""
        base = folder if folder.endswith(os.sep) else folder + os.sep
        fd = -1
        try:
            if _BY_FD:
                # Listed through the open folder, each entry's stat is relative to it
                # (fstatat), not a lookup of its whole path again.
                fd = os.open(folder, _FOLDER_FLAGS)
                with os.scandir(fd) as it:
                    entries = list(it)
            else:
                with os.scandir(folder) as it:
                    entries = list(it)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            result.errors.append((folder, f"cannot list folder: {_reason(exc)}"))
            result.incomplete.append(folder)
            continue
        names: list[str] = []
        sizes: list[int] = []
        mtimes: list[int] = []
        inodes: list[int] = []
        add_name, add_size, add_mtime, add_inode = names.append, sizes.append, mtimes.append, inodes.append
        subdirs: list[str] = []
        try:
            for entry in entries:
                try:
                    if entry.is_symlink():
                        if not follow:
                            result.skipped.append((base + entry.name, "symlink (not followed)"))
                            continue
                        try:
                            st = entry.stat()
                        except OSError as exc:
                            why = "broken symlink" if isinstance(exc, FileNotFoundError) else _reason(exc)
                            result.skipped.append((base + entry.name, f"symlink cannot be followed: {why}"))
                            continue
                    else:
                        st = entry.stat()
                except FileNotFoundError:
                    continue  # removed since the folder was listed
                except OSError as exc:
                    result.errors.append((base + entry.name, _reason(exc)))
                    continue
                mode = st.st_mode
                if is_reg(mode):
                    name = entry.name
                    if screen is None and ignore.file(name, prefix + name):
                        result.ignored += 1
                        continue
                    add_name(name)
                    add_size(st.st_size)
                    add_mtime(st.st_mtime_ns)
                    add_inode(st.st_ino)
                elif is_dir(mode):
                    name = entry.name
                    path = base + name
                    if ignore.directory(name, prefix + name):
                        result.ignored += 1
                        continue
                    if excluded and _inside(os.path.abspath(path), excluded):
                        continue
                    if st.st_ino == 0:  # Windows: DirEntry.stat() leaves the file index out
                        st = os.stat(path)
                    key = (st.st_dev, st.st_ino)
                    if key in seen:
                        result.skipped.append((path, "folder already scanned (symlink loop or repeat)"))
                        continue
                    seen.add(key)
                    subdirs.append(path)
                else:
                    result.skipped.append((base + entry.name, "not a regular file"))
        finally:
            if fd >= 0:
                os.close(fd)
        if names and screen is not None:
            joined = ("\0" + "\0".join(names) + "\0").lower()
            if any(needle in joined for needle in screen):
                keep = [i for i, name in enumerate(names) if not ignore.file_name(name.lower())]
                result.ignored += len(names) - len(keep)
                names = [names[i] for i in keep]
                sizes = [sizes[i] for i in keep]
                mtimes = [mtimes[i] for i in keep]
                inodes = [inodes[i] for i in keep]
        if names:  # a folder without files to keep is not listed
            result.folders.append(Listed(base, prefix, names, sizes, mtimes, inodes))
        subdirs.sort(reverse=True)
        stack.extend(subdirs)
