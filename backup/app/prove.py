"""``backup prove``: find the original behind a suspect copy and, if asked, write the evidence
bundle; ``backup prove --verify``: re-check a bundle offline."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backup.app.workspace import open_inventory, proof_store
from backup.errors import UsageError
from backup.home import state_dir
from backup.profile.model import Profile
from backup.proof import evidence
from backup.proof.bundle import ProveResult, check_out, write_bundle, zip_path
from backup.proof.lang import pick
from backup.proof.verify import BundleReport
from backup.proof.verify import verify_bundle as check_bundle
from backup.runs.catalog import Catalog, catalog_path
from inventory.ledger.publications import BadPublication, check_url
from inventory.ledger.truth import LedgerIndex, RecordsDisagree
from inventory.match.find import find_original
from inventory.store.inventory import Inventory


@dataclass
class Proved:
    profile: str
    result: ProveResult

    @property
    def ok(self) -> bool:
        return self.result.match is not None

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, **self.result.as_dict()}


def prove(
    profile: Profile,
    file: str,
    *,
    out: Path | None = None,
    url: str | None = None,
    lang: str | None = None,
    zipped: bool = False,
) -> Proved:
    """Match ``file`` against the profile's inventory; with ``out``, write the evidence bundle
    there (only when there is a match), after signing a checkpoint that covers what it states.
    ``zipped``: write it as one zip, ``out`` (``.zip`` added when missing). ``lang``: the
    language of report.html, notice.txt and of VERIFY.txt's first section (``en``, ``zh``;
    None: the profile's)."""
    language = pick(lang, profile.account.language)
    if zipped and out is None:
        raise UsageError("--zip needs --out: where to write the zip")
    if out is not None and zipped:
        out = zip_path(out)
    if url is not None:
        try:
            url = check_url(url)
        except BadPublication as exc:
            raise UsageError(str(exc)) from exc
    if out is not None:
        check_out(out, zipped=zipped)
    with open_inventory(profile, create=False) as inv:
        suspect, match = find_original(inv, file)
        result = ProveResult(suspect, match)
        if match is None:
            return Proved(profile.name, result)
        index = verified_records(inv, match.sha256)
        if out is None:
            return Proved(profile.name, result)
        store = proof_store(profile)
        store.checkpoint(inv)  # the newest checkpoint covers everything the bundle states
        ext = Path(file).suffix.lower()[:12]
        doc = evidence.gather(
            owner(profile),
            inv,
            suspect,
            match,
            url=url,
            store=store,
            suspect_copy=f"suspect{ext}",
            index=index,
        )
        original_file = next((p for p in doc["original"]["paths"] if os.path.isfile(p)), None)
    contact = {
        "email": profile.proof.contact_email,
        "phone": profile.proof.contact_phone,
        "address": profile.proof.contact_address,
    }
    result.bundle, result.evidence = write_bundle(
        out, doc, store, suspect.path, original_file, contact, lang=language, zipped=zipped
    )
    return Proved(profile.name, result)


def verified_records(inv: Inventory, sha256: str) -> LedgerIndex:
    """The ledger, verified and indexed: what a proof states comes from its entries. Refuses
    (``RecordsDisagree``, exit 2, one line naming the row) when the chain does not verify or a
    row about this content (its content row, sightings, paths, stamped copies) disagrees with
    the entry that recorded it: a table edited outside the ledger."""
    chain, index = inv.verify_and_index()
    if not chain.ok:
        raise RecordsDisagree(
            f"not stating anything from this inventory: its ledger does not verify ({chain.problem}); "
            "run `backup ledger verify`"
        )
    found = inv.records_disagree(index, sha256)
    if found is not None:
        raise RecordsDisagree(
            f"not stating anything from this inventory: {found.line()}; run `backup ledger verify`", found
        )
    return index


def owner(profile: Profile) -> evidence.Owner:
    """The profile's account, and where its backups hold a content (the backup catalog)."""

    def holding(sha256: str) -> dict[str, list[str]]:
        path = catalog_path(state_dir(profile.name))
        if not path.exists():
            return {}
        with Catalog(path) as catalog:
            return catalog.holding(sha256)

    return evidence.Owner(profile.name, profile.account.name, profile.account.handle, holding)


def verify_bundle(path: Path) -> BundleReport:
    """Re-check an evidence bundle offline: every file's SHA-256, the signatures, the ledger
    entries against the signed checkpoints (audit paths to their Merkle roots, or the chain to
    a version 1 checkpoint's head), the timestamp tokens. ``path``: the bundle's folder, its
    evidence.json, or a zip written by ``--zip`` (checked unzipped in a temporary folder)."""
    return check_bundle(path)
