"""RFC 3161 trusted timestamps: build a request, send it, and verify a token offline.

A token proves that a timestamp authority (TSA) saw a SHA-256 digest at the time it signed
(``genTime``). It is verified against the authority's certificates: the signature over the
token, the signing certificate's chain up to one of the given certificates (valid at the
token's time), its ``timeStamping`` extended key usage, the request's nonce, and the digest
(the message imprint) against the data. Built on ``rfc3161-client``; no network here except
``send``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from inventory.errors import InventoryError

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


class TimestampError(InventoryError):
    """A timestamp request or token that cannot be used; the message says why."""


class Unreachable(TimestampError):
    """The authority could not be reached (offline, refused, timed out): try again later."""


@dataclass(frozen=True)
class TokenInfo:
    """What a verified token says."""

    time: str  # genTime, ISO 8601 UTC
    authority: str  # the signing certificate's subject
    serial: int
    digest: str  # SHA-256 of the timestamped data, hex

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time, "authority": self.authority, "serial": self.serial, "digest": self.digest}


def build_request(data: bytes) -> bytes:
    """A DER TimeStampReq over SHA-256(data), with a random nonce, asking for certificates."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    request = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .cert_request(cert_request=True)
    ).build()
    return bytes(request.as_bytes())


def request_nonce(request: bytes) -> int | None:
    from rfc3161_client import _rust

    try:
        return _rust.parse_timestamp_request(request).nonce  # type: ignore[no-any-return]
    except ValueError as exc:
        raise TimestampError(f"stored timestamp request is not valid DER: {exc}") from exc


def send(url: str, request: bytes, timeout: float = 10.0) -> bytes:
    """POST the request to the authority; its DER reply. ``Unreachable`` when the network or the
    service is down (the caller keeps the request for later), ``TimestampError`` otherwise."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=request, method="POST", headers={"Content-Type": QUERY_TYPE})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body: bytes = resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in (408, 429):
            raise Unreachable(f"{url}: the timestamp authority answered {exc.code} {exc.reason}") from exc
        raise TimestampError(
            f"{url}: the timestamp authority refused the request ({exc.code} {exc.reason})"
        ) from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"{url}: cannot reach the timestamp authority ({reason})") from exc
    return body


def load_certificates(pem: bytes, where: str) -> list[Any]:
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise TimestampError(f"{where}: no PEM certificate in it ({exc})") from exc
    return certs


def verify(reply: bytes, data: bytes, certificates_pem: bytes, *, nonce: int | None = None) -> TokenInfo:
    """Verify a DER TimeStampResp over ``data`` against the authority's certificates (PEM, one
    or more: the signing certificate must chain up to one of them). Raises ``TimestampError``."""
    from rfc3161_client import PKIStatus, VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        response = decode_timestamp_response(reply)
    except ValueError as exc:
        raise TimestampError(f"not a timestamp reply ({exc})") from exc
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        text = "; ".join(response.status_string) or f"status {response.status}"
        raise TimestampError(f"the authority refused the request: {text}")
    trusted = load_certificates(certificates_pem, "the authority's certificates")
    builder = VerifierBuilder(nonce=nonce)
    for cert in trusted:
        builder = builder.add_root_certificate(cert)
    digest = hashlib.sha256(data).digest()
    try:
        builder.build().verify(response, digest)
    except VerificationError as exc:
        reason = str(exc).split(": ErrorStack")[0]
        raise TimestampError(f"the timestamp token does not verify: {reason}") from exc
    info = response.tst_info
    signer = _signer(response, trusted)
    when = info.gen_time
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    iso = when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return TokenInfo(time=iso, authority=signer, serial=int(info.serial_number), digest=digest.hex())


def _signer(response: Any, trusted: list[Any]) -> str:
    from cryptography import x509

    infos = list(response.signed_data.signer_infos)
    certs = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates] + trusted
    for si in infos:
        for cert in certs:
            if cert.issuer == si.issuer and cert.serial_number == si.serial_number:
                return str(cert.subject.rfc4514_string())
    return str(infos[0].issuer.rfc4514_string()) if infos else "unknown"


def embedded_certificates_pem(reply: bytes) -> bytes:
    """The certificates the authority put in its reply, as PEM (stored beside the token)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from rfc3161_client import decode_timestamp_response

    response = decode_timestamp_response(reply)
    return b"".join(
        x509.load_der_x509_certificate(c).public_bytes(Encoding.PEM)
        for c in response.signed_data.certificates
    )
