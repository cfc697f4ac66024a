"""SHA-256 as the inventory and the targets write it: lowercase hex (and base64, as S3's
``x-amz-checksum-sha256`` header carries it)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

CHUNK = 1 << 20


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_b64(data: bytes) -> str:
    """The base64 SHA-256 of ``data``, as S3's checksum headers carry it."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
