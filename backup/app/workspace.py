"""What a profile means to the layers below ``backup/app``: the narrow arguments each takes.

The inventory, the recorder, the stamper, the backup engine and the proof store never see a
``Profile``; a use case turns the profile into what they need here: the inventory database, the
sources to walk (and what to leave out of them), the proof store of the state folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from backup.errors import StateError, UsageError
from backup.home import inventory_path, keepmark_home, state_dir
from backup.profile.model import Profile
from backup.profile.model import Target as TargetConfig
from backup.proof.store import PROOF_DIR, ProofStore
from backup.runs.catalog import Catalog, catalog_path
from backup.runs.sidecar import Sidecar
from backup.targets import identity, make_target
from backup.targets.base import Target, TargetError
from inventory.errors import DatabaseError
from inventory.record.scan import Source
from inventory.store.inventory import Inventory
from inventory.store.labels import bare_label


def open_inventory(profile: Profile, *, create: bool = True) -> Inventory:
    """The profile's inventory database (created on first use unless ``create`` is False)."""
    try:
        return Inventory.open(inventory_path(profile.name), create=create)
    except DatabaseError as exc:
        raise StateError(str(exc)) from exc


def source_labels(profile: Profile, *, keep: bool = True, inv: Inventory | None = None) -> dict[str, str]:
    """The name each of the profile's source folders is filed under, on the targets and in the
    output folder (``inventory.store.labels``); ``keep`` records labels given now (what writes
    to targets or copies does; what only reads does not). ``inv``: the inventory, if open."""
    roots = [os.path.abspath(f) for f in profile.sources.folders]
    if inv is not None:
        return inv.source_labels(roots, keep=keep)
    if not keep and not inventory_path(profile.name).exists():
        return {r: bare_label(r) for r in roots}
    with open_inventory(profile) as opened:
        return opened.source_labels(roots, keep=keep)


def sources_for(profile: Profile, paths: Sequence[str] = ()) -> list[Source]:
    """The profile's source folders, or the given paths inside them."""
    roots = [os.path.abspath(f) for f in profile.sources.folders]
    if not paths:
        return [Source(r, r) for r in roots]
    out: list[Source] = []
    for p in paths:
        start = os.path.abspath(os.path.expanduser(p))
        owner = next((r for r in roots if start == r or start.startswith(r.rstrip(os.sep) + os.sep)), None)
        if owner is None:
            raise UsageError(
                f"{p}: not inside any source folder of profile {profile.name!r} "
                f"({', '.join(roots)}); add it to [sources] folders in {profile.file}"
            )
        out.append(Source(owner, start))
    return out


def excluded_folders(profile: Profile) -> list[str]:
    """Folders never scanned even inside a source: the stamped output (unless stamped copies
    sit beside their originals, told apart by a suffix) and Keepmark's own state."""
    out = [str(keepmark_home())]
    if profile.watermark.output is not None and not profile.watermark.suffix:
        out.append(str(profile.watermark.output))
    return out


def ignore_globs(profile: Profile) -> list[str]:
    """The profile's ignore globs, plus the stamped copies' names when they carry a suffix."""
    globs = list(profile.sources.ignore)
    if profile.watermark.suffix:
        globs += [f"*{profile.watermark.suffix}.*"]
    return globs


class WalkRules(NamedTuple):
    """What a scan of the profile leaves out, and whether it follows symbolic links: the scan's
    keyword arguments (``scan(inv, sources, **walk_rules(profile)._asdict())``)."""

    ignore: list[str]
    follow_symlinks: bool
    exclude: list[str]


def walk_rules(profile: Profile) -> WalkRules:
    return WalkRules(ignore_globs(profile), profile.sources.follow_symlinks, excluded_folders(profile))


def proof_store(profile: Profile) -> ProofStore:
    """The profile's signing key and checkpoints, with its timestamp authority."""
    return ProofStore(
        state_dir(profile.name) / PROOF_DIR,
        profile.name,
        tsa_url=profile.proof.tsa_url,
        tsa_certificate=profile.proof.tsa_certificate,
    )


def state_summary(profile: Profile) -> dict[str, object]:
    db = inventory_path(profile.name)
    return {"state_dir": str(Path(db).parent), "inventory": str(db), "inventory_exists": db.exists()}


def chosen_targets(profile: Profile, only: Sequence[str] = ()) -> list[TargetConfig]:
    """The profile's targets, or those named (``--target NAME``, repeatable)."""
    if not profile.targets:
        raise UsageError(
            f"profile {profile.name!r} has no backup targets; add a [[targets]] section to {profile.file} "
            "(see profiles/example.toml)"
        )
    names = [t.name for t in profile.targets]
    for wanted in only:
        if wanted not in names:
            raise UsageError(
                f"no target named {wanted!r} in profile {profile.name!r}; its targets: {', '.join(names)}"
            )
    return [t for t in profile.targets if not only or t.name in only]


def targets_for(
    profile: Profile, only: Sequence[str] = ()
) -> list[tuple[TargetConfig, Target | TargetError]]:
    """The chosen targets, made and ready to open (or the error that made one impossible)."""
    with Catalog(catalog_path(state_dir(profile.name))) as catalog:
        return made_targets(profile, chosen_targets(profile, only), catalog)


def made_targets(
    profile: Profile, configs: Sequence[TargetConfig], catalog: Catalog
) -> list[tuple[TargetConfig, Target | TargetError]]:
    out: list[tuple[TargetConfig, Target | TargetError]] = []
    for cfg in configs:
        used = catalog.known_target(cfg.name, identity(cfg))
        try:
            out.append(
                (cfg, make_target(cfg, profile.name, state_dir=state_dir(profile.name), used_before=used))
            )
        except TargetError as exc:
            out.append((cfg, exc))
    return out


def sidecar(profile: Profile) -> Sidecar:
    """What every target gets with the profile's originals (see ``backup.runs.sidecar``)."""
    return Sidecar(profile.name, Path(profile.file), lambda: proof_store(profile).files())
