"""``backup ledger verify`` and ``backup ledger checkpoint``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backup.app.workspace import open_inventory, proof_store
from backup.errors import NothingFound
from backup.profile.model import Profile
from backup.proof.store import CheckpointResult
from inventory.ledger.chain import VerifyReport


@dataclass
class LedgerVerdict:
    """The ledger's chain recomputed, and every signed checkpoint checked against it."""

    profile: str
    chain: VerifyReport
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            **self.chain.as_dict(),
            "ok": self.ok,
            "checkpoints": self.checkpoints,
            "problems": self.problems,
        }


def verify(profile: Profile) -> LedgerVerdict:
    """Recompute the hash chain from the first entry, then check every signed checkpoint: its
    signature, that the ledger still holds the head it signed, and its timestamp token."""
    with open_inventory(profile, create=False) as inv:
        chain = inv.verify_ledger()
        checkpoints, problems = proof_store(profile).verify(inv)
    return LedgerVerdict(profile.name, chain, checkpoints, problems)


@dataclass
class Checkpointed:
    """The newest checkpoint (signed now, or already covering the head) and the timestamp
    requests sent or still waiting."""

    profile: str
    result: CheckpointResult

    @property
    def ok(self) -> bool:
        return not self.result.timestamps.pending

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, **self.result.as_dict()}


def checkpoint(profile: Profile) -> Checkpointed:
    """Sign the ledger's head unless the newest checkpoint covers it; send waiting timestamp
    requests. ``NothingFound`` when the ledger is empty."""
    with open_inventory(profile, create=False) as inv:
        result = proof_store(profile).checkpoint(inv)
    if result.checkpoint is None:
        raise NothingFound("the ledger is empty: nothing to sign yet (run `backup inventory scan` first)")
    return Checkpointed(profile.name, result)
