"""Helpers for daemon tests: ``backup watch`` as a real subprocess on a temporary profile, and
questions put straight to the files it writes (the inventory, the ledger, the queue)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.backupkit import write_profile

HANG = 60  # seconds without exiting after SIGTERM that count as a hang

SETTLE = 0.3  # short settle times keep the tests quick


def wait_for(what: Callable[[], Any], timeout: float = 60, message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


def daemon_profile(
    home: Path,
    sources: list[Path],
    targets: list[dict[str, Any]] | None = None,
    *,
    important: list[Path] | None = None,
    schedule: dict[str, Any] | None = None,
    watch: dict[str, Any] | None = None,
    ignore: list[str] | None = None,
) -> Path:
    path = write_profile(
        home,
        sources,
        targets or [],
        schedule=schedule or {"incremental": "off", "full": "off"},
        watch={"settle_seconds": SETTLE, **(watch or {})},
    )
    if important or ignore:
        text = path.read_text(encoding="utf-8")
        extra = ""
        if important:
            extra += "important = [" + ", ".join(f'"{p}"' for p in important) + "]\n"
        if ignore:
            extra += "ignore = [" + ", ".join(f'"{g}"' for g in ignore) + "]\n"
        path.write_text(text.replace("[sources]\n", "[sources]\n" + extra, 1), encoding="utf-8")
    return path


def scheduled_profile(home: Path, src: Path, drive: Path) -> Path:
    """A profile over ``src`` with a local target ``drive`` and the default schedule (weekly
    incremental on Sunday at 03:00, monthly full on the 1st at 04:00)."""
    drive.mkdir(parents=True, exist_ok=True)
    return daemon_profile(
        home,
        [src],
        [{"name": "drive", "type": "local", "path": str(drive)}],
        schedule={"incremental": "weekly sun 03:00", "full": "monthly 1 04:00"},
    )


class Watch:
    """``backup watch`` in a subprocess; its log and exit code."""

    def __init__(
        self,
        home: Path,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        argv: list[str] | None = None,
        python: tuple[str, ...] = ("-m", "backup"),
    ) -> None:
        """``backup watch -p lily ARGS...``, or ``backup ARGV...`` when given; ``python``: what
        the interpreter runs in place of ``-m backup`` (``-c`` and a script that calls it)."""
        self.home = home
        stem = home.parent / f"watch-{time.monotonic_ns()}"
        self.log, self.stdout = stem.with_suffix(".log"), stem.with_suffix(".out")
        self._err = open(self.log, "wb")  # noqa: SIM115 - closed when the process has ended
        self._out = open(self.stdout, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, *python, *(argv or ["watch", "-p", "lily", *args])],
            stdout=self._out,
            stderr=self._err,
            env={**os.environ, "KEEPMARK_HOME": str(home), **(env or {})},
        )
        wait_for(lambda: b"watching " in self.log.read_bytes() or self.proc.poll() is not None, 30, "start")
        assert self.proc.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def terminate(self) -> int:
        """SIGTERM; the exit code. The daemon ends long work at the next file, so it exits within
        a second or so; a minute without exiting is a hang, reported with its log."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(HANG)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no exit {HANG} s after SIGTERM:\n{self.text()[-4000:]}") from None
        self._close()
        return code

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self._close()

    def _close(self) -> None:
        self._out.close()
        self._err.close()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.kill()


def state(home: Path) -> Path:
    return home / "state" / "lily"


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []  # the schema is not there yet
    finally:
        conn.close()


def inventory(home: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return query(state(home) / "inventory.sqlite", sql, *args)


def recorded_paths(home: Path) -> set[str]:
    return {r[0] for r in inventory(home, "SELECT path FROM paths WHERE missing_since IS NULL")}


def derivative_count(home: Path) -> int:
    rows = inventory(home, "SELECT count(*) FROM derivatives")
    return int(rows[0][0]) if rows else 0


def ledger_types(home: Path) -> dict[str, int]:
    return dict(inventory(home, "SELECT type, count(*) FROM ledger GROUP BY type"))  # type: ignore[arg-type]


def queue_length(home: Path) -> int:
    rows = query(state(home) / "daemon.sqlite", "SELECT count(*) FROM queue")
    return int(rows[0][0]) if rows else 0


def daemon_state(home: Path) -> tuple[str | None, int]:
    """What the running daemon says of itself: ("idle" or "busy", passes through the pipeline
    counted when it last became idle)."""
    meta = dict(
        query(state(home) / "daemon.sqlite", "SELECT key, value FROM meta WHERE key IN ('state', 'batches')")
    )
    return meta.get("state"), int(meta.get("batches") or 0)


def wait_idle(home: Path, after: int = -1, timeout: float = 60) -> int:
    """Wait until the daemon is idle (nothing held by the settler, an empty queue, the worker
    waiting, no scheduled run due) with more than ``after`` passes made; its passes.

    The daemon says "busy" from its start, and before each pass, each scheduled run, and each
    file it holds; so "idle" read after an effect of the last pass (a stamped copy, a snapshot)
    is the state after that pass, and nothing more is under way or about to start."""

    def idle() -> tuple[int] | None:
        said, passes = daemon_state(home)
        return (passes,) if said == "idle" and passes > after else None

    (passes,) = wait_for(idle, timeout, "the daemon to be idle")
    return int(passes)


def daemon_runs(home: Path) -> list[tuple[Any, ...]]:
    return query(state(home) / "daemon.sqlite", "SELECT kind, reason, result FROM runs ORDER BY id")


def outputs(folder: Path) -> list[str]:
    """Stamped copies under their final names (temporary files of a killed write left out)."""
    if not folder.exists():
        return []
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.endswith(".keepmark-tmp")
    )
