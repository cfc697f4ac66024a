"""A file is ready once its write has finished: after a close-write event and a short quiet
spell where the platform reports closes (Linux), otherwise once its size and modification time
have stayed the same for the profile's settle time. Notices come in from the watcher's thread;
a thread of its own checks the pending files and hands the ready ones on, in batches."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

CLOSE_QUIET = 0.25  # seconds without news after a close-write before a file counts as written
TICK = 0.1


@dataclass
class _Pending:
    last_event: float
    closed: bool = False
    sig: tuple[int, int] | None = None
    stable_since: float = 0.0


class Settler:
    """``touch(path)`` on every change notice; ``on_ready(paths)`` is called (from the
    settler's thread) with files whose write has finished. ``start()``/``stop()`` run and
    join the thread."""

    def __init__(
        self,
        settle_seconds: float,
        on_ready: Callable[[list[str]], None],
        *,
        expand: Callable[[str], list[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settle = settle_seconds
        self.quiet = min(CLOSE_QUIET, settle_seconds)
        self.on_ready = on_ready
        self.expand = expand
        self.clock = clock
        self._pending: dict[str, _Pending] = {}
        self._folders: list[str] = []
        self.last_news = clock()  # when the last notice came in (the daemon's idle state reads it)
        self._lock = threading.Lock()
        self._handing = False  # ready files taken from _pending and not yet handed on
        self._news = threading.Event()  # set by every notice: an idle settler sleeps until then
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- from the watcher's thread ----------------------------------------------------------

    def touch(self, path: str, *, closed: bool = False) -> None:
        now = self.clock()
        with self._lock:
            entry = self._pending.get(path)
            if entry is None:
                self._pending[path] = _Pending(now, closed)
            else:
                entry.last_event = now
                entry.closed = closed
            self.last_news = now
        self._news.set()

    def touch_folder(self, path: str) -> None:
        """A folder arrived (moved or copied in): its files are looked at by the settler."""
        with self._lock:
            self._folders.append(path)
            self.last_news = self.clock()
        self._news.set()

    def forget(self, path: str) -> None:
        with self._lock:
            self._pending.pop(path, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._folders)

    def holding(self) -> bool:
        """Whether any file is pending here or on its way to ``on_ready`` (the daemon's idle
        state reads this before it looks at the queue, so no file is between the two unseen)."""
        with self._lock:
            return bool(self._pending or self._folders or self._handing)

    # -- the settler's thread ---------------------------------------------------------------

    def check(self) -> list[str]:
        """One look at every pending file; the ones now ready (and forgotten here)."""
        with self._lock:
            folders, self._folders = self._folders, []
        if folders and self.expand is not None:
            for folder in folders:
                for path in self.expand(folder):
                    self.touch(path)
        now = self.clock()
        with self._lock:
            items = list(self._pending.items())
        ready: list[str] = []
        gone: list[str] = []
        for path, entry in items:
            wait = self.quiet if entry.closed else self.settle
            if now - entry.last_event < min(wait, TICK):
                continue
            try:
                st = os.stat(path)
            except OSError:
                gone.append(path)  # deleted or moved away before it settled
                continue
            sig = (st.st_size, st.st_mtime_ns)
            if sig != entry.sig:
                entry.sig, entry.stable_since = sig, now
                if not entry.closed or now - entry.last_event < wait:
                    continue
            if now - entry.last_event >= wait and (entry.closed or now - entry.stable_since >= wait):
                ready.append(path)
        taken: list[str] = []
        with self._lock:
            for path in gone:
                self._pending.pop(path, None)
            for path in ready:
                current = self._pending.get(path)
                # News that came in while this look was under way waits for the next one.
                if current is not None and now - current.last_event >= (
                    self.quiet if current.closed else self.settle
                ):
                    del self._pending[path]
                    taken.append(path)
        return taken

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="keepmark-settle", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            if not len(self):
                self._news.wait()  # nothing pending: no polling until a notice comes in
                self._news.clear()
                continue
            with self._lock:
                self._handing = True
            try:
                ready = self.check()
                if ready:
                    self.on_ready(sorted(ready))
            finally:
                with self._lock:
                    self._handing = False

    def stop(self) -> None:
        self._stop.set()
        self._news.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
