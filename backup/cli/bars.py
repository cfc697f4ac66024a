"""Progress bars (rich) on a terminal, drawn from the progress events every job emits
(``inventory.progress``); nothing at all when stderr is not a terminal."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inventory.progress import Advanced, Event, FileDone, Finished, Progress, Started

LABELS = {
    "scan": "Scanning",
    "stamp": "Stamping",
    "upload": "{target}: backing up",
    "verify": "{target}: verifying",
    "restore": "{target}: restoring",
    "import": "Importing publications",
    "prune": "{target}: pruning",
}


def progress(enabled: bool) -> Progress:
    """A ``Progress`` that draws bars when asked for and stderr is a terminal; otherwise one
    that draws nothing."""
    return Progress(Bars()) if enabled and sys.stderr.isatty() else Progress()


def label(event: Started) -> str:
    if event.stage == "video" and event.path:
        return f"  {Path(event.path).name}"
    return LABELS.get(event.stage, event.stage).format(target=event.target or "")


def _started(*middle: Any) -> Any:
    """A started rich bar on stderr: description, bar, ``middle`` columns, time left."""
    from rich.console import Console
    from rich.progress import BarColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        *middle,
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    bar.start()
    return bar


@dataclass
class _Bar:
    rich: Any  # a started rich Progress
    task: Any
    counts_files: bool = False  # the bar's total is a number of files
    nested: bool = False  # a line inside another stage's bar (a video being encoded)
    done: int = 0


class Bars:
    """A listener: one bar per running stage (files, bytes, rate and time left; or files done,
    for stamping), and under the stamping bar one line for the video being encoded."""

    def __init__(self) -> None:
        self._bars: dict[str, _Bar] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started):
            self._start(event)
            return
        bar = self._bars.get(event.stage)
        if bar is None:
            return
        if isinstance(event, Advanced):
            bar.rich.update(bar.task, advance=event.amount)
        elif isinstance(event, FileDone):
            bar.done += 1
            if bar.counts_files:
                bar.rich.update(bar.task, advance=1)
            elif not bar.nested:
                bar.rich.update(bar.task, done=bar.done)
        elif isinstance(event, Finished):
            self._stop(event.stage)

    def _start(self, event: Started) -> None:
        self._stop(event.stage)
        outer = self._bars.get("stamp")
        if event.stage == "video" and outer is not None:
            task = outer.rich.add_task(label(event), total=max(event.total, 0.001))
            self._bars["video"] = _Bar(outer.rich, task, nested=True)
            return
        if event.files == 0:
            return
        if event.unit == "files":
            from rich.progress import MofNCompleteColumn

            rich = _started(MofNCompleteColumn())
            task = rich.add_task(label(event), total=max(event.files, 1))
        elif event.unit == "seconds":
            rich = _started()
            task = rich.add_task(label(event), total=max(event.total, 0.001))
        else:
            from rich.progress import DownloadColumn, TextColumn, TransferSpeedColumn

            rich = _started(
                TextColumn("{task.fields[done]}/{task.fields[files]} files"),
                DownloadColumn(),
                TransferSpeedColumn(),
            )
            task = rich.add_task(label(event), total=max(event.total, 1), files=event.files, done=0)
        self._bars[event.stage] = _Bar(rich, task, counts_files=event.unit == "files")

    def _stop(self, stage: str) -> None:
        bar = self._bars.pop(stage, None)
        if bar is None:
            return
        if bar.nested:
            bar.rich.remove_task(bar.task)
        else:
            if stage == "stamp":
                self._bars.pop("video", None)
            bar.rich.stop()
