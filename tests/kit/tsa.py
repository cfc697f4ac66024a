"""A real RFC 3161 timestamp authority on 127.0.0.1: a small HTTP server that answers each
request with ``openssl ts -reply``, signing with a TSA certificate issued by a test CA.
``tsa.online = False`` makes it answer 503, as an authority that is down or out of reach.

``LocalTSA(folder, chain=True)`` signs with a certificate issued by an intermediate CA that the
root issued (root -> intermediate -> TSA, as DigiCert and Sectigo do): the reply carries the
signer and the intermediate, and only the root is the authority's certificate a profile keeps,
so the intermediate must be found among the reply's certificates. ``tsa.order`` rearranges the
certificates of every reply after openssl made it (``"reverse"``, ``"shuffle"``, or a list of
indexes), as real authorities send them in whatever order they like: the signature does not
cover that set, so the token stays valid; ``openssl ts -reply -in`` still reads it.

Loaded as a pytest plugin, it also sets ``KEEPMARK_TSA_AUTHORITIES`` to nothing for the whole
run: ``backup init`` then offers no public authority, so no test ever contacts one."""

from __future__ import annotations

import datetime
import os
import random
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OPENSSL_CONF = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _certificate(
    subject: str,
    issuer: x509.Name | None,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    *extensions: x509.ExtensionType,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer or _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
    )
    for ext in extensions:
        builder = builder.add_extension(ext, critical=True)
    return builder.sign(signer, hashes.SHA256())


def pytest_configure(config: pytest.Config) -> None:
    # No public timestamp authority in tests: `backup init` (and every `backup` the tests start,
    # which inherit this environment) offers none unless a test names one.
    os.environ.setdefault("KEEPMARK_TSA_AUTHORITIES", "")


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


CA_USAGE = x509.KeyUsage(False, False, False, False, False, True, True, False, False)


def make_authority(
    folder: Path, cn: str = "Keepmark Test TSA", *, chain: bool = False
) -> tuple[Path, Path, Path]:
    """(ca.pem, tsa.pem, tsa.key): a CA and a timestamping certificate it issued; with
    ``chain``, the root issues an intermediate CA (``intermediate.pem``) that issues the
    timestamping certificate."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        f"{cn} Root", None, ca_key, ca_key, x509.BasicConstraints(ca=True, path_length=None), CA_USAGE
    )
    issuer, issuer_key = ca, ca_key
    folder.mkdir(parents=True, exist_ok=True)
    if chain:
        mid_key = ec.generate_private_key(ec.SECP256R1())
        issuer = _certificate(
            f"{cn} Intermediate",
            ca.subject,
            mid_key,
            ca_key,
            x509.BasicConstraints(ca=True, path_length=0),
            CA_USAGE,
        )
        issuer_key = mid_key
        (folder / "intermediate.pem").write_bytes(_pem(issuer))
    cert = _certificate(
        cn,
        issuer.subject,
        key,
        issuer_key,
        x509.BasicConstraints(ca=False, path_length=None),
        x509.KeyUsage(True, False, False, False, False, False, False, False, False),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
    )
    ca_pem, tsa_pem, tsa_key = folder / "ca.pem", folder / "tsa.pem", folder / "tsa.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tsa_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tsa_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_pem, tsa_pem, tsa_key


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the contents, end) of the DER element at ``at``."""
    tag, n = data[at], data[at + 1]
    start = at + 2
    if n & 0x80:
        size = int.from_bytes(data[start : start + (n & 0x7F)], "big")
        start += n & 0x7F
    else:
        size = n
    return tag, start, start + size


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, offset, contents start, end) of each element between ``start`` and ``end``."""
    out, at = [], start
    while at < end:
        tag, cs, ce = _tlv(data, at)
        out.append((tag, at, cs, ce))
        at = ce
    return out


def reorder_certificates(reply: bytes, order: str | list[int], rng: random.Random | None = None) -> bytes:
    """The reply with the certificates of its SignedData in another order (same bytes, same
    length: only the elements of ``certificates [0] IMPLICIT SET OF`` move)."""
    _, s, e = _tlv(reply, 0)  # TimeStampResp
    token = _children(reply, s, e)[1]  # the ContentInfo after the status
    _, cs, ce = _tlv(reply, _children(reply, token[2], token[3])[1][2])  # [0] EXPLICIT SignedData
    certs = next(c for c in _children(reply, cs, ce) if c[0] == 0xA0)
    items = [reply[off:end] for _, off, _, end in _children(reply, certs[2], certs[3])]
    if order == "reverse":
        moved = items[::-1]
    elif order == "shuffle":
        moved = items[:]
        while len(moved) > 1 and moved == items:
            (rng or random.Random()).shuffle(moved)
    else:
        moved = [items[i] for i in order]
    return reply[: certs[2]] + b"".join(moved) + reply[certs[3] :]


class LocalTSA:
    def __init__(
        self,
        folder: Path,
        *,
        chain: bool = False,
        order: str | list[int] | None = None,
        send_root: bool = False,
    ) -> None:
        """``chain``: the signer is issued by an intermediate, which replies carry (and the root
        too with ``send_root``); ``order``: see the module's doc."""
        self.folder = folder
        self.ca_pem, self.tsa_pem, self.tsa_key = make_authority(folder, chain=chain)
        self.intermediate_pem: Path | None = None
        if chain:
            self.intermediate_pem = folder / "chain.pem"
            sent = (folder / "intermediate.pem").read_bytes() + (
                self.ca_pem.read_bytes() if send_root else b""
            )
            self.intermediate_pem.write_bytes(sent)
        self.order = order
        self.replies: list[bytes] = []  # every reply sent, as sent
        (folder / "serial").write_text("01\n")
        self.conf = folder / "openssl.cnf"
        self.conf.write_text(OPENSSL_CONF.format(dir=folder))
        self.online = True
        self.answered = 0
        self.lock = threading.Lock()
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if not tsa.online:
                    self.send_error(503, "down for maintenance")
                    return
                reply = tsa.reply(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsr"
        self.thread = threading.Thread(target=self.server.serve_forever, name="local-tsa", daemon=True)
        self.thread.start()

    def reply(self, query: bytes) -> bytes:
        with self.lock, tempfile.TemporaryDirectory() as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(query)
            subprocess.run(
                [
                    "openssl",
                    "ts",
                    "-reply",
                    "-config",
                    str(self.conf),
                    "-section",
                    "tsa_config",
                    "-queryfile",
                    str(q),
                    "-inkey",
                    str(self.tsa_key),
                    "-signer",
                    str(self.tsa_pem),
                    *(["-chain", str(self.intermediate_pem)] if self.intermediate_pem else []),
                    "-out",
                    str(r),
                ],
                check=True,
                capture_output=True,
            )
            self.answered += 1
            reply = r.read_bytes()
            if self.order is not None:
                reply = reorder_certificates(reply, self.order)
            self.replies.append(reply)
            return reply

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[LocalTSA]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    authority = LocalTSA(tmp_path / "tsa")
    try:
        yield authority
    finally:
        authority.close()


@pytest.fixture
def chained_tsa(tmp_path: Path) -> Iterator[LocalTSA]:
    """An authority whose signer is issued by an intermediate CA, the root being what the profile
    keeps; its replies carry the certificates in reverse order."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    authority = LocalTSA(tmp_path / "chained-tsa", chain=True, order="reverse")
    try:
        yield authority
    finally:
        authority.close()
