"""Signed checkpoints of the ledger: an Ed25519 signature over (entry count, head hash, time).

A checkpoint is a small JSON document (docs/design.md, "Signed checkpoints")::

    {"entries": 42, "format": "keepmark-checkpoint", "head": "<hash of entry 42>",
     "key": "<Ed25519 public key, base64>", "key_id": "<16 hex>", "profile": "lily",
     "signature": "<Ed25519 signature, base64>", "time": "2026-11-24T07:40:12.118532Z",
     "version": 1}

The signature covers ``canonical_json`` of every other key. The file holding it is exactly
``canonical_json(document) + "\\n"``: those bytes are what a trusted timestamp covers.

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
VERSION = 1
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

    def signed_part(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "format": FORMAT,
            "head": self.head,
            "key": self.key,
            "key_id": self.key_id,
            "profile": self.profile,
            "time": self.time,
            "version": VERSION,
        }

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


def sign(key: Ed25519PrivateKey, profile: str, entries: int, head: str, time: str) -> Checkpoint:
    public = key.public_key()
    unsigned = Checkpoint(
        profile=profile,
        entries=entries,
        head=head,
        time=time,
        key=base64.b64encode(raw_public(public)).decode("ascii"),
        key_id=key_id(public),
        signature="",
    )
    signature = key.sign(canonical_json(unsigned.signed_part()).encode("utf-8"))
    return Checkpoint(**{**unsigned.__dict__, "signature": base64.b64encode(signature).decode("ascii")})


def parse(doc: Any, where: str = "checkpoint") -> Checkpoint:
    """A ``Checkpoint`` from its JSON document; ``CheckpointError`` naming what is wrong."""
    if not isinstance(doc, dict):
        raise CheckpointError(f"{where}: not a JSON object")
    if doc.get("format") != FORMAT:
        raise CheckpointError(f"{where}: not a Keepmark checkpoint (format {doc.get('format')!r})")
    if doc.get("version") != VERSION:
        raise CheckpointError(
            f"{where}: checkpoint version {doc.get('version')!r}; this Keepmark reads version {VERSION}"
        )
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
    return Checkpoint(entries=entries, head=head, **fields)


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
