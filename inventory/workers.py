"""The bounded worker loop every stage runs its files through (the scan's reads, the stamper's
photos, the uploads of a backup run): a pool of threads does the work, the calling thread gets
each outcome as it ends and does the bookkeeping (database writes, reports, progress), and only
a few items are in flight at a time, so memory stays flat however many files there are.

hashlib, Pillow's decoders and encoders, SQLite and ffmpeg all work outside the GIL, so threads
use every core. With one worker (``KEEPMARK_WORKERS=1``) the work runs in the calling thread,
in order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

WORKERS_ENV = "KEEPMARK_WORKERS"

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K")


def default_workers() -> int:
    """One worker per CPU this process may use; ``$KEEPMARK_WORKERS`` overrides it."""
    env = os.environ.get(WORKERS_ENV, "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined,unused-ignore]
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


class Pool(Generic[K]):
    """Threads that run work tagged with a key; the calling thread takes each finished piece
    (``finished``) as ``(key, future)`` and does the bookkeeping. Started on the first
    ``submit``; ``close`` drops what has not started and waits for what has."""

    def __init__(self, workers: int, name: str) -> None:
        self.workers = workers
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[Future[Any], K] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def submit(self, key: K, work: Callable[..., Any], *args: Any) -> None:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
        self._pending[self._pool.submit(work, *args)] = key

    def finished(self, *, block: bool) -> list[tuple[K, Future[Any]]]:
        """The pieces that have ended (waiting for at least one when ``block``, if any are in
        flight); each is returned once."""
        if not self._pending:
            return []
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(self._pending, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        return [(self._pending.pop(fut), fut) for fut in done]

    def close(self) -> None:
        """Drop the work not started, wait for the work running. Cancelled work never counts as
        finished, so it is forgotten here."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()


def bounded(
    work: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = None,
    ahead: int = 2,
    name: str = "keepmark-work",
) -> Iterator[tuple[T, R]]:
    """``(item, work(item))`` for every item, as each ends (in order with one worker), with at
    most ``workers * ahead`` items submitted and not yet taken. ``work`` should turn a file's
    failure into its result: an exception it raises ends the loop and is raised here, after the
    items not yet started are dropped. Stopping early (closing the iterator) drops them too."""
    workers = workers or default_workers()
    if workers <= 1:
        for item in items:
            yield item, work(item)
        return
    pool: Pool[T] = Pool(workers, name)
    try:
        limit = workers * ahead
        for item in items:
            pool.submit(item, work, item)
            while len(pool) >= limit:
                for done, fut in pool.finished(block=True):
                    yield done, fut.result()
        while len(pool):
            for done, fut in pool.finished(block=True):
                yield done, fut.result()
    finally:
        pool.close()
