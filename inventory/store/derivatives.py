"""Derivatives: the stamped copies made from originals (the ``derivatives`` table), each
recorded with a ``derivative`` ledger entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inventory.errors import NotFound
from inventory.store.db import Database
from inventory.store.ledger import append_entry
from inventory.timeutil import utc_now

_COLUMNS = ("sha256", "style", "path", "size", "kind", "created")


def hash_file(path: str) -> tuple[str, int]:
    """(SHA-256, size) of a file's bytes."""
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class DerivativeStore(Database):
    """The inventory's stamped copies (a part of ``Inventory``)."""

    def derivative(self, source: str, style: str, path: str) -> dict[str, Any] | None:
        """The recorded copy of ``source`` made with ``style`` at ``path``, if any:
        {"sha256", "size", "created"}."""
        row = self.conn.execute(
            "SELECT sha256, size, created FROM derivatives WHERE source = ? AND style = ? AND path = ?",
            (source, style, path),
        ).fetchone()
        return None if row is None else {"sha256": row[0], "size": row[1], "created": row[2]}

    def record_derivative(
        self,
        source: str,
        path: str,
        *,
        style: str,
        kind: str = "stamped",
        sha256: str | None = None,
        size: int | None = None,
    ) -> str:
        """Record a file made from the original ``source`` (a SHA-256 in the inventory) and
        append a ``derivative`` ledger entry. The file is hashed unless its ``sha256`` and
        ``size`` are given (the stamper knows them: it hashed the bytes it wrote)."""
        return self.record_derivatives([(source, path, style, kind, sha256, size)])[0]

    def record_derivatives(
        self, items: Sequence[tuple[str, str, str, str, str | None, int | None]]
    ) -> list[str]:
        """``record_derivative`` for many (source, path, style, kind, sha256, size), in one
        transaction."""
        prepared = []
        for source, path, style, kind, sha, size in items:
            if sha is None or size is None:
                sha, size = hash_file(path)
            prepared.append((source, path, style, kind, sha, size))
        with self.transaction() as conn:
            now = utc_now()
            for source, path, style, kind, sha, size in prepared:
                if not conn.execute("SELECT 1 FROM content WHERE sha256 = ?", (source,)).fetchone():
                    raise NotFound(f"{source}: not in the inventory; record the original first")
                conn.execute(
                    "INSERT INTO derivatives (sha256, source, style, path, size, kind, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, style, path) DO UPDATE SET "
                    "sha256 = excluded.sha256, size = excluded.size, created = excluded.created",
                    (sha, source, style, path, size, kind, now),
                )
                data = {
                    "sha256": sha,
                    "source": source,
                    "kind": kind,
                    "style": style,
                    "path": path,
                    "size": size,
                }
                append_entry(conn, "derivative", data, now)
        return [p[4] for p in prepared]

    def derivative_sources(self, style: str) -> set[str]:
        """The originals (SHA-256) that have a recorded copy made with ``style``."""
        rows = self.conn.execute("SELECT DISTINCT source FROM derivatives WHERE style = ?", (style,))
        return {str(r[0]) for r in rows}

    def move_derivative(self, source: str, style: str, old_path: str, new_path: str) -> None:
        """Record that the copy of ``source`` made with ``style`` at ``old_path`` was moved to
        ``new_path`` (its file renamed, its bytes unchanged): the row follows, and a
        ``derivative`` ledger entry names the new path with ``moved_from``. Raises ``NotFound``
        when no such copy is recorded or one is already recorded at ``new_path``."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT sha256, size, kind, created FROM derivatives"
                " WHERE source = ? AND style = ? AND path = ?",
                (source, style, old_path),
            ).fetchone()
            taken = conn.execute(
                "SELECT 1 FROM derivatives WHERE source = ? AND style = ? AND path = ?",
                (source, style, new_path),
            ).fetchone()
            if row is None or taken is not None:
                raise NotFound(f"{old_path}: no recorded copy to move to {new_path}")
            sha, size, kind, created = row
            conn.execute(
                "UPDATE derivatives SET path = ? WHERE source = ? AND style = ? AND path = ?",
                (new_path, source, style, old_path),
            )
            data = {
                "sha256": sha,
                "source": source,
                "kind": kind,
                "style": style,
                "path": new_path,
                "size": size,
                "moved_from": old_path,
                "created": created,
            }
            append_entry(conn, "derivative", data, utc_now())

    def derivatives_of(self, source: str) -> list[dict[str, Any]]:
        """Every recorded copy of the original ``source``, oldest first: {"sha256", "style",
        "path", "size", "kind", "created"}."""
        rows = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM derivatives WHERE source = ? ORDER BY created", (source,)
        )
        return [dict(zip(_COLUMNS, r, strict=True)) for r in rows]

    def derivatives_at(self, path: str) -> list[dict[str, Any]]:
        """Every recorded copy written at ``path`` (one per original and style that wrote
        there): {"sha256", "style", "path", "size", "kind", "created"}."""
        rows = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM derivatives WHERE path = ? ORDER BY created", (path,)
        )
        return [dict(zip(_COLUMNS, r, strict=True)) for r in rows]

    def derivative_by_sha(self, sha256: str) -> dict[str, Any] | None:
        """The recorded copy whose bytes have this SHA-256 (the first recorded, if several
        are), with the original it was made from: {"sha256", "source", "style", "path", "size",
        "kind", "created"}."""
        columns = ("sha256", "source", "style", "path", "size", "kind", "created")
        row = self.conn.execute(
            f"SELECT {', '.join(columns)} FROM derivatives WHERE sha256 = ? ORDER BY created, id LIMIT 1",
            (sha256,),
        ).fetchone()
        return None if row is None else dict(zip(columns, row, strict=True))

    def derivative_source(self, sha256: str) -> str | None:
        """The original a recorded copy with this SHA-256 was made from, if there is one."""
        row = self.conn.execute(
            "SELECT source FROM derivatives WHERE sha256 = ? LIMIT 1", (sha256,)
        ).fetchone()
        return None if row is None else str(row[0])

    def derivative_count(self) -> int:
        """How many copies are recorded."""
        return int(self.conn.execute("SELECT count(*) FROM derivatives").fetchone()[0])
