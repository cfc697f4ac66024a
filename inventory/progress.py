"""Progress and cancellation: the one protocol that every long job reports through.

A job (a scan, a stamp, a backup run, a verify, a restore) is given a ``Progress``. It says what
it does as events, each a small frozen value:

- ``Started(stage, files, total, unit)``: a stage begins, with how many files and how much work
  (``unit`` says in what: ``"bytes"``, ``"seconds"`` of video, or ``"files"``); ``target`` names
  the backup target a stage works on, ``path`` the one file a stage is about (a video's encode);
- ``Advanced(stage, amount, path)``: that much more of the total is done;

The stages are named by what they do: ``scan``, ``stamp``, ``video`` (one video's encode),
``upload``, ``verify``, ``restore``, ``prune``. People see labels made from them, in their
language, by whoever draws the events.
- ``FileDone(stage, path)``: one file is through the stage;
- ``Failed(stage, path, error)``: one file failed (the batch goes on);
- ``Finished(stage)``: the stage ended (also after a failure or a cancel).

Whoever started the job listens: the CLI draws rich bars from the events, the daemon logs them,
a browser receives them as they come (``as_dict``). Listeners are called on the job's threads and
must be quick.

Cancelling is the other direction: a ``CancelToken`` handed to the job is looked at every time
the job emits an event, so long work ends within a file (or a chunk) of ``cancel()``. The job
then raises ``Cancelled``, a ``BaseException`` so that no ``except Exception`` in the library
takes it for one file's failure; what was finished stays finished, and a re-run picks up the
rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Started:
    stage: str
    files: int
    total: float = 0.0
    unit: str = "bytes"
    target: str | None = None  # the backup target the stage works on
    path: str | None = None  # the one file a stage is about (a video's encode)


@dataclass(frozen=True)
class Advanced:
    stage: str
    amount: float
    path: str | None = None


@dataclass(frozen=True)
class FileDone:
    stage: str
    path: str


@dataclass(frozen=True)
class Failed:
    stage: str
    path: str
    error: str


@dataclass(frozen=True)
class Finished:
    stage: str


Event = Started | Advanced | FileDone | Failed | Finished
Listener = Callable[[Event], None]


def as_dict(event: Event) -> dict[str, Any]:
    """An event as a JSON-ready document: its fields and ``event`` (its kind, in snake case)."""
    kinds = {Started: "started", Advanced: "advanced", FileDone: "file_done", Failed: "failed"}
    return {"event": kinds.get(type(event), "finished"), **asdict(event)}


class Cancelled(BaseException):
    """The job was asked to stop; what it finished stays finished."""


class CancelToken:
    """Set once, from any thread (a signal handler, a browser's cancel button, the daemon's stop)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early when cancelled; True if cancelled."""
        return self._event.wait(seconds)

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled


class Progress:
    """What a job is given: where its events go, and the token that may cancel it.

    ``Progress()`` listens to nothing and is never cancelled. Every emitting method first looks
    at the token, so a job needs no other place to notice a cancel.
    """

    def __init__(self, *listeners: Listener, cancel: CancelToken | None = None) -> None:
        self.listeners: tuple[Listener, ...] = listeners
        self.cancel = cancel if cancel is not None else CancelToken()

    def emit(self, event: Event) -> None:
        self.cancel.check()
        for listener in self.listeners:
            listener(event)

    def check(self) -> None:
        """Raise ``Cancelled`` if the job was asked to stop."""
        self.cancel.check()

    def started(
        self,
        stage: str,
        files: int,
        total: float = 0.0,
        unit: str = "bytes",
        *,
        target: str | None = None,
        path: str | None = None,
    ) -> None:
        self.emit(Started(stage, files, total, unit, target, path))

    def advanced(self, stage: str, amount: float, path: str | None = None) -> None:
        self.emit(Advanced(stage, amount, path))

    def file_done(self, stage: str, path: str) -> None:
        self.emit(FileDone(stage, path))

    def failed(self, stage: str, path: str, error: str) -> None:
        self.emit(Failed(stage, path, error))

    def finished(self, stage: str) -> None:
        """The stage ended. Not cancellable: a stage that ends always says so."""
        for listener in self.listeners:
            listener(Finished(stage))

    def stage(self, stage: str) -> Callable[[int], None]:
        """A callable that reports ``n`` more bytes (or seconds) of ``stage`` done: for code
        that takes a plain progress callback (a target's upload, an ffmpeg pass)."""
        return lambda amount: self.advanced(stage, amount)

    def with_listener(self, *more: Listener) -> Progress:
        """The same token, with more listeners."""
        return Progress(*self.listeners, *more, cancel=self.cancel)


def collect(events: Iterable[Event], kind: type[Any]) -> list[Any]:
    """The events of one kind, in order (for tests and summaries)."""
    return [e for e in events if isinstance(e, kind)]
