"""Work the app starts (a backup now, a verify now) and what open pages are told.

A job runs a use case in a thread with a ``Progress`` whose listener turns every event (the ones
the CLI draws its bars from) into a message; its cancel button sets the job's ``CancelToken``.
The ``Hub`` keeps the newest messages with a sequence number; each open page's event stream
(``/api/events``) sends what came after the last one it sent. The hub also follows the daemon:
its state (running, busy, queue) and each new line of its log, for the activity feed.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from inventory.progress import (
    Advanced,
    Cancelled,
    CancelToken,
    Event,
    FileDone,
    Finished,
    Progress,
    Started,
    as_dict,
)

KEPT = 500  # messages kept for pages that connect or reconnect
ADVANCE_EVERY = 0.2  # seconds between progress messages of one job (the bars are redrawn that often)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Hub:
    """The newest messages, numbered; safe from any thread."""

    def __init__(self) -> None:
        self._messages: deque[dict[str, Any]] = deque(maxlen=KEPT)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def publish(self, kind: str, data: dict[str, Any], profile: str | None = None) -> None:
        with self._lock:
            self._messages.append({"id": next(self._seq), "kind": kind, "profile": profile, "data": data})

    def since(self, seq: int, profile: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                m
                for m in self._messages
                if m["id"] > seq and (m["profile"] is None or profile is None or m["profile"] == profile)
            ]

    def last_id(self) -> int:
        with self._lock:
            return self._messages[-1]["id"] if self._messages else 0


@dataclass
class Job:
    id: int
    kind: str
    profile: str
    started: str = field(default_factory=_now)
    state: str = "running"  # running, done, failed, cancelled
    stage: str | None = None
    done: float = 0.0
    total: float = 0.0
    unit: str = "bytes"
    files_done: int = 0
    files: int = 0
    failed: int = 0
    error: str | None = None
    result: dict[str, Any] | None = None
    cancel: CancelToken = field(default_factory=CancelToken, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "profile": self.profile,
            "started": self.started,
            "state": self.state,
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "unit": self.unit,
            "files_done": self.files_done,
            "files": self.files,
            "failed": self.failed,
            "error": self.error,
            "result": self.result,
        }


class Jobs:
    """The jobs of this app, newest last; each in its own thread."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, kind: str, profile: str, work: Callable[[Progress], Any]) -> Job:
        """Run ``work(progress)`` in a thread; its result's ``as_dict()`` is kept."""
        with self._lock:
            job = Job(next(self._ids), kind, profile)
            self._jobs[job.id] = job
        listener = _Listener(job, self.hub)
        progress = Progress(listener, cancel=job.cancel)

        def run() -> None:
            try:
                result = work(progress)
                job.result = result.as_dict() if hasattr(result, "as_dict") else None
                job.state = "done"
            except Cancelled:
                job.state = "cancelled"
            except Exception as exc:  # reported on the page, as the CLI reports it in one line
                job.state, job.error = "failed", str(exc) or type(exc).__name__
            self.hub.publish("job", job.as_dict(), profile)

        self.hub.publish("job", job.as_dict(), profile)
        threading.Thread(target=run, name=f"keepmark-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def listed(self, profile: str | None = None) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if profile is None or j.profile == profile]

    def running(self) -> list[Job]:
        return [j for j in self.listed() if j.state == "running"]

    def cancel_all(self) -> None:
        for job in self.running():
            job.cancel.cancel()


class _Listener:
    """A job's progress events into its state, and into messages (advances at most every
    ``ADVANCE_EVERY`` seconds)."""

    def __init__(self, job: Job, hub: Hub) -> None:
        self.job, self.hub = job, hub
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        job = self.job
        if isinstance(event, Started):
            job.stage, job.files, job.files_done = event.stage, event.files, 0
            job.total, job.done, job.unit = event.total, 0.0, event.unit
        elif isinstance(event, Advanced):
            job.done += event.amount
            now = time.monotonic()
            if now - self._last < ADVANCE_EVERY:
                return
            self._last = now
        elif isinstance(event, Finished):
            pass
        elif isinstance(event, FileDone):
            job.files_done += 1
            now = time.monotonic()
            if now - self._last < ADVANCE_EVERY:
                return
            self._last = now
        else:  # Failed
            job.failed += 1
            self.hub.publish("activity", {"time": _now(), **as_dict(event)}, job.profile)
        self.hub.publish("job", job.as_dict(), job.profile)


def _activity(line: str) -> dict[str, Any]:
    """One line of the daemon's ``activity.jsonl`` as the feed's message: ``line`` as the log
    writes it, and the message's ``words`` and ``facts`` for the page's language."""
    try:
        record = json.loads(line)
        said = f"{record['time']} {record['level']} {record['line']}"
    except (ValueError, TypeError, KeyError):
        return {"event": "daemon", "line": line}
    return {"event": "daemon", "line": said, "words": record.get("words"), "facts": record.get("facts") or []}


class DaemonFollower:
    """Follows one profile's daemon for the hub: its state when it changes, and each new line of
    its log. ``poll()`` is called by the event streams, at most every ``every`` seconds in all."""

    def __init__(self, hub: Hub, profile: str, log: Path, read_state: Callable[[], dict[str, Any]]) -> None:
        self.hub, self.profile = hub, profile
        self.log = log  # the daemon's log as JSON lines (backup.app.status.activity_log)
        self.read_state = read_state
        self._state: dict[str, Any] | None = None
        self._offset: int | None = None
        self._lock = threading.Lock()
        self._polled = 0.0

    def poll(self, every: float = 0.25) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._polled < every:
                return
            self._polled = now
            state = self.read_state()
            if state != self._state:
                self._state = state
                self.hub.publish("daemon", state, self.profile)
            for line in self._new_lines():
                self.hub.publish("activity", _activity(line), self.profile)

    def _new_lines(self) -> list[str]:
        try:
            size = self.log.stat().st_size
        except OSError:
            self._offset = 0
            return []
        if self._offset is None or size < self._offset:  # first look, or the log was rotated
            self._offset = size if self._offset is None else 0
            if self._offset == size:
                return []
        with open(self.log, "rb") as f:
            f.seek(self._offset)
            data = f.read(size - self._offset)
        end = data.rfind(b"\n") + 1  # a line still being written waits for its end
        self._offset += end
        return [line for line in data[:end].decode("utf-8", "replace").splitlines() if line.strip()]
