"""A file is ready once its write has finished.

- Where the platform reports close-write (Linux, inotify; ``closes``): a file that was closed
  after writing is ready after a short quiet spell. Once writes were seen (the file was created
  and then written to, or it changed between two looks) and no close-write followed, it waits
  for one: a writer that pauses longer than the settle time (a slow copy, an export) does not
  hand on a half-written file. A file left open and unchanged for ``open_wait`` seconds is
  taken all the same (a close-write that never comes: a lost event, a writer that never ends).
- Otherwise: once its size and modification time have stayed the same for the profile's settle
  time.

``hold(path, delay)`` keeps a file back for ``delay`` seconds and then hands it on again (the
daemon's backoff for a photo or video that does not decode yet); news about it ends the hold.
Notices come in from the watcher's thread; a thread of its own checks the pending files and
hands the ready ones on, in batches.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

CLOSE_QUIET = 0.25  # seconds without news after a close-write before a file counts as written
TICK = 0.1
OPEN_WAIT = 300.0  # seconds a file written and never closed must stay unchanged (see the docstring)


@dataclass
class _Pending:
    last_event: float
    closed: bool = False
    sig: tuple[int, int] | None = None
    stable_since: float = 0.0
    created: bool = False  # a created event and no close-write since
    written: bool = False  # writes seen and no close-write since (where closes are reported)


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
        closes: bool = False,
        open_wait: float = OPEN_WAIT,
    ) -> None:
        self.settle = settle_seconds
        self.closes = closes  # the watcher reports close-write (set by the daemon once it knows)
        self.open_wait = open_wait
        self.quiet = min(CLOSE_QUIET, settle_seconds)
        self.on_ready = on_ready
        self.expand = expand
        self.clock = clock
        self._pending: dict[str, _Pending] = {}
        self._folders: list[str] = []
        self._held: dict[str, float] = {}  # path -> when to hand it on again
        self.last_news = clock()  # when the last notice came in (the daemon's idle state reads it)
        self._lock = threading.Lock()
        self._handing = False  # ready files taken from _pending and not yet handed on
        self._news = threading.Event()  # set by every notice: an idle settler sleeps until then
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- from the watcher's thread ----------------------------------------------------------

    def touch(
        self, path: str, *, closed: bool = False, created: bool = False, modified: bool = False
    ) -> None:
        """News about ``path``: ``closed``, a close-write; ``created``, it was just created;
        ``modified``, written to (or its attributes changed: inotify does not tell them apart).
        Where closes are reported, a file created and then written to has a writer holding it
        open: it waits for the close-write."""
        now = self.clock()
        with self._lock:
            self._held.pop(path, None)
            entry = self._pending.get(path)
            if entry is None:
                entry = self._pending[path] = _Pending(now, closed)
            else:
                entry.last_event = now
                entry.closed = closed
            if closed:
                entry.created = entry.written = False
            elif created:
                entry.created = True
            elif modified and entry.created:
                entry.written = True
            self.last_news = now
        self._news.set()

    def hold(self, path: str, delay: float) -> None:
        """Hand ``path`` on again in ``delay`` seconds, unless news about it comes first."""
        with self._lock:
            if path not in self._pending:
                self._held[path] = self.clock() + delay
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
            self._held.pop(path, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._folders) + len(self._held)

    def holding(self) -> bool:
        """Whether any file is pending or held here or on its way to ``on_ready`` (the daemon's
        idle state reads this before it looks at the queue, so no file is between the two
        unseen)."""
        with self._lock:
            return bool(self._pending or self._folders or self._held or self._handing)

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
            wait = self._wait(entry)
            if now - entry.last_event < min(wait, TICK):
                continue
            try:
                st = os.stat(path)
            except OSError:
                gone.append(path)  # deleted or moved away before it settled
                continue
            sig = (st.st_size, st.st_mtime_ns)
            if sig != entry.sig:
                if entry.sig is not None and self.closes and not entry.closed:
                    entry.written = True  # it changed with no close-write: a writer has it open
                    wait = self._wait(entry)
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
                if current is not None and now - current.last_event >= self._wait(current):
                    del self._pending[path]
                    taken.append(path)
            for path, when in list(self._held.items()):
                if when <= now:
                    del self._held[path]
                    taken.append(path)
        return taken

    def _wait(self, entry: _Pending) -> float:
        """How long ``entry`` must go without news (and, unless closed, without changing)."""
        if entry.closed:
            return self.quiet
        if self.closes and entry.written:
            return max(self.open_wait, self.settle)  # the close-write is awaited
        return self.settle

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
