"""RFC 3161 trusted timestamps: build a request, send it, and verify a token offline.

A token proves that a timestamp authority (TSA) saw a SHA-256 digest at the time it signed
(``genTime``). It is verified against the authority's certificates: the signature over the
token, the signing certificate's chain up to one of the given certificates (valid at the
token's time), its ``timeStamping`` extended key usage, the request's nonce, and the digest
(the message imprint) against the data. Built on ``rfc3161-client``; no network here except
``send``.

Real authorities send the certificates of a reply (the signer, its intermediates, sometimes the
root) in whatever order they like, and ``granted with modifications`` as well as ``granted``:
``openssl ts`` takes both, while ``rfc3161-client`` reads only DER with every SET sorted and a
plain ``granted``. ``readable`` makes a copy it reads: the sets of the SignedData sorted, the
status ``granted`` (neither is covered by the authority's signature: the signed attributes are
left as they are). The reply kept on disk is always the authority's own bytes.
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


# DER tags met on the way to the sets of a reply's SignedData.
_SEQUENCE, _SET, _INTEGER, _CONTEXT_0, _CONTEXT_1 = 0x30, 0x31, 0x02, 0xA0, 0xA1
_GRANTED, _GRANTED_WITH_MODS = 0, 1


def _element(data: bytes, at: int, end: int) -> tuple[int, int, int]:
    """(tag, start of the contents, end of the element) of the DER element at ``at``."""
    if at + 2 > end:
        raise ValueError(f"truncated DER at byte {at}")
    tag, first = data[at], data[at + 1]
    start = at + 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > end:
            raise ValueError(f"unsupported DER length at byte {at}")
        size = int.from_bytes(data[start : start + count], "big")
        start += count
    else:
        size = first
    if start + size > end:
        raise ValueError(f"DER element at byte {at} runs past its container")
    return tag, start, start + size


def _elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, offset, contents start, end) of each element from ``start`` to ``end``."""
    out, at = [], start
    while at < end:
        tag, cs, ce = _element(data, at, end)
        out.append((tag, at, cs, ce))
        at = ce
    return out


def readable(reply: bytes) -> bytes:
    """The reply as ``rfc3161-client`` reads it: the certificates (and CRLs, digest algorithms,
    signer infos) of the token's SignedData in DER order, and a ``granted with modifications``
    status as ``granted``. Same length, same signed content; a reply that is not shaped like a
    TimeStampResp comes back as it is (the parser then says what is wrong)."""
    try:
        buf = bytearray(reply)
        tag, s, e = _element(reply, 0, len(reply))
        parts = _elements(reply, s, e) if tag == _SEQUENCE else []
        if not parts or parts[0][0] != _SEQUENCE:
            return reply
        status = _elements(reply, parts[0][2], parts[0][3])
        first = status[0] if status else None
        if (
            first
            and first[0] == _INTEGER
            and first[3] - first[2] == 1
            and reply[first[2]] == _GRANTED_WITH_MODS
        ):
            buf[first[2]] = _GRANTED
        if len(parts) < 2 or parts[1][0] != _SEQUENCE:
            return bytes(buf)
        content = _elements(reply, parts[1][2], parts[1][3])  # ContentInfo: OID, [0] EXPLICIT
        if len(content) < 2 or content[1][0] != _CONTEXT_0:
            return bytes(buf)
        tag, s, e = _element(reply, content[1][2], content[1][3])  # SignedData
        if tag != _SEQUENCE:
            return bytes(buf)
        for tag, _, cs, ce in _elements(reply, s, e):
            if tag in (_SET, _CONTEXT_0, _CONTEXT_1):
                items = sorted(reply[off:end] for _, off, _, end in _elements(reply, cs, ce))
                buf[cs:ce] = b"".join(items)
        return bytes(buf)
    except ValueError:
        return reply


def _decode(reply: bytes) -> Any:
    from rfc3161_client import decode_timestamp_response

    try:
        return decode_timestamp_response(readable(reply))
    except ValueError as exc:
        raise TimestampError(f"not a timestamp reply ({exc})") from exc


def verify(reply: bytes, data: bytes, certificates_pem: bytes, *, nonce: int | None = None) -> TokenInfo:
    """Verify a DER TimeStampResp over ``data`` against the authority's certificates (PEM, one
    or more: the signing certificate must chain up to one of them, through the intermediates the
    reply carries, in whatever order). Raises ``TimestampError``."""
    from rfc3161_client import PKIStatus, VerificationError, VerifierBuilder

    response = _decode(reply)
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

    response = _decode(reply)
    return b"".join(
        x509.load_der_x509_certificate(c).public_bytes(Encoding.PEM)
        for c in response.signed_data.certificates
    )
