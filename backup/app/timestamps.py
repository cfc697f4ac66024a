"""Trusted timestamps for a profile's checkpoints: which RFC 3161 authority ``backup init`` and
the app's setup choose (a public one by default, after saying what is sent: only a hash), where
its certificate is kept, sending the requests that wait (the daemon, every few minutes), and what
``backup check`` finds (no authority, requests waiting for more than a day, a token that does
not verify).

The chosen authority's certificate is copied into ``$KEEPMARK_HOME/authorities/`` (named after
the authority and the certificate's hash) and the profile's ``[proof]`` names both."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from backup.app.said import Said, said
from backup.errors import UsageError
from backup.home import inventory_path, keepmark_home
from backup.proof.authorities import WHAT_IS_SENT, Authority, authorities, find

if TYPE_CHECKING:  # the rest is imported where used: `backup init --help` lists the authorities
    from backup.profile.model import Profile
    from backup.proof.store import TimestampReport

AUTHORITIES_DIR = "authorities"
PENDING_DAYS = 1  # requests waiting longer than this are a finding of ``backup check``

__all__ = [
    "WHAT_IS_SENT",
    "Chosen",
    "choose_authority",
    "offered",
    "proof_section",
    "send_timestamps",
    "timestamp_findings",
    "use_authority",
]


@dataclass(frozen=True)
class Chosen:
    """The authority a new profile uses and its certificate file (written by ``install``)."""

    authority: Authority
    certificate: Path
    default: bool  # chosen because nothing was asked for

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.authority.as_dict(),
            "certificate": str(self.certificate),
            "default": self.default,
            "sent": "the SHA-256 hash of each signed checkpoint, nothing else",
        }


def offered() -> list[dict[str, Any]]:
    """The public authorities offered, the default first (for the setup wizard and ``--help``)."""
    return [a.as_dict() for a in authorities()]


def choose_authority(
    tsa: str | None = None, *, certificate: str | None = None, no_tsa: bool = False
) -> Authority | None:
    """The authority a new profile is to use: ``tsa`` (an offered authority's key or address, or
    any http(s) address with its CA ``certificate`` file), none with ``no_tsa``, else the first
    offered one (none when none is offered). ``UsageError`` names the flag that is wrong."""
    if no_tsa:
        if tsa or certificate:
            raise UsageError("--no-tsa with --tsa/--tsa-certificate: give one or the other")
        return None
    if not tsa:
        if certificate:
            raise UsageError("--tsa-certificate needs --tsa URL (the authority it belongs to)")
        offer = authorities()
        return offer[0] if offer else None
    known = find(tsa)
    if known is not None and certificate is None:
        return known
    parts = urlsplit(tsa.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        keys = ", ".join(a.key for a in authorities()) or "none offered"
        raise UsageError(f"--tsa {tsa}: not an http(s) address nor an offered authority ({keys})")
    if certificate is None:
        raise UsageError(
            f"--tsa {tsa}: give the authority's CA certificate (PEM) with --tsa-certificate FILE: "
            "its timestamps are verified against it"
        )
    from inventory.ledger.timestamp import TimestampError, load_certificates

    path = Path(certificate).expanduser()
    try:
        pem = path.read_bytes()
        load_certificates(pem, str(path))
    except OSError as exc:
        raise UsageError(f"--tsa-certificate {path}: {exc.strerror or exc}") from exc
    except TimestampError as exc:
        raise UsageError(f"--tsa-certificate {exc}") from exc
    key = re.sub(r"[^a-z0-9.-]+", "-", (parts.hostname or "tsa").lower()).strip("-.") or "tsa"
    return Authority(key, parts.hostname or tsa, tsa.strip(), pem)


def install(authority: Authority, *, default: bool) -> Chosen:
    """Copy the authority's certificate(s) into ``$KEEPMARK_HOME/authorities/`` (a file named by
    its hash is never rewritten with other content)."""
    from inventory.atomic import atomic_write_bytes

    digest = hashlib.sha256(authority.certificates).hexdigest()[:12]
    path = keepmark_home() / AUTHORITIES_DIR / f"{authority.key}-{digest}.pem"
    if not path.is_file() or path.read_bytes() != authority.certificates:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, authority.certificates)
    return Chosen(authority, path, default)


def proof_section(chosen: Chosen | None) -> str:
    """The ``[proof]`` table a new profile gets, with a comment saying what is sent."""
    import tomli_w

    lines = [
        "[proof]",
        "# Trusted timestamps (RFC 3161): each signed checkpoint of your ledger is sent to a",
        "# timestamp authority as a SHA-256 hash (32 bytes: never a file, a file name or your",
        "# account); its signed answer proves the checkpoint existed at that time.",
    ]
    if chosen is None:
        lines += [
            "# None chosen: checkpoints are signed by your own key only.",
            '# To choose one: tsa_url = "https://freetsa.org/tsr" and tsa_certificate = its CA (PEM).',
        ]
    else:
        a = chosen.authority
        keys = tomli_w.dumps({"tsa_url": a.url, "tsa_certificate": str(chosen.certificate)})
        lines += [f"# {a.name}: {a.about}." if a.about else f"# {a.name}.", *keys.strip().splitlines()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class AuthorityUsed:
    """An existing profile given a timestamp authority (``use_authority``)."""

    profile: str
    chosen: Chosen
    sent: list[int]  # checkpoints timestamped at once
    waiting: int  # requests left waiting (the authority out of reach): the daemon sends them
    error: str | None  # why they wait, in one line

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "profile": self.profile,
            "authority": self.chosen.as_dict(),
            "sent": self.sent,
            "waiting": self.waiting,
            "error": self.error,
        }


def use_authority(profile: Profile, key: str) -> AuthorityUsed:
    """Give an existing profile the offered authority ``key``: its certificate installed, the
    profile's ``[proof]`` ``tsa_url`` and ``tsa_certificate`` set in place (the rest of the file
    as it was; nothing is written unless the profile then still reads as valid), and the newest
    checkpoint signed and sent at once. An authority out of reach leaves the request waiting for
    the daemon; that is said, not raised. ``UsageError`` naming ``tsa`` for a key not offered."""
    from backup.app.ledger import checkpoint
    from backup.errors import NothingFound, ProfileError
    from backup.profile.edit import with_keys
    from backup.profile.load import profile_name
    from backup.profile.validate import parse
    from inventory.atomic import atomic_write_text

    authority = find(key) if isinstance(key, str) and key else None
    if authority is None or authority.key not in {a.key for a in authorities()}:
        keys = ", ".join(a.key for a in authorities()) or "none offered"
        raise UsageError(f"tsa: {key!r} is not one of the authorities offered ({keys})")
    chosen = install(authority, default=False)
    keys_set = {"tsa_url": authority.url, "tsa_certificate": str(chosen.certificate)}
    new, reads = with_keys(profile.file.read_text(encoding="utf-8"), "proof", keys_set)
    checked, problems = parse(reads, profile.file, profile_name(profile.file))
    if checked is None:
        raise ProfileError(str(profile.file), problems)
    atomic_write_text(profile.file, new)
    if not inventory_path(profile.name).is_file():  # nothing recorded yet: nothing to send
        return AuthorityUsed(profile.name, chosen, [], 0, None)
    try:
        done = checkpoint(checked).result.timestamps  # the profile as just written
    except NothingFound:  # an empty ledger: its first checkpoint is timestamped when signed
        return AuthorityUsed(profile.name, chosen, [], 0, None)
    error = "; ".join(done.errors) or None
    return AuthorityUsed(profile.name, chosen, list(done.sent), len(done.pending), error)


def send_timestamps(profile: Profile) -> TimestampReport:
    """Send the profile's waiting timestamp requests (the daemon's periodic retry). An
    authority out of reach leaves them waiting: it is reported, never raised."""
    from backup.app.workspace import proof_store

    return proof_store(profile).send_pending()


def timestamp_findings(profile: Profile, now: datetime) -> list[tuple[Said, Said]]:
    """(problem, fix) of each thing that keeps the profile's checkpoints from a trusted
    timestamp, each problem naming the profile key it is about."""
    from backup.app.facts import parse_time
    from backup.app.workspace import proof_store
    from backup.proof.store import ProofError

    setup = said(
        "choose a timestamp authority: add to [proof] in {file}: {keys} (or write the profile again "
        "with `backup init ... --force`, or in the app's setup); only a hash of each checkpoint is sent",
        file=str(profile.file),
        keys=" and ".join(f"{k} = {v!r}" for k, v in _example().items()),
    )
    if not profile.proof.tsa_url:
        return [
            (
                said(
                    "proof.tsa_url: no trusted timestamp: checkpoints are signed only by your own key, "
                    "which a platform need not believe about dates"
                ),
                setup,
            )
        ]
    try:
        state = proof_store(profile).timestamp_state()
    except ProofError as exc:
        return [
            (
                said("proof: the checkpoints cannot be read ({error})", error=str(exc)),
                said("run `backup ledger verify -p {profile}`", profile=profile.name),
            )
        ]
    found: list[tuple[Said, Said]] = []
    if state.problem:
        found.append(
            (
                said(
                    "proof.tsa_certificate: the newest trusted timestamp does not verify: {problem}",
                    problem=str(state.problem),
                ),
                said(
                    "check that {certificate} is the CA certificate of {url}; "
                    "run `backup ledger verify -p {profile}`",
                    certificate=str(profile.proof.tsa_certificate),
                    url=profile.proof.tsa_url,
                    profile=profile.name,
                ),
            )
        )
    old = [
        (entries, when)
        for entries, when in state.pending
        if (t := parse_time(when)) is not None and now - t > timedelta(days=PENDING_DAYS)
    ]
    if old:
        first = min(when for _, when in old)
        found.append(
            (
                said(
                    "proof.tsa_url: {count} checkpoint(s) have waited more than {days} day for a trusted "
                    "timestamp from {url} (the oldest signed {first})",
                    count=len(old),
                    days=PENDING_DAYS,
                    url=profile.proof.tsa_url,
                    first=str(first),
                ),
                said(
                    "connect to the internet: the next scan, backup or the running `backup watch` sends "
                    "them (or run `backup ledger checkpoint -p {profile}`); if the authority stays out "
                    "of reach, choose another in [proof] of {file}",
                    profile=profile.name,
                    file=str(profile.file),
                ),
            )
        )
    return found


def _example() -> dict[str, str]:
    """The ``[proof]`` keys for the default public authority, its certificate installed."""
    offer = authorities()
    if not offer:
        return {"tsa_url": "https://tsa.example/tsr", "tsa_certificate": "path/to/authority-ca.pem"}
    chosen = install(offer[0], default=True)
    return {"tsa_url": chosen.authority.url, "tsa_certificate": str(chosen.certificate)}
