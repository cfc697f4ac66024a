"""``backup repair``, and what every run does with the damage found on the targets.

Damage found by ``backup verify`` or by a full run's read-back is recorded in the inventory
(the ``damaged`` table) until a copy replaces it: the next ``backup full`` replaces it, and
``backup repair`` does only that, without a scan or a snapshot. Every replacement closes its
finding and appends a ``repair`` ledger entry (which target, which copy, what was found, when
and by what, and which run replaced it), so that a repair can be audited later.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backup.app.workspace import chosen_targets, made_targets, open_inventory, sidecar, source_labels
from backup.home import state_dir
from backup.profile.model import Profile
from backup.runs.catalog import Catalog, catalog_path
from backup.runs.engine import TargetRun
from backup.runs.lock import run_lock
from backup.runs.plan import wanted_files
from backup.runs.results import TargetResult
from backup.runs.verify import VerifyResult
from backup.targets import identity
from backup.targets.base import TargetError
from inventory.progress import Progress
from inventory.store.inventory import Inventory
from inventory.store.rows import Damage

REPAIR_ENTRY = "repair"  # the ledger entry of a replaced damaged copy
REPAIR = "repair"  # the kind of run, in the catalog


class DamageBook:
    """The inventory's record of damage, as the backup runs use it (from several threads)."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self._lock = threading.Lock()

    def recorded(self, sha256: str) -> bool:
        """Whether the inventory recorded this content (an earlier content of an original, as
        opposed to a damaged copy)."""
        with self._lock:
            return self.inv.has_content(sha256)

    def known(self, target: str) -> dict[str, dict[str, str]]:
        """{key: {"path", "problem", "found_by", "found"}} of the open findings on ``target``."""
        with self._lock:
            rows = self.inv.open_damage(target)
        return {
            d.key: {"path": d.path, "problem": d.problem, "found_by": d.found_by, "found": d.found}
            for d in rows
        }

    def verified(self, result: VerifyResult) -> None:
        """Record what a verify found damaged, and close the findings of what it read intact."""
        with self._lock:
            if result.damaged:
                self.inv.note_damage(d._replace(found_by="verify") for d in result.damaged)
            open_keys = {d.key for d in self.inv.open_damage(result.name)}
            intact = [key for key in result.intact if key in open_keys]
            self.inv.resolve_damage(result.name, intact, "read back intact by verify")

    def settle(self, result: TargetResult, by: str) -> None:
        """After a run on one target: what it replaced closes its findings (found now or
        before) with a ``repair`` ledger entry each; what it found and could not replace stays
        open."""
        with self._lock:
            if result.damaged:
                self.inv.note_damage(_damage(result.name, item) for item in result.damaged)
            if not result.repaired:
                return
            self.inv.note_damage(_damage(result.name, item) for item in result.repaired)
            closed = {
                d.key: d
                for d in self.inv.resolve_damage(
                    result.name, [item["key"] for item in result.repaired], f"replaced by {by}"
                )
            }
            for item in result.repaired:
                d = closed.get(item["key"])
                self.inv.note(
                    REPAIR_ENTRY,
                    {
                        "target": result.name,
                        "key": item["key"],
                        "path": item["path"],
                        "sha256": item["sha256"],
                        "problem": d.problem if d else item["problem"],
                        "found": d.found if d else None,
                        "found_by": d.found_by if d else item.get("found_by"),
                        "by": by,
                    },
                )


def _damage(target: str, item: dict[str, str]) -> Damage:
    return Damage(
        target, item["key"], item["path"], item["sha256"], item["problem"], "", item.get("found_by", "full")
    )


@dataclass
class TargetRepair:
    """One target's repair: what was replaced, what could not be (and why)."""

    name: str
    status: str = "ok"  # ok | partial | failed
    repaired: list[dict[str, str]] = field(default_factory=list)
    left: list[dict[str, str]] = field(default_factory=list)  # path, problem, why not repaired
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "repaired": self.repaired,
            "left": self.left,
            "error": self.error,
        }


@dataclass
class Repaired:
    """``backup repair``'s result (its ``--json`` document)."""

    profile: str
    targets: list[TargetRepair] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.status == "ok" for t in self.targets)

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "ok": self.ok, "targets": [t.as_dict() for t in self.targets]}


def repair(profile: Profile, *, only: Sequence[str] = (), progress: Progress | None = None) -> Repaired:
    """Upload again, from the source folders, every copy found damaged on the chosen targets
    (``backup verify`` or a full run's read-back found it), replacing the damaged copy without
    keeping it. No scan and no snapshot: the inventory as it is says what each copy must hold;
    a file that is no longer there, or no longer holds what the inventory recorded, is left
    for the next ``backup full`` (and said so)."""
    configs = chosen_targets(profile, only)
    folder = state_dir(profile.name)
    out = Repaired(profile.name)
    with (
        run_lock(folder, "backup repair"),
        Catalog(catalog_path(folder)) as catalog,
        open_inventory(profile) as inv,
    ):
        book = DamageBook(inv)
        labels = source_labels(profile, inv=inv)
        current = {w.key: w for w in wanted_files(inv.current_files(), labels)}
        for cfg, target in made_targets(profile, configs, catalog):
            known = book.known(cfg.name)
            item = TargetRepair(cfg.name)
            out.targets.append(item)
            if not known:
                continue
            if isinstance(target, TargetError):
                item.status, item.error = "failed", str(target)
                continue
            wants = [current[k] for k in sorted(known) if k in current]
            for key in sorted(set(known) - set(current)):
                why = "no such file in the source folders now; restore it or let a full run decide"
                item.left.append({"path": known[key]["path"], "problem": known[key]["problem"], "why": why})
            run = TargetRun(
                target,
                kind=REPAIR,
                identity=identity(cfg),
                sidecar=sidecar(profile),
                catalog=catalog,
                progress=progress,
                damaged=known,
                recorded=book.recorded,
            )
            result = run.send(wants) if run.start() else run.abandon()
            book.settle(result, "backup repair")
            item.repaired = result.repaired
            failed = {f["path"]: f["error"] for f in result.failed}
            item.left += [
                {"path": d["path"], "problem": d["problem"], "why": failed.get(d["path"], "upload failed")}
                for d in result.damaged
            ]
            if result.status == "failed":
                item.status, item.error = "failed", result.error
            elif item.left:
                item.status = "partial"
    return out
