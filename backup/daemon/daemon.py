"""The daemon itself: one per profile (a lock), a handful of threads, each started here and
stopped and joined here.

- the watcher's observer threads (watchdog): filter events, hand them to the settler;
- the settler: files whose write has finished go into the persisted queue; a photo or video
  that does not decode yet is held there and handed on again with backoff;
- the worker: first the reconciliation (everything that arrived while the daemon was not
  running), then the queue, in batches, through the pipeline, and the real-time backups that
  failed, tried again when due or when their target is back (``retry.py``);
- the scheduler: the weekly and monthly runs when due, one at a time (the run lock), and a
  health check after each;
- the timestamper: every ``TIMESTAMP_RETRY`` seconds, checkpoints whose trusted timestamp
  could not be had (the laptop was offline) are sent again, when the jobs can send them
  (``TimestampJobs``); an authority still out of reach only leaves them waiting.

``stop()`` (SIGTERM, Ctrl-C) ends long work at the next file (what is in hand stays in the
queue or is found again by the next start's reconciliation) and joins every thread.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from backup.daemon.clock import Clock
from backup.daemon.jobs import GRADES, DaemonSettings, Jobs, TimestampJobs
from backup.daemon.notify import notify
from backup.daemon.power import on_battery
from backup.daemon.retry import Retries
from backup.daemon.schedule import due_runs
from backup.daemon.settle import Settler
from backup.daemon.store import DAEMON_LOCK, DaemonStore, daemon_db_path
from backup.daemon.watcher import Watcher
from backup.errors import KeepmarkError, UsageError
from backup.proof.store import PROOF_DIR, has_pending
from backup.runs.lock import Busy, hold_lock
from inventory.progress import Cancelled, CancelToken, Progress

log = logging.getLogger("keepmark.daemon")

BATCH = 500  # files per pass through the pipeline
SCHEDULE_TICK = 15.0  # seconds between looks at the schedule (a wake from sleep is seen then)
BUSY_RETRY = 5.0  # seconds before work that found the run lock taken is tried again
REWATCH = 30.0  # seconds between looks for source folders that were missing (drive not connected)
TIMESTAMP_RETRY = 600.0  # seconds between sends of waiting timestamp requests (offline laptop)
SIGNAL_SLICE = 0.25  # seconds the main thread waits at a time, so that a signal is handled at once
# The daemon counts as idle once nothing has come in or been done for this long (plus the poll
# interval when polling): the events its own writes cause have reached the settler by then.
IDLE_QUIET = 0.5
# A photo or video that does not decode yet is looked at again after HOLD_FIRST seconds (or the
# settle time, if longer), then after twice as long each time, at most HOLD_MOST apart, and a
# last time when [watch] decode_wait_seconds have passed since it last changed.
HOLD_FIRST = 1.0
HOLD_MOST = 60.0


def _walk_files(folder: str) -> list[str]:
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(folder):
        out.extend(os.path.join(dirpath, f) for f in files)
    return out


class Daemon:
    def __init__(
        self,
        settings: DaemonSettings,
        jobs: Jobs,
        *,
        clock: Clock | None = None,
        schedule_tick: float = SCHEDULE_TICK,
        rewatch: float = REWATCH,
        timestamp_retry: float = TIMESTAMP_RETRY,
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.clock = clock or Clock()
        self.schedule_tick = schedule_tick
        self.rewatch = rewatch
        self.timestamp_retry = timestamp_retry
        self.timestamps_sent = 0  # checkpoints the timestamper had timestamped
        self.stopping = threading.Event()
        self.cancel = CancelToken()  # long work in hand ends at the next file once stopping
        self.stop_check = Progress(cancel=self.cancel)
        self._wake = threading.Event()
        self._reconciled = threading.Event()  # scheduled runs wait for it: no file is read twice
        self.folder = settings.state_dir
        self.store: DaemonStore | None = None
        self.retries: Retries | None = None  # real-time backups that failed, tried again
        self.filter = settings.filter
        self.settler = Settler(
            settings.watch.settle_seconds,
            self._settled,
            expand=lambda d: [p for p in _walk_files(d) if self.filter.wanted(p)],
            open_wait=max(settings.watch.decode_wait_seconds, settings.watch.settle_seconds),
        )
        self._holds: dict[str, int] = {}  # path -> how often it was held (for the backoff)
        self.threads: list[threading.Thread] = []
        self.watcher: Watcher | None = None
        self.unwatched: list[str] = []
        self.error: str | None = None  # why the daemon stopped by itself, if it did
        self.counts = {"files": 0, "stamped": 0, "failed": 0, "backed_up": 0}
        self.runs: list[dict[str, Any]] = []
        self.queue_left = 0
        # An observable idle state (tests wait for it instead of sleeping): daemon.sqlite's meta
        # says state = "idle" while the settler holds nothing, the queue is empty, the worker
        # waits and no scheduled run is due, "busy" otherwise; batches = the worker's passes
        # through the pipeline since the daemon started.
        self._busy = {"worker": True, "schedule": True}
        self._state: str | None = None
        self._state_lock = threading.Lock()
        self.batches = 0
        self._last_work = 0.0  # monotonic time the worker's last pass ended

    def summary(self) -> dict[str, Any]:
        """What this daemon did while it ran."""
        return {**self.counts, "runs": self.runs, "queue": self.queue_left, "error": self.error}

    # -- lifecycle --------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the daemon to stop (safe from a signal handler)."""
        self.cancel.cancel()
        self.stopping.set()
        self._wake.set()

    def run(self) -> None:
        """Run until ``stop()``. Raises ``Busy`` if a daemon already runs for the profile."""
        with (
            hold_lock(
                self.folder / DAEMON_LOCK,
                f"a daemon (backup watch) already runs for profile {self.settings.name!r}",
            ),
            DaemonStore(daemon_db_path(self.folder)) as store,
        ):
            self.store = store
            self.retries = Retries(store, self.jobs, self.clock)
            now = self.clock.now()
            store.created(now)
            self._mark("worker", busy=True)  # busy until the reconciliation is through
            for kind in store.interrupted(now):
                log.info("the last %s run was interrupted: it runs again now", kind)
            roots = [f for f in self.settings.folders if os.path.isdir(f)]
            self.unwatched = [f for f in self.settings.folders if f not in roots]
            for f in self.unwatched:
                log.warning("%s: source folder not found (is its drive connected?); watched once it is", f)
            watcher = self.watcher = self._watcher(roots)
            self.settler.closes = watcher.closes
            mode = (
                f"polling every {self.settings.watch.poll_interval:g} s"
                if watcher.polling
                else "native events"
            )
            self.settler.start()
            self._spawn("keepmark-worker", self._work)
            self._spawn("keepmark-schedule", self._schedule)
            if isinstance(self.jobs, TimestampJobs):
                self._spawn("keepmark-timestamps", self._timestamps)
            log.info(
                "watching %s for profile %s (%s, settle %.1f s); pid %d",
                ", ".join(roots) or "nothing",
                self.settings.name,
                mode,
                self.settings.watch.settle_seconds,
                os.getpid(),
            )
            try:
                # In slices: a signal the kernel hands to another thread only runs its Python
                # handler once the main thread is back in the interpreter, which an untimed wait
                # never is (and Windows delivers Ctrl-C to no untimed wait at all).
                while not self.stopping.wait(SIGNAL_SLICE):
                    pass
            finally:
                self.stopping.set()
                self._wake.set()
                watcher.stop()
                self.settler.stop()
                for t in self.threads:
                    t.join()
                self.threads.clear()
                self.store = None
            self.queue_left = store.queue_length()
            log.info("stopped; %d files wait in the queue", self.queue_left)

    def _watcher(self, roots: list[str]) -> Watcher:
        """Native events, or polling when asked or when native events cannot be had (the
        system's limit of inotify watches reached, say)."""
        watch = self.settings.watch
        for polling in (watch.polling, True):
            try:
                watcher = Watcher(
                    roots,
                    self.filter,
                    self.settler,
                    polling=polling,
                    interval=watch.poll_interval,
                    follow_symlinks=self.settings.follow_symlinks,
                )
                watcher.start()
                return watcher
            except OSError as exc:
                if polling:
                    raise UsageError(f"cannot watch {', '.join(roots)}: {exc.strerror or exc}") from exc
                log.warning(
                    "native file events unavailable (%s): polling every %g s instead",
                    exc.strerror or exc,
                    watch.poll_interval,
                )
        raise AssertionError("unreachable")

    def _spawn(self, name: str, target: Any) -> None:
        t = threading.Thread(target=self._guarded, args=(target,), name=name, daemon=True)
        self.threads.append(t)
        t.start()

    def _guarded(self, target: Any) -> None:
        try:
            target()
        except Cancelled:
            pass
        except BaseException as exc:
            log.exception("internal error; the daemon stops")
            self.error = f"{type(exc).__name__}: {exc}"
            self.stop()

    # -- settled files into the queue -------------------------------------------------------

    def _settled(self, paths: list[str]) -> None:
        assert self.store is not None
        try:
            self.store.enqueue(paths, self.clock.now())
        except Exception:  # the next start's reconciliation finds these files
            log.exception("could not queue %d files", len(paths))
        self._wake.set()

    # -- the worker -------------------------------------------------------------------------

    def _work(self) -> None:
        assert self.store is not None
        store = self.store
        log.info("reconciliation: looking for what arrived while the daemon was not running")
        try:
            self._run_pipeline(None)
        finally:
            self._reconciled.set()
        log.info("reconciliation done")
        last_look = self.clock.monotonic()
        while not self.stopping.is_set():
            if self.unwatched and self.clock.monotonic() - last_look >= self.rewatch:
                last_look = self.clock.monotonic()
                self._rewatch()
            if self._retry():
                continue
            held = self.settler.holding()  # before the queue: a file handed on between is queued
            paths = store.take(BATCH)
            if not paths:
                quiet_in = 0.0 if held else self._quiet_in()
                self._mark("worker", busy=held or quiet_in > 0)
                self._wake.wait(quiet_in or 1.0)  # a file handed on wakes the worker at once
                self._wake.clear()
                continue
            keep = self._run_pipeline(paths)
            store.done([p for p in paths if p not in keep])
            if keep:
                self.stopping.wait(BUSY_RETRY)

    def _retry(self) -> bool:
        """Real-time backups that wait: tried again when due, or when their target is back.
        Whether any was tried."""
        assert self.retries is not None
        targets = self.retries.due()
        if not targets:
            return False
        self._mark("worker", busy=True)
        try:
            self.counts["backed_up"] += self.retries.run(targets)
        finally:
            self._last_work = self.clock.monotonic()
        return True

    def _rewatch(self) -> None:
        """Watch source folders that have appeared (a drive connected), and reconcile them."""
        assert self.watcher is not None
        added = 0
        for folder in [f for f in self.unwatched if os.path.isdir(f)]:
            try:
                self.watcher.add(folder)
            except OSError as exc:
                log.warning("%s: cannot watch it yet (%s)", folder, exc.strerror or exc)
                continue
            self.unwatched.remove(folder)
            added += 1
            log.info("%s: source folder found; watched from now on", folder)
        if added:
            self._run_pipeline(None)

    def _run_pipeline(self, paths: list[str] | None) -> set[str]:
        """One pass; the paths that stay in the queue: all of them when the pass failed (an
        attempt is counted), or those whose real-time backup must wait for the run lock."""
        assert self.store is not None
        self._mark("worker", busy=True)
        try:
            result = self.jobs.process(
                paths, self.stop_check, settle_ns=int(self.settings.watch.settle_seconds * 1e9)
            )
        except Cancelled:
            raise
        except Exception as exc:  # the daemon goes on: the files stay queued, an attempt counted
            if isinstance(exc, (KeepmarkError, OSError)):
                log.error("%s", exc)
            else:
                log.exception("unexpected error in the pipeline")
            for p in paths or ():
                self.store.failed(p, str(exc))
            return set(paths or ())
        finally:  # for the idle state: one more pass, and work was done just now
            self.batches += 1
            self._last_work = self.clock.monotonic()
        self.counts["files"] += len(paths or ())
        self.counts["stamped"] += len(result.stamped)
        self.counts["failed"] += len(result.failed)
        self.counts["backed_up"] += sum(t["files"] for t in result.backed_up)
        for item in result.stamped:
            log.info("stamped %s -> %s", item["source"], item["output"])
        for item in result.failed:
            log.error("%s: %s", item["source"], item["error"])
        assert self.retries is not None
        self.retries.note(result.deliveries)
        for t in result.backed_up:
            if t["files"]:  # (what failed is logged by the retries, with when it is tried again)
                log.info("real-time backup: %d files to %s", t["files"], t["name"])
        if paths is not None:
            log.info("%d files through the pipeline", len(paths))
        for path in result.unsettled:
            self.settler.touch(path)  # found still being written: queued once its write ends
        self._hold(paths, result.held)
        if result.waiting:
            log.info("real-time backup of %d files waits for the run in progress", len(result.waiting))
        return set(result.waiting)

    def _hold(self, paths: list[str] | None, held: dict[str, float]) -> None:
        """Photos and videos that do not decode yet: looked at again with backoff."""
        for path in paths or ():
            if path not in held:
                self._holds.pop(path, None)
        for path, left in sorted(held.items()):
            tries = self._holds.get(path, 0)
            self._holds[path] = tries + 1
            first = max(HOLD_FIRST, self.settings.watch.settle_seconds)
            delay = min(first * 2.0 ** min(tries, 16), HOLD_MOST, left + 0.05)
            log.info(
                "%s does not decode yet (still being written?): looked at again in %.1f s, "
                "recorded as undecodable if it still does not decode in %.0f s",
                path,
                delay,
                left,
            )
            self.settler.hold(path, delay)

    # -- the timestamper --------------------------------------------------------------------

    def _timestamps(self) -> None:
        """Send waiting timestamp requests every ``timestamp_retry`` seconds (a look at file
        names first: nothing waits, nothing is sent). Every scan of the worker sends them too."""
        assert isinstance(self.jobs, TimestampJobs)
        proof = self.folder / PROOF_DIR
        while not self.stopping.wait(self.timestamp_retry):
            if not has_pending(proof):
                continue
            try:
                sent, pending, errors = self.jobs.send_timestamps()
            except (KeepmarkError, OSError) as exc:
                log.warning("timestamps: %s", exc)
                continue
            self.timestamps_sent += len(sent)
            if sent:
                log.info("trusted timestamps for checkpoint(s) %s", ", ".join(map(str, sent)))
            if pending:
                log.info(
                    "%d checkpoint(s) still wait for a trusted timestamp (%s); tried again in %.0f s",
                    len(pending),
                    "; ".join(errors) or "not sent",
                    self.timestamp_retry,
                )

    # -- the idle state ---------------------------------------------------------------------

    def _quiet_in(self) -> float:
        """Seconds until nothing will have come in or been done for IDLE_QUIET (plus a poll
        interval when polling); 0 once that is so."""
        polling = self.watcher is not None and self.watcher.polling
        quiet = IDLE_QUIET + (self.settings.watch.poll_interval if polling else 0.0)
        since = self.clock.monotonic() - max(self.settler.last_news, self._last_work)
        return max(0.0, quiet - since)

    def _mark(self, part: str, *, busy: bool) -> None:
        """Note that the worker or the scheduler is busy or waiting; the meta follows changes."""
        with self._state_lock:
            self._busy[part] = busy
            state = "busy" if any(self._busy.values()) else "idle"
            if state != self._state and self.store is not None:
                if state == "idle":
                    self.store.set_meta("batches", str(self.batches))
                self.store.set_meta("state", state)
                self._state = state

    # -- the scheduler ----------------------------------------------------------------------

    def _schedule(self) -> None:
        if not self.settings.has_targets:
            log.warning("profile %s has no targets: no scheduled backups", self.settings.name)
            self._mark("schedule", busy=False)
            return
        power_noted = False
        while not self._reconciled.wait(0.5):
            if self.stopping.is_set():
                return
        while not self.stopping.is_set():
            todo = self.due_now()
            if todo is not None and not self.settings.schedule.on_battery and on_battery():
                if not power_noted:
                    log.info("the %s run waits for mains power ([schedule] on_battery = false)", todo[0])
                    self._set_meta("waiting", f"{todo[0]} run waits for mains power")
                    power_noted = True
            elif todo is not None:
                if power_noted:
                    self._set_meta("waiting", "")
                    power_noted = False
                self._mark("schedule", busy=True)
                self.run_scheduled(*todo)
                continue
            self._mark("schedule", busy=False)  # nothing due now (or it waits for mains power)
            self.stopping.wait(self.schedule_tick)

    def _set_meta(self, key: str, value: str) -> None:
        assert self.store is not None
        self.store.set_meta(key, value)

    def due_now(self) -> tuple[str, str] | None:
        assert self.store is not None
        done = self.jobs.served() if self.clock.real else None
        for d in due_runs(self.settings.schedule, self.store, self.clock.now(), done).values():
            if d is not None:
                return d.kind, d.reason
        return None

    def run_scheduled(self, kind: str, reason: str) -> None:
        assert self.store is not None
        store = self.store
        run_id = store.run_started(kind, reason, self.clock.now())
        log.info("%s run starts (%s)", kind, reason)
        try:
            report = self.jobs.backup(kind, self.stop_check)
        except Busy as exc:
            store.run_finished(run_id, "busy", self.clock.now(), {"error": str(exc)})
            log.info("%s run postponed: %s", kind, exc)
            self.stopping.wait(60)
            return
        except Cancelled:
            log.info("%s run interrupted by shutdown: it runs again on the next start", kind)
            raise
        except Exception as exc:  # a failed run is reported and tried again later
            if not isinstance(exc, (KeepmarkError, OSError)):
                log.exception("unexpected error in the %s run", kind)
            store.run_finished(run_id, "failed", self.clock.now(), {"error": str(exc)})
            self.runs.append({"kind": kind, "reason": reason, "result": "failed"})
            self._notify("Keepmark: backup failed", f"{self.settings.name}: the {kind} run failed: {exc}")
            return
        statuses = [t.status for t in report.targets]
        if report.ok:
            result = "ok"
        elif statuses and all(s == "failed" for s in statuses):
            result = "failed"
        else:
            result = "partial"
        store.run_finished(run_id, result, self.clock.now(), report.as_dict()["targets"])
        for t in report.targets:
            if t.status == "ok" and self.retries is not None:
                self.retries.reached(t.name)  # it took every file the target lacked
        self.runs.append({"kind": kind, "reason": reason, "result": result})
        for t in report.targets:
            log.info(
                "%s run, %s: %s, %d files uploaded, snapshot %s", kind, t.name, t.status, t.files, t.snapshot
            )
        if result != "ok":
            bad = ", ".join(f"{t.name} ({t.error or t.status})" for t in report.targets if t.status != "ok")
            self._notify(
                "Keepmark: backup failed",
                f"{self.settings.name}: the {kind} run did not finish on {bad or 'every target'}",
            )
        self.after_run()

    def _notify(self, title: str, message: str) -> None:
        if self.settings.watch.notify:
            notify(title, message)
        else:
            log.warning("%s: %s", title, message)

    def after_run(self) -> None:
        """A health check after each run: a worse grade than last time is announced."""
        assert self.store is not None
        try:
            grade, first = self.jobs.health()
        except (KeepmarkError, OSError) as exc:
            log.error("health check failed: %s", exc)
            return
        before = self.store.meta("grade")
        self.store.set_meta("grade", grade)
        if before in GRADES and grade in GRADES and GRADES.index(grade) > GRADES.index(before):
            self._notify("Keepmark: health check", f"{self.settings.name} is now {grade}: {first}")
