"""The watcher: watchdog observers over the source folders, with a handler that only filters
events and hands them to the settler (no stat, no reading, no database in the observer's
thread). Native events (inotify, FSEvents, ReadDirectoryChangesW), or polling for network
drives where native events do not arrive."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from backup.daemon.filters import PathFilter
from backup.daemon.settle import Settler

# Opening and reading a file (as the scanner does) is not news: only these events are asked for.
EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirMovedEvent,
]


def _text(path: bytes | str) -> str:
    return os.fsdecode(path)


class Handler(FileSystemEventHandler):
    def __init__(self, wanted: PathFilter, settler: Settler) -> None:
        self.wanted = wanted
        self.settler = settler

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            if event.event_type in ("created", "moved"):
                folder = _text(event.dest_path or event.src_path)
                if self.wanted.root_of(folder) is not None:
                    self.settler.touch_folder(folder)
            return
        if event.event_type == "moved":
            self.settler.forget(_text(event.src_path))
            path = _text(event.dest_path)  # a rename into place ("Save as", AirDrop, imports)
            self.settler.forget(path)  # whatever was written there before is replaced, whole
        else:
            path = _text(event.src_path)
        if event.event_type == "deleted":
            self.settler.forget(path)
        elif self.wanted.wanted(path):
            kind = event.event_type
            self.settler.touch(
                path, closed=kind == "closed", created=kind == "created", modified=kind == "modified"
            )


def reports_closes(observer: Any) -> bool:
    """Whether ``observer`` reports close-write (inotify, on Linux)."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # not Linux
        return False
    return isinstance(observer, InotifyObserver)


def make_observer(polling: bool, interval: float) -> Any:
    if polling:
        from watchdog.observers.polling import PollingObserver

        return PollingObserver(timeout=interval)
    from watchdog.observers import Observer

    return Observer()


class Watcher:
    """Observes ``folders`` (recursively) until ``stop()``, which joins the observer's threads."""

    def __init__(
        self,
        folders: Sequence[str],
        wanted: PathFilter,
        settler: Settler,
        *,
        polling: bool = False,
        interval: float = 10.0,
        follow_symlinks: bool = False,
    ) -> None:
        self.polling = polling
        self.follow_symlinks = follow_symlinks
        self.observer = make_observer(polling, interval)
        self.closes = reports_closes(self.observer)  # the settler awaits close-write once writes are seen
        self.handler = Handler(wanted, settler)
        for folder in folders:
            self.add(folder)

    def add(self, folder: str) -> None:
        """Watch one more folder (a source folder whose drive was connected later)."""
        self.observer.schedule(
            self.handler, folder, recursive=True, event_filter=EVENTS, follow_symlink=self.follow_symlinks
        )

    def start(self) -> None:
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join()
