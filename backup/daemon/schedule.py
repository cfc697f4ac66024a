"""When the scheduled runs are due, in the creator's local time.

The rules (docs/design.md, "Schedules"):
- a kind of run is due when its most recent slot has passed and no run of it (a full run
  counts as an incremental) started at or after that slot finished well;
- slots missed while the computer was off or asleep give one run soon after the daemon starts
  or the computer wakes, not one per missed slot (as anacron and Kopia's run-missed do);
- a profile that never had a full run gets one at once; the first incremental waits for its
  first slot after the daemon first ran;
- a run that failed is tried again an hour later while its slot is still unserved; one that was
  interrupted (shutdown, kill) is run again at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from backup.profile.schedule import Slot, parse_slot

RETRY_AFTER = timedelta(hours=1)
GOOD = ("ok", "partial")


def _at(day: datetime, slot: Slot) -> datetime:
    """``day``'s date at the slot's time, in the same (local) zone, DST gaps respected."""
    naive = day.replace(tzinfo=None, hour=slot.hour, minute=slot.minute, second=0, microsecond=0)
    return naive.astimezone()


def last_slot(slot: Slot, now: datetime) -> datetime | None:
    """The newest slot time at or before ``now`` (None for ``off``)."""
    if slot.every == "off":
        return None
    local = now.astimezone()
    for back in range(0, 62):
        day = local - timedelta(days=back)
        if slot.every == "weekly" and day.weekday() != slot.day:
            continue
        if slot.every == "monthly" and day.day != slot.day:
            continue
        at = _at(day, slot)
        if at <= now:
            return at
    return None


def next_slot(slot: Slot, now: datetime) -> datetime | None:
    """The first slot time after ``now`` (None for ``off``)."""
    if slot.every == "off":
        return None
    local = now.astimezone()
    for ahead in range(0, 62):
        day = local + timedelta(days=ahead)
        if slot.every == "weekly" and day.weekday() != slot.day:
            continue
        if slot.every == "monthly" and day.day != slot.day:
            continue
        at = _at(day, slot)
        if at > now:
            return at
    return None


class Due(NamedTuple):
    kind: str
    reason: str  # "new profile", "slot 2026-11-22T03:00+01:00", "interrupted", "retry"


def _when(run: dict[str, Any] | None, key: str = "started") -> datetime | None:
    return datetime.fromisoformat(run[key]) if run and run.get(key) else None


def due(
    kind: str,
    spec: str,
    now: datetime,
    *,
    created: datetime,
    last_good: dict[str, Any] | None,
    last_any: dict[str, Any] | None,
    last_full_good: dict[str, Any] | None = None,
) -> Due | None:
    """Whether a run of ``kind`` (scheduled by ``spec``) is due at ``now``, and why.
    ``last_good``: the newest run of this kind that finished ok or partial; ``last_any``: the
    newest run of this kind at all; ``last_full_good`` counts for an incremental."""
    slot = parse_slot(spec)
    if slot.every == "off":
        return None
    if last_any is not None and last_any.get("result") == "interrupted":
        return Due(kind, "interrupted")  # the newest run of this kind never finished
    served = max((t for t in (_when(last_good), _when(last_full_good)) if t is not None), default=None)
    if kind == "full" and served is None:
        if last_any is not None and last_any.get("result") == "failed":
            failed_at = _when(last_any, "finished") or _when(last_any)
            if failed_at is not None and now - failed_at < RETRY_AFTER:
                return None
            return Due(kind, "retry")
        return Due(kind, "new profile")
    recent = last_slot(slot, now)
    if recent is None or recent <= (served or created):
        return None
    if last_any is not None and last_any.get("result") == "failed":
        failed_at = _when(last_any, "finished") or _when(last_any)
        if failed_at is not None and failed_at >= recent:
            if now - failed_at < RETRY_AFTER:
                return None
            return Due(kind, "retry")
    return Due(kind, f"slot {recent.isoformat(timespec='minutes')}")


def next_due(spec: str, now: datetime, pending: bool) -> datetime | None:
    """When the next run is due: now if one is pending, else the next slot."""
    slot = parse_slot(spec)
    if slot.every == "off":
        return None
    return now if pending else next_slot(slot, now)


KINDS = ("full", "incremental")


def due_runs(
    schedule: Any, store: Any, now: datetime, served: dict[str, datetime] | None = None
) -> dict[str, Due | None]:
    """For each kind of run (full first), whether it is due at ``now``, by the profile's
    ``[schedule]`` and the runs the daemon's store (``DaemonStore``) remembers. ``served``:
    when runs made without the daemon (``backup full`` by hand, say) last reached every
    target, per kind; they serve a slot as the daemon's own runs do."""
    created = store.created(now)

    def newer(kind: str, run: dict[str, Any] | None) -> dict[str, Any] | None:
        """``run``, or the run made without the daemon if that one started later."""
        by_hand = (served or {}).get(kind)
        if by_hand is None or by_hand > now:
            return run
        mine = _when(run)
        if mine is not None and mine >= by_hand:
            return run
        return {"kind": kind, "reason": "without the daemon", "started": by_hand.isoformat(), "result": "ok"}

    last_full_good = newer("full", store.last_run("full", GOOD))
    return {
        kind: due(
            kind,
            getattr(schedule, kind),
            now,
            created=created,
            last_good=newer(kind, store.last_run(kind, GOOD)),
            last_any=newer(kind, store.last_run(kind)),
            last_full_good=last_full_good if kind == "incremental" else None,
        )
        for kind in KINDS
    }
