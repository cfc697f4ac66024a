"""Progress bars (rich) on a terminal; nothing at all otherwise."""

from __future__ import annotations

import sys
from typing import Any


def _started(*middle: Any) -> Any:
    """A started rich bar on stderr: description, bar, ``middle`` columns, time left."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        *middle,
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    bar.start()
    return bar


def scan_bar(enabled: bool) -> ScanBar | None:
    """A bar when asked for and stderr is a terminal."""
    return ScanBar() if enabled and sys.stderr.isatty() else None


class StampBar:
    """Files done and, for a video, its own bar with the time remaining."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._files: Any = None
        self._video: Any = None
        self._video_path: Any = None

    def begin(self, files: int) -> None:
        if files == 0:
            return
        from rich.progress import MofNCompleteColumn

        self._progress = _started(MofNCompleteColumn())
        self._files = self._progress.add_task("Stamping", total=files)

    def file_done(self, path: Any) -> None:
        if self._progress is not None:
            self._progress.update(self._files, advance=1)
            if self._video is not None:
                self._progress.remove_task(self._video)
                self._video = None

    def video(self, path: Any, done: float, total: float) -> None:
        if self._progress is None:
            return
        if self._video is None or path != self._video_path:
            self._video = self._progress.add_task(f"  {getattr(path, 'name', path)}", total=max(total, 0.001))
            self._video_path = path
        self._progress.update(self._video, completed=done, total=max(total, 0.001))

    def end(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def stamp_bar(enabled: bool) -> StampBar | None:
    return StampBar() if enabled and sys.stderr.isatty() else None


class RunBar:
    """A ``RunProgress`` for backup runs, verify and restore: one bar per phase with files,
    bytes, rate and time left, on stderr."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._task: Any = None
        self._done = 0

    def begin(self, label: str, files: int, total_bytes: int) -> None:
        self.end()
        if files == 0:
            return
        from rich.progress import DownloadColumn, TextColumn, TransferSpeedColumn

        self._progress = _started(
            TextColumn("{task.fields[done]}/{task.fields[files]} files"),
            DownloadColumn(),
            TransferSpeedColumn(),
        )
        self._done = 0
        self._task = self._progress.add_task(label, total=max(total_bytes, 1), files=files, done=0)

    def advance(self, nbytes: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=nbytes)

    def file_done(self) -> None:
        if self._progress is not None:
            self._done += 1
            self._progress.update(self._task, done=self._done)

    def end(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class ScanBar:
    """A ``inventory.Progress`` that draws files, bytes, rate and time left on stderr."""

    def __init__(self, label: str = "Scanning") -> None:
        self.label = label
        self._bar = RunBar()

    def begin(self, files: int, total_bytes: int) -> None:
        self._bar.begin(self.label, files, total_bytes)

    def advance(self, path: str, nbytes: int) -> None:
        self._bar.advance(nbytes)
        self._bar.file_done()

    def end(self) -> None:
        self._bar.end()


def run_bar(enabled: bool) -> RunBar | None:
    return RunBar() if enabled and sys.stderr.isatty() else None
