"""Progress bars (rich) on a terminal; nothing at all otherwise."""

from __future__ import annotations

import sys
from typing import Any


class ScanBar:
    """A ``inventory.Progress`` that draws files, bytes, rate and time left on stderr."""

    def __init__(self, label: str = "Scanning") -> None:
        self.label = label
        self._progress: Any = None
        self._task: Any = None

    def begin(self, files: int, total_bytes: int) -> None:
        if files == 0:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[done]}/{task.fields[files]} files"),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=total_bytes, files=files, done=0)
        self._files = files
        self._done = 0

    def advance(self, path: str, nbytes: int) -> None:
        if self._progress is not None:
            self._done += 1
            self._progress.update(self._task, advance=nbytes, done=self._done)

    def end(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def scan_bar(enabled: bool) -> ScanBar | None:
    """A bar when asked for and stderr is a terminal."""
    return ScanBar() if enabled and sys.stderr.isatty() else None
