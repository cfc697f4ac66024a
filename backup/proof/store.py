"""A profile's signing key and ledger checkpoints, in ``<state>/proof/`` (docs/design.md,
"Signed checkpoints"):

proof/                              0700
  ledger-key.pem                    the Ed25519 signing key (PKCS#8 PEM), 0600
  ledger-key.pub.pem                its public half (SubjectPublicKeyInfo PEM)
  ledger-key.<key id>.pub.pem       the public half of a key that was lost and replaced (a
                                    ``key-rotation`` ledger entry names it and the new key)
  checkpoints/
    checkpoint-00000042.json        a signed checkpoint of the first 42 ledger entries
    checkpoint-00000042.tsq         its timestamp request, while it waits to be sent
    checkpoint-00000042.tsr         the authority's reply (DER TimeStampResp), once answered
    checkpoint-00000042.tsa.pem     the authority's certificate the reply was verified against

Every file is written whole or not at all; a checkpoint file is never replaced.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backup.errors import KeepmarkError
from inventory.atomic import atomic_write_bytes, fsync_dir, write_atomic
from inventory.ledger import checkpoint as cpmod
from inventory.ledger import timestamp as tsmod
from inventory.timeutil import utc_now

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    from inventory.store.inventory import Inventory

PROOF_DIR = "proof"
KEY_FILE = "ledger-key.pem"
PUBLIC_FILE = "ledger-key.pub.pem"
CHECKPOINTS = "checkpoints"
_PREFIX = "checkpoint-"
# The type of the ledger entry that starts a new signing key when the old one is gone (a home
# brought back by ``backup recover`` has only the public half). See docs/design.md, "Recover".
KEY_ROTATION = "key-rotation"


class ProofError(KeepmarkError):
    """The signing key or a checkpoint cannot be used."""


def checkpoint_name(entries: int) -> str:
    return f"{_PREFIX}{entries:08d}"


@dataclass
class Stored:
    """One checkpoint as kept on disk, with its timestamp files if any."""

    checkpoint: cpmod.Checkpoint
    json: Path

    def sibling(self, suffix: str) -> Path:
        return self.json.with_suffix(suffix)

    @property
    def token(self) -> Path | None:
        p = self.sibling(".tsr")
        return p if p.exists() else None

    @property
    def authority(self) -> Path | None:
        p = self.sibling(".tsa.pem")
        return p if p.exists() else None

    @property
    def pending(self) -> bool:
        return self.sibling(".tsq").exists() and self.token is None


@dataclass
class TimestampReport:
    """What sending waiting timestamp requests did."""

    sent: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "pending": self.pending, "errors": self.errors}


@dataclass
class TimestampState:
    """Where a profile's trusted timestamps stand (``ProofStore.timestamp_state``)."""

    configured: bool  # an authority is configured ([proof] tsa_url)
    pending: list[tuple[int, str]] = field(default_factory=list)  # (entries, signed at) waiting
    newest: int | None = None  # the newest checkpoint's entry count
    stamped: dict[str, Any] | None = None  # the newest checkpoint's verified token
    problem: str | None = None  # why the newest checkpoint's token does not verify

    def as_dict(self) -> dict[str, Any]:
        return {
            "configured": self.configured,
            "pending": [{"entries": e, "time": t} for e, t in self.pending],
            "newest": self.newest,
            "stamped": self.stamped,
            "problem": self.problem,
        }


def has_pending(folder: Path) -> bool:
    """Whether timestamp requests wait in the proof folder ``folder`` (a look at file names:
    what the daemon asks before it sends them)."""
    try:
        return any(not q.with_suffix(".tsr").exists() for q in (folder / CHECKPOINTS).glob(f"{_PREFIX}*.tsq"))
    except OSError:
        return False


@dataclass
class CheckpointResult:
    checkpoint: cpmod.Checkpoint | None
    new: bool
    timestamps: TimestampReport

    def as_dict(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint.as_dict() if self.checkpoint else None,
            "new": self.new,
            "timestamps": self.timestamps.as_dict(),
        }


