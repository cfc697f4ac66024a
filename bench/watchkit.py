"""Shared by the daemon benchmarks: a profile in a private Keepmark home, ``backup watch`` as a
subprocess, and questions put to the inventory and the daemon's queue (through their stores)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class State:
    """A profile's inventory and daemon queue as the daemon writes them, through their stores:
    each opened once its file exists, then asked as often as a benchmark polls."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._inventory: Any = None
        self._queue: Any = None

    def inventory(self) -> Any:
        """The ``Inventory``, or None while the daemon has not created it."""
        from inventory import Inventory

        db = self.folder / "inventory.sqlite"
        if self._inventory is None and db.exists():
            self._inventory = Inventory.open(db, create=False)
        return self._inventory

    def queue(self) -> Any:
        """The daemon's ``DaemonStore``, or None while the daemon has not created it."""
        from backup.daemon.store import DaemonStore, daemon_db_path

        db = daemon_db_path(self.folder)
        if self._queue is None and db.exists():
            self._queue = DaemonStore(db)
        return self._queue

    def close(self) -> None:
        for store in (self._inventory, self._queue):
            if store is not None:
                store.close()
        self._inventory = self._queue = None


def wait_for(what: Callable[[], Any], timeout: float, message: str, poll: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(poll)
    raise SystemExit(f"bench: timed out after {timeout:.0f} s waiting for {message}")


class Watch:
    """``backup watch -p bench`` with its log in ``log``; started once its log says it watches
    (and, with ``settled=True``, once its reconciliation is done)."""

    def __init__(self, cli: list[str], env: dict[str, str], log: Path, *, settled: bool = True) -> None:
        self.log = log
        self._err = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*cli, "watch", "-p", "bench"], env=env, stdout=subprocess.DEVNULL, stderr=self._err
        )
        marker = b"reconciliation done" if settled else b"watching "
        wait_for(lambda: marker in log.read_bytes() or self.proc.poll() is not None, 600, "the daemon")
        if self.proc.poll() is not None:
            raise SystemExit(f"bench: backup watch failed: {log.read_text()[-1000:]}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._err.close()
        if code != 0:
            raise SystemExit(f"bench: backup watch exited {code}: {self.log.read_text()[-1000:]}")


def bench_env(home: Path) -> dict[str, str]:
    return {**os.environ, "KEEPMARK_HOME": str(home)}


def fresh_profile(cli: list[str], home: Path, source: Path) -> dict[str, str]:
    """An empty ``source`` folder and a new Keepmark ``home`` with the profile ``bench`` over it;
    the environment that uses that home."""
    from common import init_profile

    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    env = bench_env(home)
    init_profile(cli, env, source)
    return env
