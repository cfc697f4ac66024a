"""Keeping the app's resident memory near what it uses now, on Linux (glibc).

The app answers in a pool of threads; glibc gives each thread a heap of its own and keeps what a
large answer freed (the first check of a big inventory reads every ledger entry), so the
process would stay as large as its largest moment. ``limit_arenas`` lets the threads share two
heaps; ``give_back`` returns the free memory to the system after a large piece of work. Both do
nothing where glibc is not the C library (macOS, Windows, musl)."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache
from typing import Any

M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


@cache
def _glibc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc has it; musl does not
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(count: int = 2) -> None:
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, count)


def give_back() -> None:
    import gc

    libc = _glibc()
    if libc is not None:
        gc.collect()  # what a large answer left in cycles is freed first
        libc.malloc_trim(0)
