"""A real RFC 3161 timestamp authority on 127.0.0.1: a small HTTP server that answers each
request with ``openssl ts -reply``, signing with a TSA certificate issued by a test CA.
``tsa.online = False`` makes it answer 503, as an authority that is down or out of reach."""

from __future__ import annotations

import datetime
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


def make_authority(folder: Path, cn: str = "Keepmark Test TSA") -> tuple[Path, Path, Path]:
    """(ca.pem, tsa.pem, tsa.key): a CA and a timestamping certificate it issued."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        f"{cn} Root",
        None,
        ca_key,
        ca_key,
        x509.BasicConstraints(ca=True, path_length=None),
        x509.KeyUsage(False, False, False, False, False, True, True, False, False),
    )
    cert = _certificate(
        cn,
        ca.subject,
        key,
        ca_key,
        x509.BasicConstraints(ca=False, path_length=None),
        x509.KeyUsage(True, False, False, False, False, False, False, False, False),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem, tsa_pem, tsa_key = folder / "ca.pem", folder / "tsa.pem", folder / "tsa.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tsa_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tsa_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_pem, tsa_pem, tsa_key


class LocalTSA:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca_pem, self.tsa_pem, self.tsa_key = make_authority(folder)
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
                    "-out",
                    str(r),
                ],
                check=True,
                capture_output=True,
            )
            self.answered += 1
            return r.read_bytes()

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
