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
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

WORKERS_ENV = "KEEPMARK_WORKERS"

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """One worker per CPU this process may use; ``$KEEPMARK_WORKERS`` overrides it."""
    env = os.environ.get(WORKERS_ENV, "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined,unused-ignore]
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


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
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    pending: dict[Future[R], T] = {}
    try:
        limit = workers * ahead
        for item in items:
            pending[pool.submit(work, item)] = item
            while len(pending) >= limit:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield pending.pop(fut), fut.result()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield pending.pop(fut), fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