class ProofStore:
    """The signing key and checkpoints of one profile."""

    def __init__(
        self,
        folder: Path,
        profile_name: str,
        *,
        tsa_url: str | None = None,
        tsa_certificate: Path | None = None,
    ) -> None:
        self.folder = folder
        self.profile_name = profile_name
        self.tsa_url = tsa_url
        self.tsa_certificate = tsa_certificate

    @property
    def checkpoint_dir(self) -> Path:
        return self.folder / CHECKPOINTS

    # -- the key ----------------------------------------------------------------------------

    def _private_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.name != "nt":
            os.chmod(self.folder, 0o700)

    def signing_key(self) -> Ed25519PrivateKey:
        """The profile's key, created on first use (owner-only file in an owner-only folder)."""
        path = self.folder / KEY_FILE
        self._private_folder()
        if not path.exists():
            self._install(cpmod.new_key())
        try:
            if os.name != "nt" and stat.S_IMODE(path.stat().st_mode) & 0o077:
                os.chmod(path, 0o600)  # others must never read it
            key = cpmod.load_private(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ProofError(f"{path}: cannot read the ledger signing key ({exc})") from exc
        public = self.folder / PUBLIC_FILE
        pem = cpmod.public_pem(key.public_key())
        if not public.exists() or public.read_bytes() != pem:
            atomic_write_bytes(public, pem)
        return key

    def _install(self, key: Ed25519PrivateKey) -> None:
        """Make ``key`` the signing key, keeping the public half of the one it replaces."""
        self._private_folder()
        self._retire_public_key()
        _create(self.folder / KEY_FILE, cpmod.private_pem(key), 0o600)

    def rotate_if_lost(self, inv: Inventory) -> dict[str, Any] | None:
        """When the public key is here but its private half is not (a home brought back by
        ``backup recover``, or a key file lost), start a new key with a ``key-rotation`` ledger
        entry naming the old public key, the last checkpoint it signed and the new public key,
        so the old checkpoints keep verifying with the old key. The entry's data, or None when
        nothing was rotated. The entry is written before the new key: a crash in between makes
        the next signing rotate again, with an entry naming the same old key."""
        public = self.folder / PUBLIC_FILE
        if (self.folder / KEY_FILE).exists() or not public.exists():
            return None
        old = _load_public(public)
        old_id = cpmod.key_id(old)
        last = next((s for s in reversed(self.stored()) if s.checkpoint.key_id == old_id), None)
        key = cpmod.new_key()
        data: dict[str, Any] = {
            "old_key": old_id,
            "old_public_key": cpmod.public_pem(old).decode("ascii"),
            "last_checkpoint": (
                {"entries": last.checkpoint.entries, "head": last.checkpoint.head} if last else None
            ),
            "new_key": cpmod.key_id(key.public_key()),
            "new_public_key": cpmod.public_pem(key.public_key()).decode("ascii"),
        }
        inv.note(KEY_ROTATION, data)
        self._install(key)
        return data

    def _retire_public_key(self) -> None:
        """A new key replaces a lost one: the old public half is kept, under its key id, so the
        checkpoints it signed still verify."""
        public = self.folder / PUBLIC_FILE
        if public.exists():
            old = _load_public(public)
            os.replace(public, self.folder / f"ledger-key.{cpmod.key_id(old)}.pub.pem")
            fsync_dir(self.folder)

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """{key id: key} of the profile's public keys: the current one and any it replaced."""
        keys = {}
        for path in sorted(self.folder.glob("ledger-key*.pub.pem")):
            key = _load_public(path)
            keys[cpmod.key_id(key)] = key
        return keys

    # -- checkpoints ------------------------------------------------------------------------

    def stored(self) -> list[Stored]:
        """Every checkpoint kept, oldest first. A file that does not parse raises naming it."""
        return [_read(path) for path in self._named(".json")]

    def newest(self) -> Stored | None:
        """The newest checkpoint kept (the names sort by entry count), read alone: a daemon
        that has signed for a year keeps thousands."""
        names = self._named(".json")
        return _read(names[-1]) if names else None

    def _named(self, suffix: str) -> list[Path]:
        if not self.checkpoint_dir.is_dir():
            return []
        return sorted(self.checkpoint_dir.glob(f"{_PREFIX}*{suffix}"))

    def checkpoint(self, inv: Inventory, *, unless_only: Sequence[str] = ()) -> CheckpointResult:
        """Sign the ledger's head unless the newest checkpoint already covers it (or all that
        it lacks are entries of the types ``unless_only``), then send waiting timestamp
        requests. Refuses when the ledger no longer matches the newest checkpoint (it was
        rewritten or cut)."""
        newest = self.newest()
        if newest is not None:
            try:
                cpmod.check_against_ledger(inv, newest.checkpoint)
            except cpmod.CheckpointError as exc:
                raise ProofError(f"not signing: {exc}") from exc
        self.rotate_if_lost(inv)
        head = inv.ledger_head()
        covered = newest is not None and (
            (head is not None and newest.checkpoint.entries == head.seq)
            or not inv.ledger_has_entries_after(newest.checkpoint.entries, except_types=unless_only)
        )
        if head is None or covered:
            if newest is not None and self.tsa_url:
                self._request_timestamp(newest)
            return CheckpointResult(newest.checkpoint if newest else None, False, self.send_pending())
        key = self.signing_key()
        from inventory.ledger import merkle

        try:
            root = merkle.root(cpmod.ledger_hashes(inv, head.seq, head.hash))
        except cpmod.CheckpointError as exc:
            raise ProofError(f"not signing: {exc}") from exc
        cp = cpmod.sign(key, self.profile_name, head.seq, head.hash, utc_now(), root=root)
        path = self.checkpoint_dir / f"{checkpoint_name(cp.entries)}.json"
        self._private_folder()
        self.checkpoint_dir.mkdir(exist_ok=True)
        _create(path, cp.file_bytes(), 0o644)
        if self.tsa_url:
            self._request_timestamp(Stored(cp, path))
        return CheckpointResult(cp, True, self.send_pending())

    def _request_timestamp(self, s: Stored) -> None:
        """Build and keep the request for a checkpoint that has neither a token nor a request
        (a new one; or the newest, after a crash or when an authority was just configured)."""
        if s.token is None and not s.sibling(".tsq").exists():
            _create(s.sibling(".tsq"), tsmod.build_request(s.checkpoint.file_bytes()), 0o644)

    def send_pending(self, timeout: float = 10.0) -> TimestampReport:
        """Send every waiting timestamp request, oldest first; stop at the first that cannot
        reach the authority (the rest wait for the next time)."""
        report = TimestampReport()
        # Only checkpoints with a request file can be waiting: the others are not read.
        kept = [_read(q.with_suffix(".json")) for q in self._named(".tsq") if q.with_suffix(".json").exists()]
        for done in (s for s in kept if s.token is not None and s.sibling(".tsq").exists()):
            done.sibling(".tsq").unlink()  # answered, then interrupted before the request went
        waiting = [s for s in kept if s.pending]
        if not waiting:
            return report
        if not self.tsa_url or self.tsa_certificate is None:
            report.pending = [s.checkpoint.entries for s in waiting]
            report.errors.append("timestamp requests are waiting but no [proof] tsa_url is configured")
            return report
        try:
            authority = self.tsa_certificate.read_bytes()
        except OSError as exc:
            report.pending = [s.checkpoint.entries for s in waiting]
            report.errors.append(f"{self.tsa_certificate}: {exc.strerror or exc}")
            return report
        for i, s in enumerate(waiting):
            try:
                request = s.sibling(".tsq").read_bytes()
            except FileNotFoundError:  # another process (the daemon, a scan) sent it meanwhile
                continue
            try:
                reply = tsmod.send(self.tsa_url, request, timeout=timeout)
                tsmod.verify(reply, s.checkpoint.file_bytes(), authority, nonce=tsmod.request_nonce(request))
            except tsmod.Unreachable as exc:
                report.pending = [w.checkpoint.entries for w in waiting[i:]]
                report.errors.append(str(exc))
                return report
            except tsmod.TimestampError as exc:
                report.pending.append(s.checkpoint.entries)
                report.errors.append(f"checkpoint {s.checkpoint.entries}: {exc}")
                continue
            atomic_write_bytes(s.sibling(".tsa.pem"), authority)
            atomic_write_bytes(s.sibling(".tsr"), reply)  # last: its presence means answered
            s.sibling(".tsq").unlink(missing_ok=True)
            report.sent.append(s.checkpoint.entries)
        return report

    def timestamp_state(self) -> TimestampState:
        """Where the trusted timestamps stand, for ``backup check``: the checkpoints still
        waiting for one (a request not yet answered; or the newest, not yet requested, when an
        authority is configured), and whether the newest token verifies. Reads only the
        waiting checkpoints and the newest one; no network."""
        state = TimestampState(configured=bool(self.tsa_url))
        for q in self._named(".tsq"):
            j = q.with_suffix(".json")
            if j.exists() and not q.with_suffix(".tsr").exists():
                cp = _read(j).checkpoint
                state.pending.append((cp.entries, cp.time))
        newest = self.newest()
        if newest is None:
            return state
        state.newest = newest.checkpoint.entries
        token = newest.token
        if token is None:
            if self.tsa_url and not newest.pending:
                state.pending.append((newest.checkpoint.entries, newest.checkpoint.time))
            return state
        try:
            if newest.authority is None:
                raise tsmod.TimestampError("the authority's certificate file is missing")
            data = newest.checkpoint.file_bytes()
            state.stamped = tsmod.verify(token.read_bytes(), data, newest.authority.read_bytes()).as_dict()
        except (OSError, tsmod.TimestampError) as exc:
            state.problem = f"checkpoint {newest.checkpoint.entries}: timestamp {token.name}: {exc}"
        return state

    def verify(self, inv: Inventory) -> tuple[list[dict[str, Any]], list[str]]:
        """Check every checkpoint: its signature (with the profile's public key), that the ledger
        still holds the head it signed, and its timestamp token. (checkpoints, problems)."""
        problems: list[str] = []
        summary: list[dict[str, Any]] = []
        try:
            kept = self.stored()
            keys = self.public_keys()
        except ProofError as exc:
            return summary, [str(exc)]
        if kept and not keys:
            return summary, [f"{self.folder / PUBLIC_FILE}: the ledger's public key is missing"]
        for s in kept:
            cp = s.checkpoint
            item: dict[str, Any] = {
                "entries": cp.entries,
                "head": cp.head,
                "time": cp.time,
                "timestamp": None,
            }
            try:
                trusted = keys.get(cp.key_id)
                if trusted is None:
                    raise cpmod.CheckpointError(
                        f"checkpoint {cp.entries}: signed by key {cp.key_id}, which is not one of this "
                        f"profile's keys ({', '.join(keys)})"
                    )
                cp.verify(trusted)
                cpmod.check_against_ledger(inv, cp)
            except cpmod.CheckpointError as exc:
                problems.append(str(exc))
                item["ok"] = False
                summary.append(item)
                continue
            if s.json.read_bytes() != cp.file_bytes():
                problems.append(f"{s.json}: the file is not in its canonical form (edited by hand?)")
            token, authority = s.token, s.authority
            if token is not None:
                try:
                    if authority is None:
                        raise tsmod.TimestampError("the authority's certificate file is missing")
                    info = tsmod.verify(token.read_bytes(), cp.file_bytes(), authority.read_bytes())
                    item["timestamp"] = info.as_dict()
                except tsmod.TimestampError as exc:
                    problems.append(f"checkpoint {cp.entries}: timestamp {token.name}: {exc}")
                    item["ok"] = False
                    summary.append(item)
                    continue
            elif s.pending:
                item["timestamp"] = "pending"
            item["ok"] = True
            summary.append(item)
        # Version 2: the Merkle root each signed is the one over the ledger's entries.
        held = [s.checkpoint for s, item in zip(kept, summary, strict=False) if item.get("ok")]
        for entries, problem in cpmod.root_problems(inv, held).items():
            problems.append(problem)
            for item in summary:
                if item["entries"] == entries:
                    item["ok"] = False
        return summary, problems

    def files(self) -> Iterator[tuple[str, Path]]:
        """(name under ``inventory/``, local file) of what goes to every backup target: the
        public key, every checkpoint and its timestamp files (never the key, never a request)."""
        for public in sorted(self.folder.glob("ledger-key*.pub.pem")):
            yield public.name, public
        if self.checkpoint_dir.is_dir():
            for p in sorted(self.checkpoint_dir.iterdir()):
                if p.name.startswith(_PREFIX) and p.name.endswith((".json", ".tsr", ".tsa.pem")):
                    yield f"{CHECKPOINTS}/{p.name}", p


def _read(path: Path) -> Stored:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ProofError(f"{path}: not a readable checkpoint ({exc})") from exc
    try:
        return Stored(cpmod.parse(doc, str(path)), path)
    except cpmod.CheckpointError as exc:
        raise ProofError(str(exc)) from exc


def _load_public(path: Path) -> Ed25519PublicKey:
    try:
        return cpmod.load_public(path.read_bytes())
    except (OSError, ValueError, cpmod.CheckpointError) as exc:
        raise ProofError(f"{path}: cannot read the ledger's public key ({exc})") from exc


def _create(path: Path, data: bytes, mode: int) -> None:
    """Write a new file whole, never replacing one that exists (another process may have made
    it first: then that one stands)."""
    import tempfile  # here: a run that signs nothing never needs it (nor random, shutil, bz2)

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".keepmark-tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if os.name != "nt":
            os.chmod(name, mode)
        try:
            os.link(name, path)
        except FileExistsError:
            return
        except OSError:  # no hard links on this file system: rename, which would replace
            if path.exists():
                return
            write_atomic(path, data, mode)
            return
        fsync_dir(path.parent)
    finally:
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
