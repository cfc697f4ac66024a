"""Reading objects: a download that breaks off resumes from where it stopped (a range request
pinned to the same ETag and version), and the whole object's SHA-256 read from its headers."""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ConnectionError, FlexibleChecksumError, HTTPClientError, IncompleteReadError

from backup.targets.base import CHUNK, ObjectError, Unavailable
from backup.targets.s3.client import S3Connection

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef, HeadObjectOutputTypeDef

DOWNLOAD_RESUMES = 5

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def stored_hashes(head: HeadObjectOutputTypeDef) -> dict[str, str]:
    """The whole object's SHA-256 from its metadata, or from a full-object checksum."""
    meta = head.get("Metadata", {}).get("sha256", "").lower()
    if _SHA256_HEX.match(meta):
        return {"sha256": meta}
    checksum = head.get("ChecksumSHA256", "")
    if checksum and "-" not in checksum and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT":
        try:
            raw = base64.b64decode(checksum, validate=True)
        except (binascii.Error, ValueError):
            return {}
        if len(raw) == 32:
            return {"sha256": raw.hex()}
    return {}


class Download(io.RawIOBase):
    """An object's bytes from get_object; when the connection breaks off, the rest is asked for
    again (a range request pinned to the same ETag) and reading goes on."""

    def __init__(self, target: S3Connection, full: str, key: str, response: GetObjectOutputTypeDef) -> None:
        super().__init__()
        self._target = target
        self._full = full
        self._key = key
        self._body = response["Body"]
        self._size = int(response["ContentLength"])
        self._etag = response["ETag"]
        self._version = response.get("VersionId")
        self._pos = 0
        self._resumes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        chunks = []
        while data := self._read(CHUNK):
            chunks.append(data)
        return b"".join(chunks)

    def _read(self, n: int) -> bytes:
        if n <= 0 or self._pos >= self._size:
            return b""
        while True:
            try:
                data = self._body.read(min(n, self._size - self._pos))
                if not data:
                    raise IncompleteReadError(actual_bytes=self._pos, expected_bytes=self._size)
            except (HTTPClientError, ConnectionError, IncompleteReadError) as exc:
                self._resume(exc)
                continue
            except FlexibleChecksumError as exc:
                raise ObjectError(
                    f"{self._key}: the bytes received do not match the stored checksum"
                ) from exc
            self._pos += len(data)
            return data

    def _resume(self, exc: Exception) -> None:
        self._resumes += 1
        if self._resumes > DOWNLOAD_RESUMES:
            raise Unavailable(
                f"{self._target.name}: {self._key}: the download keeps breaking off ({exc})"
            ) from exc
        self._body.close()
        time.sleep(min(0.1 * 2**self._resumes, 2.0))
        args: dict[str, Any] = {"VersionId": self._version} if self._version else {}
        t = self._target
        with t._errors(self._key):
            response = t._s3().get_object(
                Bucket=t.bucket, Key=self._full, Range=f"bytes={self._pos}-", IfMatch=self._etag, **args
            )
        self._body = response["Body"]

    def close(self) -> None:
        body = getattr(self, "_body", None)
        if not self.closed and body is not None:
            body.close()
        super().close()
