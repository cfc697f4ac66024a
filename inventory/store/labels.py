"""The ``source_labels`` table: the name each source folder is filed under, on the backup
targets (``originals/<label>/...``) and in the stamped copies' output folder.

A source folder is filed under its own name (``Exports``). Two source folders may share a name
(``~/Pictures/Exports`` and ``~/Movies/Exports``): the one labelled first keeps the bare name,
the other is filed under its name and its parent's (``Exports (Movies)``; further parents, then a
number, if that is taken too). A label, once given, is kept: adding, removing or reordering
source folders never moves what is already on the targets. A folder labelled before this table
existed had its bare name, which it gets again (names were unique then).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import PurePath

from inventory.store.db import Database
from inventory.timeutil import utc_now


def bare_label(root: str) -> str:
    """A source folder's own name, the label it gets when no other folder has taken it."""
    return os.path.basename(os.path.normpath(root)) or "root"


def _candidates(root: str) -> Iterable[str]:
    name = bare_label(root)
    yield name
    parents = [p.name for p in PurePath(os.path.normpath(root)).parents if p.name]
    for depth in range(1, len(parents) + 1):
        yield f"{name} ({' '.join(reversed(parents[:depth]))})"
    n = 2
    while True:
        yield f"{name} ({n})"
        n += 1


class SourceLabelStore(Database):
    """The labels of a profile's source folders (a part of ``Inventory``)."""

    def source_labels(self, roots: Iterable[str], *, keep: bool = True) -> dict[str, str]:
        """The label of each of ``roots`` (source folders, as the profile lists them), giving
        one, in this order, to each root that has none yet; ``keep=False`` works the labels out
        the same way without recording them (for what only reads, such as ``backup status``)."""
        wanted = list(dict.fromkeys(roots))
        rows = self.conn.execute("SELECT root, label FROM source_labels").fetchall()
        known = {str(r): str(label) for r, label in rows}
        fresh = [r for r in wanted if r not in known]
        if not fresh:
            return {r: known[r] for r in wanted}
        if not keep:
            return {r: label for r, label in _give(known, fresh).items() if r in wanted}
        with self.transaction() as c:
            rows = c.execute("SELECT root, label FROM source_labels").fetchall()
            known = {str(r): str(label) for r, label in rows}
            given = _give(known, [r for r in wanted if r not in known])
            now = utc_now()
            for root, label in given.items():
                if root not in known:
                    c.execute(
                        "INSERT INTO source_labels (root, label, given) VALUES (?, ?, ?)", (root, label, now)
                    )
        return {r: given[r] for r in wanted}


def _give(known: dict[str, str], fresh: Iterable[str]) -> dict[str, str]:
    """``known`` and a label for each of ``fresh``, in order: the first candidate not taken."""
    out = dict(known)
    taken = {label.casefold() for label in known.values()}
    for root in fresh:
        label = next(c for c in _candidates(root) if c.casefold() not in taken)
        out[root] = label
        taken.add(label.casefold())
    return out
