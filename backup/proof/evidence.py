"""What an evidence bundle says: the suspect, the original it matched and its inventory record,
the ledger entries from the original's first record up to a signed checkpoint (with its
timestamp token), publications and backup copies. ``gather`` builds ``evidence.json``'s
document (format in docs/design.md, "The evidence bundle"); ``backup.proof.verify`` re-checks it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from backup.proof.store import PUBLIC_FILE, ProofStore, Stored
from inventory.ledger import publications
from inventory.timeutil import utc_now

if TYPE_CHECKING:
    from inventory.ledger.truth import LedgerIndex
    from inventory.match.find import Match, Suspect
    from inventory.store.inventory import Inventory

FORMAT = "keepmark-evidence"
VERSION = 1
PUBLIC_KEY = "proof/ledger-key.pub.pem"


def original_record(inv: Inventory, sha256: str, index: LedgerIndex) -> dict[str, Any]:
    """The matched original's record, as the bundle states it: its facts, first sighting, paths
    and stamped copies from the verified ledger entries (``index``); the camera and the hash
    parameters, which no entry states, from the inventory's tables."""
    stated = index.originals[sha256]
    shown = inv.show(sha256)
    details = shown.get("details") or {}
    camera = {k: details[f"camera_{k}"] for k in ("make", "model") if details.get(f"camera_{k}")}
    facts = {
        **stated.data,
        "sha256": sha256,
        "first_seen": stated.time,
        "hash_params": shown.get("hash_params"),
    }
    record = {
        k: facts[k]
        for k in (
            "sha256",
            "size",
            "kind",
            "format",
            "width",
            "height",
            "duration_ms",
            "capture_time",
            "first_seen",
            "phash",
            "dhash",
            "hash_params",
        )
        if facts.get(k) is not None
    }
    record["camera"] = camera or None
    record["paths"] = index.paths_of(sha256)
    record["derivatives"] = [
        {"sha256": d.data.get("sha256"), "path": d.data.get("path"), "created": d.time}
        for d in index.derivatives_of(sha256)
    ]
    record["publications"] = [
        {k: p[k] for k in ("platform", "url", "date", "copy", "seq", "recorded") if k in p}
        for p in publications.of(inv, sha256)
    ]
    return record


def _chain(inv: Inventory, first: int, last: int) -> list[dict[str, Any]]:
    return [e.as_dict() for e in inv.ledger_entries(first, last)]


def _checkpoint_doc(s: Stored) -> dict[str, Any]:
    doc: dict[str, Any] = {"checkpoint": s.checkpoint.as_dict(), "file": f"proof/{s.json.name}"}
    token, authority = s.token, s.authority
    if token is not None and authority is not None:
        from inventory.ledger import timestamp

        info = timestamp.verify(token.read_bytes(), s.checkpoint.file_bytes(), authority.read_bytes())
        doc["timestamp"] = {
            **info.as_dict(),
            "token": base64.b64encode(token.read_bytes()).decode("ascii"),
            "authority_certificate": authority.read_text(encoding="ascii"),
            "token_file": f"proof/{token.name}",
            "authority_file": f"proof/{authority.name}",
        }
    else:
        doc["timestamp"] = "pending" if s.pending else None
    return doc


def backups_of(held: dict[str, list[str]], chain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets holding the content (``held``: the backup catalog's keys per target) and the
    snapshots the ledger records on each since the content was first recorded."""
    out = []
    for target, keys in sorted(held.items()):
        snaps = [
            {
                "id": e["data"]["snapshot"],
                "kind": e["data"].get("kind"),
                "recorded": e["time"],
                "seq": e["seq"],
            }
            for e in chain
            if e["type"] == "snapshot" and e["data"].get("target") == target
        ]
        out.append({"target": target, "keys": keys, "snapshots": snaps})
    return out


def _current_id(public: Any) -> list[str]:
    from inventory.ledger.checkpoint import key_id, load_public

    return [key_id(load_public(public.read_bytes()))] if public.exists() else []


class Owner(NamedTuple):
    """Whose evidence this is: the profile and its account, and where its backups hold a content
    (``holding(sha256)``: the catalog's keys per target)."""

    profile: str
    name: str
    handle: str
    holding: Callable[[str], dict[str, list[str]]]


def gather(
    owner: Owner,
    inv: Inventory,
    suspect: Suspect,
    match: Match,
    *,
    url: str | None,
    store: ProofStore,
    suspect_copy: str,
    index: LedgerIndex,
) -> dict[str, Any]:
    """The evidence document for a match. The caller has just made a checkpoint, so the newest
    checkpoint covers every entry named here, and verified the ledger into ``index`` (the rows
    about this original agree with it)."""
    from backup import __version__

    original = original_record(inv, match.sha256, index)
    recording = inv.ledger_entries_for(match.sha256)
    first = min((e.seq for e in recording if e.type == "original"), default=recording[0].seq)
    kept = store.stored()
    covering = [s for s in kept if s.checkpoint.entries >= first]
    chosen: list[Stored] = []
    if covering:
        chosen = [covering[0]] if covering[0] is covering[-1] else [covering[0], covering[-1]]
    head = chosen[-1].checkpoint.entries if chosen else max(e.seq for e in recording)
    chain = _chain(inv, first, head)
    public = store.folder / PUBLIC_FILE
    earlier = {s.checkpoint.key_id for s in chosen} - {key_id for key_id in _current_id(public)}
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": utc_now(),
        "keepmark": __version__,
        "profile": owner.profile,
        "account": {"name": owner.name, "handle": owner.handle},
        "suspect": {
            "file": os.path.basename(suspect.path),
            "path": suspect.path,
            "sha256": suspect.sha256,
            "size": os.path.getsize(suspect.path),
            "kind": suspect.kind,
            "hashes": suspect.hashes,
            "url": url,
            "copy": suspect_copy,
        },
        "match": match.as_dict(),
        "original": original,
        "ledger": {"first": first, "entries": chain},
        "public_key": public.read_text(encoding="ascii") if public.exists() else None,
        "earlier_keys": [
            (store.folder / f"ledger-key.{k}.pub.pem").read_text(encoding="ascii") for k in sorted(earlier)
        ],
        "checkpoints": [_checkpoint_doc(s) for s in chosen],
        "backups": backups_of(owner.holding(match.sha256), chain),
    }
