"""Signed checkpoints of the ledger: an Ed25519 signature over (entry count, head hash, time).

A checkpoint is a small JSON document (docs/design.md, "Signed checkpoints")::

    {"entries": 42, "format": "keepmark-checkpoint", "head": "<hash of entry 42>",
     "key": "<Ed25519 public key, base64>", "key_id": "<16 hex>", "profile": "lily",
     "signature": "<Ed25519 signature, base64>", "time": "2026-11-24T07:40:12.118532Z",
     "version": 1}

The signature covers ``canonical_json`` of every other key. The file holding it is exactly
``canonical_json(document) + "\\n"``: those bytes are what a trusted timestamp covers.

Version 2 adds ``root``: the Merkle root (``inventory.ledger.merkle``) over the hashes of entries
1 to ``entries``, so that one entry's inclusion can be shown by its audit path alone. Version 1
checkpoints (no ``root``) still parse and verify as they were signed.

This module only computes and checks; where keys and checkpoints are kept is the caller's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inventory.errors import InventoryError
from inventory.ledger.chain import canonical_json

if TYPE_CHECKING:  # cryptography is imported when a key is used: a scan with nothing to sign never does
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    from inventory.store.inventory import Inventory

FORMAT = "keepmark-checkpoint"
VERSION = 2  # what is signed now; 1 (no Merkle root) is still read
VERSIONS = (1, 2)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class CheckpointError(InventoryError):
    """A checkpoint that is malformed, badly signed, or does not match the ledger."""


def new_key() -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private(pem: bytes) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError("the signing key is not an Ed25519 key")
    return key


def load_public(pem: bytes) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError("the public key is not an Ed25519 key")
    return key


def raw_public(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


@dataclass(frozen=True)
class Checkpoint:
    profile: str
    entries: int
    head: str
    time: str
    key: str  # raw public key, base64
    key_id: str
    signature: str  # base64
    root: str | None = None  # version 2: Merkle root over the hashes of entries 1..entries

    @property
    def version(self) -> int:
        return 1 if self.root is None else 2

    def signed_part(self) -> dict[str, Any]:
        part: dict[str, Any] = {
            "entries": self.entries,
            "format": FORMAT,
            "head": self.head,
            "key": self.key,
            "key_id": self.key_id,
            "profile": self.profile,
            "time": self.time,
            "version": self.version,
        }
        if self.root is not None:
            part["root"] = self.root
        return part

    def signed_bytes(self) -> bytes:
        """The exact bytes the Ed25519 signature is over (``openssl pkeyutl -verify -rawin``)."""
        return canonical_json(self.signed_part()).encode("utf-8")

    def signature_bytes(self) -> bytes:
        """The raw 64-byte signature (``-sigfile``)."""
        return base64.b64decode(self.signature, validate=True)

    def as_dict(self) -> dict[str, Any]:
        return {**self.signed_part(), "signature": self.signature}

    def file_bytes(self) -> bytes:
        """The exact bytes of the checkpoint's file (what a timestamp covers)."""
        return (canonical_json(self.as_dict()) + "\n").encode("utf-8")

    def public_key(self) -> Ed25519PublicKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.key, validate=True))
        except (ValueError, binascii.Error) as exc:
            raise CheckpointError(f"checkpoint {self.entries}: its public key is not valid") from exc

    def verify(self, trusted: Ed25519PublicKey | None = None) -> None:
        """Check the signature (with the key named in it, which must be ``trusted`` if given).
        Raises ``CheckpointError`` saying what does not hold."""
        from cryptography.exceptions import InvalidSignature

        key = self.public_key()
        if key_id(key) != self.key_id:
            raise CheckpointError(f"checkpoint {self.entries}: its key_id does not match its key")
        if trusted is not None and raw_public(trusted) != raw_public(key):
            raise CheckpointError(
                f"checkpoint {self.entries}: signed by key {self.key_id}, not by this profile's key "
                f"{key_id(trusted)}"
            )
        try:
            signature = base64.b64decode(self.signature, validate=True)
            key.verify(signature, canonical_json(self.signed_part()).encode("utf-8"))
        except (InvalidSignature, ValueError, binascii.Error) as exc:
            raise CheckpointError(
                f"checkpoint {self.entries}: the signature does not match its content"
            ) from exc


def sign(
    key: Ed25519PrivateKey, profile: str, entries: int, head: str, time: str, *, root: str | None = None
) -> Checkpoint:
    """A checkpoint of the first ``entries`` entries; with ``root`` (the Merkle root over their
    hashes) a version 2 one, without a version 1 one."""
    if root is not None and not _HEX64.match(root):
        raise CheckpointError("the Merkle root must be 64 lowercase hex digits")
    public = key.public_key()
    unsigned = Checkpoint(
        profile=profile,
        entries=entries,
        head=head,
        time=time,
        key=base64.b64encode(raw_public(public)).decode("ascii"),
        key_id=key_id(public),
        signature="",
        root=root,
    )
    signature = key.sign(canonical_json(unsigned.signed_part()).encode("utf-8"))
    return Checkpoint(**{**unsigned.__dict__, "signature": base64.b64encode(signature).decode("ascii")})


