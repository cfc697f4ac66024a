"""The ``damaged`` table: copies on the backup targets found missing, cut or altered, kept until
a full run or ``backup repair`` replaces them (what was found, when, by what, and how it ended).

A finding is open while ``resolved`` is NULL; at most one is open per target and key. Resolving
one keeps the row, so that what was repaired, and why, can be looked up later (the backup runs
also write a ``repair`` ledger entry for each copy they replace).
"""

from __future__ import annotations

from collections.abc import Iterable

from inventory.store.db import Database
from inventory.store.rows import Damage
from inventory.timeutil import utc_now

_OPEN = "SELECT target, key, path, sha256, problem, found, found_by FROM damaged WHERE resolved IS NULL"


class FindingsStore(Database):
    """The inventory's record of damage found on the targets (a part of ``Inventory``)."""

    def note_damage(self, found: Iterable[Damage]) -> list[Damage]:
        """Record damage found (``found`` and ``found_by`` of each as given; an empty ``found``
        means now). A key with an open finding keeps it, with the newer problem. Returns what
        was recorded, as stored."""
        now = utc_now()
        out: list[Damage] = []
        with self.transaction() as c:
            for d in found:
                d = d._replace(found=d.found or now)
                row = c.execute(
                    "SELECT found, found_by FROM damaged WHERE target = ? AND key = ? AND resolved IS NULL",
                    (d.target, d.key),
                ).fetchone()
                if row is not None:
                    c.execute(
                        "UPDATE damaged SET path = ?, sha256 = ?, problem = ? "
                        "WHERE target = ? AND key = ? AND resolved IS NULL",
                        (d.path, d.sha256, d.problem, d.target, d.key),
                    )
                    d = d._replace(found=str(row[0]), found_by=str(row[1]))
                else:
                    c.execute(
                        "INSERT OR REPLACE INTO damaged "
                        "(target, key, path, sha256, problem, found, found_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        tuple(d),
                    )
                out.append(d)
        return out

    def open_damage(self, target: str | None = None) -> list[Damage]:
        """The open findings (of one target), by target and key."""
        if target is None:
            rows = self.conn.execute(f"{_OPEN} ORDER BY target, key")
        else:
            rows = self.conn.execute(f"{_OPEN} AND target = ? ORDER BY key", (target,))
        return [Damage._make(r) for r in rows]

    def resolve_damage(self, target: str, keys: Iterable[str], resolution: str) -> list[Damage]:
        """Close the open findings of these keys on ``target`` (``resolution`` says how);
        the findings that were open."""
        wanted = list(keys)
        closed: list[Damage] = []
        if not wanted:
            return closed
        now = utc_now()
        with self.transaction() as c:
            for key in wanted:
                row = c.execute(f"{_OPEN} AND target = ? AND key = ?", (target, key)).fetchone()
                if row is None:
                    continue
                c.execute(
                    "UPDATE damaged SET resolved = ?, resolution = ? "
                    "WHERE target = ? AND key = ? AND resolved IS NULL",
                    (now, resolution, target, key),
                )
                closed.append(Damage._make(row))
        return closed

    def damage_history(self, target: str | None = None) -> list[dict[str, str | None]]:
        """Every finding, open or closed, oldest first: the table's rows as dicts."""
        cols = ("target", "key", "path", "sha256", "problem", "found", "found_by", "resolved", "resolution")
        where, args = ("WHERE target = ?", (target,)) if target is not None else ("", ())
        rows = self.conn.execute(f"SELECT {', '.join(cols)} FROM damaged {where} ORDER BY found, key", args)
        return [dict(zip(cols, r, strict=True)) for r in rows]
