"""Which paths the daemon takes: files under a source folder, not junk (partial downloads,
editors' temporary files, OS litter, hidden files), not the profile's ignore globs, and never
the stamped output folder or Keepmark's own state."""

from __future__ import annotations

import os
from collections.abc import Iterable

from inventory.record.walk import Ignore


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class PathFilter:
    """``wanted(path)``: whether a file event at ``path`` can be new content for the profile."""

    def __init__(
        self, roots: Iterable[str], *, excluded: Iterable[str] = (), ignore: Iterable[str] = ()
    ) -> None:
        self.roots = [os.path.abspath(f) for f in roots]
        self.excluded = [os.path.abspath(f) for f in excluded]
        self.rules = Ignore(list(ignore))

    def root_of(self, path: str) -> str | None:
        return next((r for r in self.roots if _under(path, r)), None)

    def wanted(self, path: str) -> bool:
        root = self.root_of(path)
        if root is None or path == root:
            return False
        if any(_under(path, d) for d in self.excluded):
            return False
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        parts = rel.split("/")
        if any(p.startswith(".") for p in parts):
            return False  # hidden files and anything in hidden folders (.Trash, .git, ...)
        if self.rules.file(parts[-1], rel):
            return False
        return not any(self.rules.directory(p, "/".join(parts[: i + 1])) for i, p in enumerate(parts[:-1]))
