"""Reading a target's ``inventory/`` area back (``backup recover``): which profiles a target
holds, and one profile's inventory, profile, public keys and checkpoints copied into a local
folder. Nothing here writes to the target; what is copied is checked by the caller before it is
accepted (docs/design.md, "Recover")."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from backup.runs import layout
from backup.runs import snapshot as snapmod
from backup.targets.base import ObjectError, Target
from inventory.atomic import fsync_dir

# What of ``inventory/`` comes back besides the database and the profile: the public keys (the
# current one and any it replaced) and every checkpoint with its timestamp files.
_PROOF_FILE = re.compile(r"^(ledger-key[^/]*\.pub\.pem|checkpoints/checkpoint-\d+\.(json|tsr|tsa\.pem))$")
_PROFILE_MARK = re.compile(r"^([^/]+)/inventory/(profile\.toml|inventory\.sqlite)$")


class Found(NamedTuple):
    """One profile on a target: its name and, from its newest snapshot, the last run."""

    name: str
    snapshots: int
    last_run: str | None
    last_kind: str | None
    files: int | None
    bytes: int | None
    account: str | None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


def profile_names(everything: Target) -> list[str]:
    """The profiles on a target made for no profile (its root is the target's own folder):
    those with an ``inventory/`` area (a profile file or an inventory copy)."""
    names = set()
    for info in everything.list(""):
        m = _PROFILE_MARK.match(info.key)
        if m:
            names.add(m.group(1))
    return sorted(names)


def describe_profile(t: Target, name: str) -> Found:
    """What the newest readable snapshot of profile ``name`` (on its target ``t``) says."""
    ids = snapmod.list_ids(t)
    newest: snapmod.Snapshot | None = None
    for sid in reversed(ids):
        try:
            newest = snapmod.load(t, sid)
            break
        except ObjectError:
            continue
    account = None
    try:
        with t.open(layout.INVENTORY_PROFILE) as f:
            account = _account(f.read())
    except ObjectError:
        pass
    if newest is None:
        return Found(name, len(ids), None, None, None, None, account)
    return Found(
        name, len(ids), newest.finished, newest.kind, len(newest.entries), newest.total_bytes, account
    )


def _account(data: bytes) -> str | None:
    from backup.profile.load import toml_loads

    try:
        doc = toml_loads(data.decode("utf-8"))
    except ValueError:  # not UTF-8, or not TOML (TOMLDecodeError is a ValueError)
        return None
    account = doc.get("account")
    name = account.get("name") if isinstance(account, dict) else None
    return name if isinstance(name, str) else None


class Fetched(NamedTuple):
    """What was copied from a target, and where it went."""

    profile_file: Path
    database: Path
    db_sha256: str
    db_size: int
    proof_files: list[str]  # names under ``inventory/``
    snapshot: snapmod.Snapshot | None  # the newest readable snapshot
    bytes: int


def fetch(t: Target, profile_file: Path, database: Path, proof: Path) -> Fetched:
    """Copy profile ``t``'s inventory area: ``inventory/profile.toml`` to ``profile_file``,
    ``inventory/inventory.sqlite`` to ``database``, the public keys and checkpoints into the
    folder ``proof``. Every file is fsynced (the caller renames the folders into place).
    ``ObjectMissing`` names what the target lacks."""
    total = 0
    total += _download(t, layout.INVENTORY_PROFILE, profile_file)
    db_sha = hashlib.sha256()
    db_size = _download(t, layout.INVENTORY_DB, database, db_sha.update)
    total += db_size
    names = []
    for info in t.list(layout.INVENTORY):
        name = info.key[len(layout.INVENTORY) :]
        if _PROOF_FILE.match(name):
            names.append(name)
    for name in sorted(names):
        total += _download(t, layout.INVENTORY + name, proof.joinpath(*name.split("/")))
    for folder in {profile_file.parent, database.parent, proof, proof / "checkpoints"}:
        if folder.is_dir():
            fsync_dir(folder)
    newest = None
    for sid in reversed(snapmod.list_ids(t)):
        try:
            newest = snapmod.load(t, sid)
            break
        except ObjectError:
            continue
    return Fetched(profile_file, database, db_sha.hexdigest(), db_size, sorted(names), newest, total)


def _download(t: Target, key: str, dst: Path, also: Callable[[bytes], object] | None = None) -> int:
    dst.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with t.open(key) as src, open(dst, "wb") as out:
        while chunk := src.read(1 << 20):
            out.write(chunk)
            if also is not None:
                also(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size
