"""``backup recover --from SPEC [--profile NAME]``: after the laptop is lost, list the profiles a
backup target holds, or bring one back into this Keepmark home: its profile, the inventory and
ledger, every checkpoint with its timestamp token, and the public keys (docs/design.md, "Recover").

Everything is copied into a temporary folder inside the home and checked there (the ledger's
chain, each checkpoint's signature against the public key brought back and against the ledger,
each timestamp token); only when all of it holds is it renamed into place. The private key never
travels: the first signing afterwards starts a new key with a ``key-rotation`` ledger entry
(``ProofStore.rotate_if_lost``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.app.profiles import LOOKUPS
from backup.errors import KeepmarkError, NothingFound, UsageError
from backup.home import keepmark_home, profiles_dir, state_dir
from backup.profile.model import Target as TargetConfig
from backup.profile.specs import S3Options, s3_settings, target_table
from backup.profile.validate import NAME_RE
from backup.proof.store import PROOF_DIR, ProofStore
from backup.runs import layout
from backup.runs.fetch import Found, describe_profile, fetch, profile_names
from backup.targets import make_target
from backup.targets.base import ObjectMissing, Target, TargetError
from inventory.atomic import fsync_dir
from inventory.errors import EXIT_FAILED, DatabaseError
from inventory.store.inventory import Inventory


class RecoverRefused(KeepmarkError):
    """What the target holds does not verify: nothing was brought back."""

    exit_code = EXIT_FAILED


@dataclass
class FoundProfiles:
    """The profiles on a target (``backup recover --from SPEC`` without ``--profile``)."""

    source: str
    where: str
    profiles: list[Found] = field(default_factory=list)

    ok = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "from": self.source,
            "where": self.where,
            "profiles": [p.as_dict() for p in self.profiles],
        }


@dataclass
class Recovered:
    """What ``backup recover --profile NAME`` brought back, verified, and where it put it."""

    profile: str
    source: str
    where: str
    target: str | None  # the profile's own target that SPEC is, when one is
    profile_file: str
    state_dir: str
    inventory: dict[str, Any]
    snapshot: dict[str, Any] | None
    checkpoints: list[dict[str, Any]]
    public_keys: list[str]
    timestamps: int
    bytes: int

    ok = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "profile": self.profile,
            "from": self.source,
            "where": self.where,
            "target": self.target,
            "profile_file": self.profile_file,
            "state_dir": self.state_dir,
            "inventory": self.inventory,
            "snapshot": self.snapshot,
            "checkpoints": self.checkpoints,
            "public_keys": self.public_keys,
            "timestamps_verified": self.timestamps,
            "bytes": self.bytes,
        }


def target_config(spec: str, s3: S3Options) -> TargetConfig:
    """The target ``spec`` names (as ``backup init --target`` reads one), for reading only."""
    table = target_table(spec, flag="--from", lookups=LOOKUPS)
    keys = s3_settings(s3, [table["bucket"]] if table["type"] == "s3" else [])
    return TargetConfig(
        name=table["name"],
        type=table["type"],
        path=Path(table["path"]) if "path" in table else None,
        bucket=table.get("bucket"),
        prefix=table.get("prefix", ""),
        endpoint_url=keys.get("endpoint_url"),
        region=keys.get("region"),
        addressing_style=keys.get("addressing_style"),
        remote=table.get("remote"),
    )


def _open(cfg: TargetConfig, profile: str, scratch: Path) -> Target:
    # used_before: a folder without Keepmark's marker is not a backup folder, and recover never
    # writes to a target (an unused folder would otherwise be marked as one).
    t = make_target(cfg, profile, state_dir=scratch, used_before=True)
    t.open_session()
    return t


def recover(
    spec: str,
    profile: str | None = None,
    *,
    endpoint: str | None = None,
    region: str | None = None,
    addressing: str | None = None,
) -> FoundProfiles | Recovered:
    """List the profiles the target ``spec`` holds (``profile`` None), or bring ``profile`` back.
    ``endpoint``, ``region`` and ``addressing`` are for an S3-compatible service, as in ``init``."""
    cfg = target_config(spec, S3Options(endpoint, region, addressing))
    home = keepmark_home()
    if profile is None:
        return _list(spec, cfg, home)
    return _recover(spec, cfg, profile, home)


def _list(spec: str, cfg: TargetConfig, home: Path) -> FoundProfiles:
    scratch = Path(tempfile.mkdtemp(prefix="keepmark-recover-"))
    try:
        everything = _open(cfg, "", scratch)
        try:
            names = profile_names(everything)
        finally:
            everything.close()
        found = FoundProfiles(spec, cfg.describe())
        for name in names:
            if not NAME_RE.match(name):
                continue
            t = _open(cfg, name, scratch)
            try:
                found.profiles.append(describe_profile(t, name))
            finally:
                t.close()
        return found
    except TargetError as exc:
        raise TargetError(f"--from {spec}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _refuse_existing(name: str) -> None:
    toml, state = profiles_dir() / f"{name}.toml", state_dir(name)
    for there in (toml, state):
        if there.exists():
            raise UsageError(
                f"profile {name!r} already exists here ({there}); recover brings a profile back only "
                "into a home that lacks it (set KEEPMARK_HOME to an empty folder, or remove it first)"
            )


def _recover(spec: str, cfg: TargetConfig, name: str, home: Path) -> Recovered:
    if not NAME_RE.match(name):
        raise UsageError(f"--profile {name!r}: not a profile name (letters, digits, '.', '_' and '-')")
    _refuse_existing(name)
    home.mkdir(parents=True, exist_ok=True)
    for left in home.glob(f".recover-{name}-*"):  # what a recover that was killed left behind
        shutil.rmtree(left, ignore_errors=True)
    stage = Path(tempfile.mkdtemp(prefix=f".recover-{name}-", dir=home))
    try:
        staged_toml = stage / "profiles" / f"{name}.toml"
        staged_state = stage / "state" / name
        proof = staged_state / PROOF_DIR
        try:
            _require_profile(spec, cfg, name, stage / "scratch")
            t = _open(cfg, name, stage / "scratch")
        except TargetError as exc:
            raise TargetError(f"--from {spec}: {exc}") from exc
        try:
            try:
                got = fetch(t, staged_toml, staged_state / "inventory.sqlite", proof)
            except ObjectMissing as exc:
                raise RecoverRefused(f"{cfg.describe()}: {name}/{exc}; nothing was brought back") from exc
        finally:
            t.close()
        if proof.is_dir() and os.name != "nt":
            os.chmod(proof, 0o700)  # as the proof folder always is (it will hold the new key)
        where = f"{cfg.describe()}/{name}/{layout.INVENTORY}"
        checked = _verify(staged_toml, got.database, proof, name, where)
        _check_profile(staged_toml)
        _move_into_place(stage, name)
        loaded = _target_of(profiles_dir() / f"{name}.toml", cfg)
        snap = got.snapshot
        return Recovered(
            profile=name,
            source=spec,
            where=cfg.describe(),
            target=loaded,
            profile_file=str(profiles_dir() / f"{name}.toml"),
            state_dir=str(state_dir(name)),
            inventory={
                "sha256": got.db_sha256,
                "size": got.db_size,
                "entries": checked["entries"],
                "head": checked["head"],
                "snapshot_recorded_it": bool(
                    snap and snap.inventory and snap.inventory.get("sha256") == got.db_sha256
                ),
            },
            snapshot=snap.summary() if snap else None,
            checkpoints=checked["checkpoints"],
            public_keys=checked["keys"],
            timestamps=sum(1 for c in checked["checkpoints"] if isinstance(c.get("timestamp"), dict)),
            bytes=got.bytes,
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _require_profile(spec: str, cfg: TargetConfig, name: str, scratch: Path) -> None:
    """NothingFound, naming the profiles there, unless the target holds ``name``'s inventory
    (asked of the target's own root: opening it for a profile it lacks would make a folder)."""
    everything = _open(cfg, "", scratch)
    try:
        if everything.stat(f"{name}/{layout.INVENTORY_DB}") is not None:
            return
        known = ", ".join(profile_names(everything)) or "none"
    finally:
        everything.close()
    raise NothingFound(f"--from {spec}: no profile {name!r} there (profiles found: {known})")


def _verify(toml: Path, database: Path, proof: Path, name: str, where: str) -> dict[str, Any]:
    """The ledger's chain, every checkpoint (signature with the public keys brought back, the
    ledger holding what it signed, its timestamp token); RecoverRefused naming the first
    problem."""
    try:
        inv = Inventory.open(database, create=False)
    except DatabaseError as exc:
        raise RecoverRefused(f"{where}inventory.sqlite: {exc}; nothing was brought back") from exc
    try:
        chain = inv.verify_ledger()  # the chain, and every table row against its entry
        if not chain.ok:
            raise RecoverRefused(
                f"{where}inventory.sqlite: ledger {chain.problem}; the copy on the target was altered "
                "or damaged, nothing was brought back"
            )
        store = ProofStore(proof, name)
        checkpoints, problems = store.verify(inv)
        if problems:
            raise RecoverRefused(f"{where}: {problems[0]}; nothing was brought back")
        keys = sorted(store.public_keys())
        return {"entries": chain.entries, "head": chain.head, "checkpoints": checkpoints, "keys": keys}
    finally:
        inv.close()


def _check_profile(toml: Path) -> None:
    """The profile brought back must read as a profile (a damaged one is refused, naming it)."""
    from backup.profile.load import load

    load(str(toml))


def _move_into_place(stage: Path, name: str) -> None:
    """The state folder, then the profile file (its presence means the profile is back)."""
    for stray in (stage / "scratch",):
        shutil.rmtree(stray, ignore_errors=True)
    _refuse_existing(name)  # again: another process may have made it meanwhile
    state = state_dir(name)
    state.parent.mkdir(parents=True, exist_ok=True)
    os.rename(stage / "state" / name, state)
    fsync_dir(state.parent)
    toml = profiles_dir() / f"{name}.toml"
    toml.parent.mkdir(parents=True, exist_ok=True)
    os.rename(stage / "profiles" / f"{name}.toml", toml)
    fsync_dir(toml.parent)


def _target_of(toml: Path, cfg: TargetConfig) -> str | None:
    """The name of the profile's target that is the place recovered from, if one is."""
    from backup.profile.load import load

    try:
        profile = load(str(toml))
    except KeepmarkError:
        return None
    for t in profile.targets:
        if t.type != cfg.type:
            continue
        if _same_place(t, cfg):
            return t.name
    return None


def _same_place(t: TargetConfig, cfg: TargetConfig) -> bool:
    if t.type == "local":
        return (
            t.path is not None
            and cfg.path is not None
            and os.path.normpath(t.path) == os.path.normpath(cfg.path)
        )
    if t.type == "s3":
        return (t.bucket, t.prefix.strip("/")) == (cfg.bucket, cfg.prefix.strip("/"))
    return (t.remote or "").rstrip("/") == (cfg.remote or "").rstrip("/")
