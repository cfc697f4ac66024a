"""The daemon's state on disk: the tables of ``<state>/daemon.sqlite`` (schema and meaning
in docs/design.md, "daemon.sqlite"; ``backup.daemon.store`` opens it for the daemon).

- ``queue``: files whose write has finished and that are not through the pipeline yet.
- ``runs``: the scheduled (and real-time) backup runs the daemon started; a row without
  ``finished`` is a run that was interrupted.
- ``meta``: when the daemon first ran for this profile, the last health grade, ...
- ``retries``: real-time backups that failed, per file and target, tried again with backoff.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from inventory.store.db import Database, connect_state

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    path     TEXT PRIMARY KEY,
    added    TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error    TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id       INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL,
    reason   TEXT NOT NULL,
    started  TEXT NOT NULL,
    finished TEXT,
    result   TEXT,
    detail   TEXT
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS retries (
    path     TEXT NOT NULL,
    target   TEXT NOT NULL,
    since    TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error    TEXT NOT NULL,
    next_try TEXT NOT NULL,
    PRIMARY KEY (path, target)
);
"""


class QueueStore(Database):
    """The daemon's tables. Shared by the daemon's threads: one connection, one lock around
    each use. ``max_attempts``: how often a file may fail before it is left in the queue as
    stuck."""

    def __init__(self, path: Path, *, max_attempts: int) -> None:
        self._lock = threading.RLock()
        super().__init__(connect_state(path, SCHEMA, "the daemon's state", synchronous="FULL"))
        self.path = path
        self.max_attempts = max_attempts

    def __enter__(self) -> QueueStore:
        return self

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, super().transaction() as c:
            yield c

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self.conn.execute(sql, args).fetchall()

    # -- queue ------------------------------------------------------------------------------

    def enqueue(self, paths: Iterable[str], now: datetime) -> None:
        rows = [(p, now.isoformat()) for p in paths]
        if rows:
            with self.transaction() as c:
                c.executemany(
                    "INSERT INTO queue (path, added) VALUES (?, ?) ON CONFLICT (path) DO NOTHING", rows
                )

    def take(self, limit: int) -> list[str]:
        rows = self._rows(
            "SELECT path FROM queue WHERE attempts < ? ORDER BY added, path LIMIT ?",
            (self.max_attempts, limit),
        )
        return [r[0] for r in rows]

    def done(self, paths: Sequence[str]) -> None:
        if paths:
            with self.transaction() as c:
                c.executemany("DELETE FROM queue WHERE path = ?", [(p,) for p in paths])

    def failed(self, path: str, error: str) -> None:
        with self.transaction() as c:
            c.execute("UPDATE queue SET attempts = attempts + 1, error = ? WHERE path = ?", (error, path))

    def queue_length(self) -> int:
        return int(self._rows("SELECT count(*) FROM queue WHERE attempts < ?", (self.max_attempts,))[0][0])

    def queued_at(self, path: str) -> str | None:
        """When ``path`` was put in the queue (as stored: ISO time with offset), if it is there."""
        rows = self._rows("SELECT added FROM queue WHERE path = ?", (path,))
        return str(rows[0][0]) if rows else None

    def stuck(self) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT path, attempts, error FROM queue WHERE attempts >= ? ORDER BY path", (self.max_attempts,)
        )
        return [{"path": p, "attempts": a, "error": e} for p, a, e in rows]

    # -- real-time backups that wait -------------------------------------------------------

    def backup_failed(
        self,
        target: str,
        paths: Sequence[str],
        error: str,
        now: datetime,
        next_try: Callable[[int], datetime],
    ) -> None:
        """These files did not reach ``target``: one more attempt counted for each, tried again
        at ``next_try(attempts)``."""
        with self.transaction() as c:
            for path in paths:
                row = c.execute(
                    "SELECT attempts FROM retries WHERE path = ? AND target = ?", (path, target)
                ).fetchone()
                attempts = (int(row[0]) if row else 0) + 1
                c.execute(
                    "INSERT INTO retries (path, target, since, attempts, error, next_try) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (path, target) DO UPDATE SET "
                    "attempts = excluded.attempts, error = excluded.error, next_try = excluded.next_try",
                    (path, target, now.isoformat(), attempts, error, next_try(attempts).isoformat()),
                )

    def backup_sent(self, target: str, paths: Sequence[str] | None = None) -> None:
        """These files (every file, ``None``) are on ``target`` now: they wait no more."""
        with self.transaction() as c:
            if paths is None:
                c.execute("DELETE FROM retries WHERE target = ?", (target,))
            else:
                c.executemany(
                    "DELETE FROM retries WHERE path = ? AND target = ?", [(p, target) for p in paths]
                )

    def retry_now(self, target: str, now: datetime) -> None:
        """Try ``target``'s waiting files at once (it is back)."""
        with self.transaction() as c:
            c.execute("UPDATE retries SET next_try = ? WHERE target = ?", (now.isoformat(), target))

    def waiting_for(self, target: str) -> list[str]:
        """The files waiting for ``target``, in path order."""
        return [
            r[0] for r in self._rows("SELECT path FROM retries WHERE target = ? ORDER BY path", (target,))
        ]

    def retry_times(self) -> dict[str, datetime]:
        """For each target with files waiting, when the soonest of them is tried again."""
        rows = self._rows("SELECT target, min(next_try) FROM retries GROUP BY target ORDER BY target")
        return {t: datetime.fromisoformat(n) for t, n in rows}

    def backups_waiting(self) -> list[dict[str, Any]]:
        """Every file waiting for a target: path, target, since, attempts, error, next_try."""
        keys = ("path", "target", "since", "attempts", "error", "next_try")
        rows = self._rows(f"SELECT {', '.join(keys)} FROM retries ORDER BY path, target")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # -- runs -------------------------------------------------------------------------------

    def run_started(self, kind: str, reason: str, now: datetime) -> int:
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO runs (kind, reason, started) VALUES (?, ?, ?)", (kind, reason, now.isoformat())
            )
            return int(cur.lastrowid or 0)

    def run_finished(self, run_id: int, result: str, now: datetime, detail: Any = None) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE runs SET finished = ?, result = ?, detail = ? WHERE id = ?",
                (
                    now.isoformat(),
                    result,
                    None if detail is None else json.dumps(detail, default=str),
                    run_id,
                ),
            )

    def interrupted(self, now: datetime) -> list[str]:
        """Runs that never finished (the daemon was stopped or killed): marked ``interrupted``;
        their kinds, to be run again at once."""
        rows = self._rows("SELECT id, kind FROM runs WHERE finished IS NULL")
        for run_id, _ in rows:
            self.run_finished(run_id, "interrupted", now)
        return sorted({kind for _, kind in rows})

    def last_run(self, kind: str, results: Sequence[str] | None = None) -> dict[str, Any] | None:
        sql = "SELECT kind, reason, started, finished, result, detail FROM runs WHERE kind = ?"
        args: list[Any] = [kind]
        if results is not None:
            sql += f" AND result IN ({', '.join('?' for _ in results)})"
            args += list(results)
        found = self._rows(sql + " ORDER BY id DESC LIMIT 1", args)
        if not found:
            return None
        row = found[0]
        keys = ("kind", "reason", "started", "finished", "result", "detail")
        out = dict(zip(keys, row, strict=True))
        out["detail"] = json.loads(out["detail"]) if out["detail"] else None
        return out

    # -- meta -------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def created(self, now: datetime) -> datetime:
        """When the daemon first ran for this profile (set now if it never has)."""
        value = self.meta("created")
        if value is None:
            self.set_meta("created", now.isoformat())
            return now
        return datetime.fromisoformat(value)
