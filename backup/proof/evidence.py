"""What an evidence bundle says: the suspect, the original it matched and its inventory record,
the original's own ledger entries, each with its Merkle audit path to a signed checkpoint (with
its timestamp token), publications and backup copies. ``gather`` builds ``evidence.json``'s
document (format in docs/design.md, "The evidence bundle"); ``backup.proof.verify`` re-checks it.

No other file's entry is in the bundle: a version 2 checkpoint signs a Merkle root over every
entry hash, and each entry carried comes with its audit path. Only when a checkpoint the bundle
needs is a version 1 one (signed before checkpoints had a root) does the bundle carry, as
version 1 bundles did, the chain of entries from the original's record to that checkpoint.
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
    from inventory.ledger.chain import Entry
    from inventory.ledger.truth import LedgerIndex
    from inventory.match.find import Match, Suspect
    from inventory.store.inventory import Inventory

FORMAT = "keepmark-evidence"
VERSION = 2  # 2: the original's entries with Merkle audit paths; 1: the chain of entries
VERSIONS = (1, 2)
PUBLIC_KEY = "proof/ledger-key.pub.pem"
ENTRIES = "proof/entries"
CHAIN = "proof/chain"


def entry_file(seq: int, folder: str = ENTRIES) -> str:
    """The bundle file holding the exact text entry ``seq``'s hash is the SHA-256 of."""
    return f"{folder}/entry-{seq:08d}.txt"


def path_file(seq: int, checkpoint: int) -> str:
    """The bundle file holding entry ``seq``'s audit path to checkpoint ``checkpoint``'s root:
    one line per step, ``L <hex>`` or ``R <hex>``."""
    return f"{ENTRIES}/entry-{seq:08d}.in-{checkpoint:08d}.path"


def path_text(path: list[list[str]]) -> str:
    return "".join(f"{side} {sibling}\n" for side, sibling in path)


def signed_file(checkpoint_file: str) -> str:
    """Beside ``proof/checkpoint-N.json``: ``.signed`` (the exact bytes signed), ``.sig``."""
    return checkpoint_file.removesuffix(".json") + ".signed"


def sig_file(checkpoint_file: str) -> str:
    return checkpoint_file.removesuffix(".json") + ".sig"


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


def _snapshots(
    inv: Inventory, targets: list[str], first: int, last: int
) -> tuple[list[Entry], dict[str, int]]:
    """The first and the newest ``snapshot`` entry of each target in entries ``first``..``last``,
    and how many each target has there."""
    kept: dict[int, Entry] = {}
    counts: dict[str, int] = {}
    recorded = [e for e in inv.ledger_entries_typed("snapshot") if first <= e.seq <= last] if targets else []
    for target in targets:
        mine = [e for e in recorded if e.data.get("target") == target]
        counts[target] = len(mine)
        for e in mine[:1] + mine[-1:]:
            kept[e.seq] = e
    return [kept[k] for k in sorted(kept)], counts


def _proofs(inv: Inventory, chosen: list[Stored], carried: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each carried entry's audit path to the root of each chosen version 2 checkpoint that
    covers it. Refuses (``ProofError``) when the ledger does not give a checkpoint's root."""
    from backup.proof.store import ProofError
    from inventory.ledger import checkpoint as cpmod
    from inventory.ledger import merkle

    proofs: list[dict[str, Any]] = []
    for s in chosen:
        cp = s.checkpoint
        if cp.root is None:
            continue
        try:
            tree = merkle.Tree(cpmod.ledger_hashes(inv, cp.entries, cp.head))
        except cpmod.CheckpointError as exc:
            raise ProofError(f"not signing: checkpoint {cp.entries}: {exc}") from exc
        if tree.root() != cp.root:
            raise ProofError(
                f"not signing: checkpoint {cp.entries}: its Merkle root is not the ledger's ({s.json})"
            )
        for e in carried:
            if e["seq"] <= cp.entries:
                path = [[side, sibling] for side, sibling in tree.path(e["seq"])]
                proofs.append({"entry": e["seq"], "checkpoint": cp.entries, "path": path})
    return proofs


def _checkpoint_doc(s: Stored) -> dict[str, Any]:
    file = f"proof/{s.json.name}"
    doc: dict[str, Any] = {
        "checkpoint": s.checkpoint.as_dict(),
        "file": file,
        "signed_file": signed_file(file),
        "signature_file": sig_file(file),
    }
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


def backups_of(
    held: dict[str, list[str]], chain: list[dict[str, Any]], counts: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """The targets holding the content (``held``: the backup catalog's keys per target) and the
    snapshots the ledger records on each since the content was first recorded (those among
    ``chain``; ``count``: how many the ledger has in all, from ``counts`` when given)."""
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
        count = len(snaps) if counts is None else counts.get(target, len(snaps))
        out.append({"target": target, "keys": keys, "snapshots": snaps, "count": count})
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
    held = owner.holding(match.sha256)
    snapshots, counts = _snapshots(inv, sorted(held), first, head)
    carried = sorted(
        ({e.seq: e for e in [*recording, *snapshots] if e.seq <= head}).values(), key=lambda e: e.seq
    )
    entries = [e.as_dict() for e in carried]
    # A version 1 checkpoint has no root: as version 1 bundles did, carry the chain up to it.
    legacy = [s.checkpoint.entries for s in chosen if s.checkpoint.root is None]
    chain = _chain(inv, first, max(legacy, default=head)) if legacy or not chosen else []
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
        "ledger": {
            "first": first,
            "entries": entries,
            "proofs": _proofs(inv, chosen, entries),
            "chain": chain,
        },
        "public_key": public.read_text(encoding="ascii") if public.exists() else None,
        "earlier_keys": [
            (store.folder / f"ledger-key.{k}.pub.pem").read_text(encoding="ascii") for k in sorted(earlier)
        ],
        "checkpoints": [_checkpoint_doc(s) for s in chosen],
        "backups": backups_of(held, entries, counts),
    }