def parse(doc: Any, where: str = "checkpoint") -> Checkpoint:
    """A ``Checkpoint`` from its JSON document; ``CheckpointError`` naming what is wrong."""
    if not isinstance(doc, dict):
        raise CheckpointError(f"{where}: not a JSON object")
    if doc.get("format") != FORMAT:
        raise CheckpointError(f"{where}: not a Keepmark checkpoint (format {doc.get('format')!r})")
    version = doc.get("version")
    if version not in VERSIONS or isinstance(version, bool):
        raise CheckpointError(
            f"{where}: checkpoint version {version!r}; this Keepmark reads versions 1 and {VERSION}"
        )
    root = doc.get("root")
    if version == 1 and "root" in doc:
        raise CheckpointError(f"{where}: a version 1 checkpoint has no 'root'")
    if version == 2 and (not isinstance(root, str) or not _HEX64.match(root)):
        raise CheckpointError(f"{where}: 'root' must be 64 lowercase hex digits")
    entries, head = doc.get("entries"), doc.get("head")
    if not isinstance(entries, int) or isinstance(entries, bool) or entries < 1:
        raise CheckpointError(f"{where}: 'entries' must be a positive whole number")
    if not isinstance(head, str) or not _HEX64.match(head):
        raise CheckpointError(f"{where}: 'head' must be 64 lowercase hex digits")
    fields = {}
    for name in ("profile", "time", "key", "key_id", "signature"):
        value = doc.get(name)
        if not isinstance(value, str) or not value:
            raise CheckpointError(f"{where}: {name!r} is missing")
        fields[name] = value
    return Checkpoint(entries=entries, head=head, root=root, **fields)


def check_against_ledger(inv: Inventory, cp: Checkpoint) -> None:
    """The ledger still holds entry ``cp.entries`` with hash ``cp.head``: nothing up to the
    checkpoint was rewritten or cut since it was signed."""
    stored = inv.ledger_hash(cp.entries)
    if stored is None:
        count = inv.ledger_length()
        raise CheckpointError(
            f"checkpoint {cp.entries} (signed {cp.time}) covers {cp.entries} entries but the ledger "
            f"has only {count}: entries were removed"
        )
    if stored != cp.head:
        raise CheckpointError(
            f"checkpoint {cp.entries} (signed {cp.time}): entry {cp.entries} has hash "
            f"{stored[:12]}... but the checkpoint signed {cp.head[:12]}...: the ledger was "
            "rewritten since"
        )


def sign_document(key: Ed25519PrivateKey, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with a ``signature`` ({"key_id", "value"}) over canonical JSON of the rest."""
    body = {k: v for k, v in doc.items() if k != "signature"}
    value = key.sign(canonical_json(body).encode("utf-8"))
    return {
        **body,
        "signature": {"key_id": key_id(key.public_key()), "value": base64.b64encode(value).decode("ascii")},
    }


def verify_document(key: Ed25519PublicKey, doc: dict[str, Any], what: str) -> None:
    """Check a document signed by ``sign_document``; ``CheckpointError`` if anything changed."""
    from cryptography.exceptions import InvalidSignature

    sig = doc.get("signature")
    if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
        raise CheckpointError(f"{what}: not signed")
    if sig.get("key_id") != key_id(key):
        raise CheckpointError(f"{what}: signed by key {sig.get('key_id')}, not by {key_id(key)}")
    body = {k: v for k, v in doc.items() if k != "signature"}
    try:
        key.verify(base64.b64decode(sig["value"], validate=True), canonical_json(body).encode("utf-8"))
    except (InvalidSignature, ValueError, binascii.Error) as exc:
        raise CheckpointError(f"{what}: the signature does not match its content: it was changed") from exc


def ledger_hashes(inv: Inventory, entries: int, head: str) -> list[str]:
    """The hashes of entries 1 to ``entries`` as stored, the last being ``head`` (what a
    version 2 checkpoint's Merkle root is over). ``CheckpointError`` if the ledger has a gap,
    fewer entries, or another hash at ``entries``."""
    hashes: list[str] = []
    if entries >= 1:
        for row in inv.ledger_rows():
            seq, digest = int(row[0]), str(row[5])
            if seq != len(hashes) + 1:
                raise CheckpointError(f"entry {len(hashes) + 1} is missing from the ledger")
            hashes.append(digest)
            if seq == entries:
                break
    if len(hashes) < entries or not hashes or hashes[-1] != head:
        raise CheckpointError(f"the ledger no longer holds entry {entries} with hash {head[:12]}...")
    return hashes


def root_problems(inv: Inventory, checkpoints: list[Checkpoint]) -> dict[int, str]:
    """{entries: what is wrong} for each version 2 checkpoint whose Merkle root is not the one
    over the ledger's entries 1 to ``entries`` (one pass over the ledger for all of them)."""
    from inventory.ledger import merkle

    signed = {cp.entries: cp.root for cp in checkpoints if cp.root is not None}
    if not signed:
        return {}
    got = merkle.roots_at((str(row[5]) for row in inv.ledger_rows()), signed)
    return {
        n: f"checkpoint {n}: its Merkle root {root[:12]}... is not the root over ledger entries 1-{n}"
        + (f" ({got[n][:12]}...)" if n in got else ": the ledger has fewer entries")
        for n, root in sorted(signed.items())
        if got.get(n) != root
    }
