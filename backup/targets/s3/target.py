"""The S3 target: the verbs over one bucket (see the package docstring for what it promises)."""

from __future__ import annotations

import base64
import builtins
import hashlib
import io
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from backup.profile import model
from backup.targets.base import (
    CHUNK,
    ObjectError,
    ObjectInfo,
    ObjectMissing,
    Progress,
    SourceChanged,
    TargetError,
    check_key,
    file_hash,
)
from backup.targets.s3.client import S3Connection
from backup.targets.s3.limits import COPY_LIMIT, MAX_OBJECT, MAX_PART, MIN_PART, MiB
from backup.targets.s3.multipart import choose_part_size, pending_uploads, put_multipart
from backup.targets.s3.objectlock import delete_versions, retain
from backup.targets.s3.reading import Download, stored_hashes

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CopySourceTypeDef


def _addressing(style: str | None, endpoint_url: str | None) -> Literal["auto", "virtual", "path"]:
    """botocore's ``addressing_style``: the one asked for; path for a service at its own
    endpoint (MinIO and most S3-compatible services); else botocore's own choice (auto)."""
    if style == "path" or (style is None and endpoint_url):
        return "path"
    if style == "virtual":
        return "virtual"
    if style is None:
        return "auto"
    raise ValueError(f"addressing_style must be path or virtual, not {style!r}")


class S3Target(S3Connection):
    """A bucket, or a prefix in one, holding each profile's objects under ``<prefix>/<profile>/``."""

    copy_limit = COPY_LIMIT
    opens_quickly = False  # the network

    def __init__(
        self,
        name: str,
        *,
        bucket: str,
        profile: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        storage_class: str | None = None,
        object_lock_days: int | None = None,
        object_lock_mode: str | None = None,
        aws_profile: str | None = None,
        addressing_style: str | None = None,
        resume_dir: Path | None = None,
        multipart_threshold: int = 128 * MiB,
        part_size: int = 16 * MiB,
        max_concurrency: int = 4,
        retry_mode: Literal["standard", "adaptive"] = "standard",
        max_attempts: int = 8,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        """``resume_dir``: where interrupted multipart uploads are recorded (None: they are
        aborted instead). ``multipart_threshold``, ``part_size`` (5 MiB to 5 GiB; larger when a
        file would need more than 10,000 parts) and ``max_concurrency`` (parts sent, or objects
        looked at, at once) shape uploads. ``retry_mode`` and ``max_attempts`` (retries after
        the first attempt) are botocore's; the timeouts are in seconds. ``addressing_style``:
        ``path`` (``host/bucket/key``) or ``virtual`` (``bucket.host/key``); None: path with an
        ``endpoint_url``, else botocore's choice."""
        if not bucket:
            raise ValueError(f"{name}: no bucket given")
        if part_size < MIN_PART or part_size > MAX_PART:
            raise ValueError(f"{name}: part_size must be between 5 MiB and 5 GiB, not {part_size}")
        if multipart_threshold < part_size:
            raise ValueError(f"{name}: multipart_threshold must be at least part_size")
        if max_concurrency < 1:
            raise ValueError(f"{name}: max_concurrency must be at least 1")
        if object_lock_days is not None and object_lock_days < 1:
            raise ValueError(f"{name}: object_lock_days must be at least 1")
        mode = (object_lock_mode or "GOVERNANCE").upper()
        if mode not in model.LOCK_MODES:
            raise ValueError(
                f"{name}: object_lock_mode must be GOVERNANCE or COMPLIANCE, not {object_lock_mode!r}"
            )
        if retry_mode not in ("standard", "adaptive"):
            raise ValueError(f"{name}: retry_mode must be standard or adaptive")
        super().__init__(
            name,
            bucket=bucket,
            profile=profile,
            prefix=prefix,
            endpoint_url=endpoint_url,
            region=region,
            aws_profile=aws_profile,
            config=Config(
                retries={"mode": retry_mode, "max_attempts": max_attempts},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_pool_connections=max(10, 2 * max_concurrency),
                # The body of every upload is covered by x-amz-checksum-sha256, a signed header
                # the service checks: over plain HTTP too, SigV4 need not hash each body once
                # more (over HTTPS botocore makes the same choice by itself).
                s3={
                    "payload_signing_enabled": False,
                    "addressing_style": _addressing(addressing_style, endpoint_url),
                },
            ),
            storage_class=storage_class,
            object_lock_days=object_lock_days,
            object_lock_mode=mode,
            resume_dir=resume_dir,
            multipart_threshold=multipart_threshold,
            part_size=part_size,
            max_concurrency=max_concurrency,
        )

    @classmethod
    def from_profile(cls, t: model.Target, profile_name: str, resume_dir: Path | None) -> S3Target:
        """The target a profile's ``type = "s3"`` entry describes."""
        if t.type != "s3" or not t.bucket:
            raise TargetError(f"{t.name}: not an S3 target with a bucket")
        try:
            return cls(
                t.name,
                bucket=t.bucket,
                profile=profile_name,
                prefix=t.prefix,
                endpoint_url=t.endpoint_url,
                region=t.region,
                storage_class=t.storage_class,
                object_lock_days=t.object_lock_days,
                object_lock_mode=t.object_lock_mode,
                aws_profile=t.aws_profile,
                addressing_style=t.addressing_style,
                resume_dir=resume_dir,
            )
        except ValueError as exc:
            raise TargetError(str(exc)) from None

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.root}"
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where

    # -- uploads ----------------------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes) -> None:
        full = self._key(key)
        self._put_object(full, key, bytes(data), hashlib.sha256(data).digest())

    def _put_object(self, full: str, key: str, data: bytes, digest: bytes) -> None:
        with self._errors(key):
            self._s3().put_object(
                Bucket=self.bucket,
                Key=full,
                Body=data,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(digest).decode("ascii"),
                **self._upload_args(digest.hex(), key),
            )

    def put_file(
        self,
        key: str,
        src: Path,
        sha256: str,
        size: int,
        progress: Progress | None = None,
        *,
        mtime_ns: int | None = None,
    ) -> None:
        """``mtime_ns`` lets a single PUT send the known SHA-256 without hashing the file again
        (see ``_put_small``); multipart uploads hash their parts as they read them."""
        full = self._key(key)
        sha256 = sha256.lower()
        if size > MAX_OBJECT:
            raise ObjectError(f"{src}: larger than the 5 TiB an S3 object may hold")
        try:
            if size < self.multipart_threshold:
                self._put_small(full, key, src, sha256, size, progress, mtime_ns)
            else:
                put_multipart(self, full, key, src, sha256, size, progress)
        except FileNotFoundError as exc:
            if exc.filename == str(src) or not os.path.exists(src):
                raise ObjectError(f"{src}: vanished before it could be backed up") from None
            raise ObjectError(f"{src}: {exc.strerror or exc}") from exc
        except OSError as exc:
            raise ObjectError(f"{src}: cannot be read ({exc.strerror or exc})") from exc

    def _put_small(
        self,
        full: str,
        key: str,
        src: Path,
        sha256: str,
        size: int,
        progress: Progress | None,
        mtime_ns: int | None = None,
    ) -> None:
        """One PUT. When the file's size and modification time are those it had when
        ``sha256`` was computed, before and after reading it, that SHA-256 is sent as it is
        (the service checks the bytes against it); otherwise the bytes are hashed here."""
        with open(src, "rb") as f:
            before = os.fstat(f.fileno())
            data = f.read(size + 1)  # one byte more shows a file that grew
            after = os.fstat(f.fileno())
        as_hashed = mtime_ns is not None and len(data) == size
        as_hashed = as_hashed and (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns)
        as_hashed = as_hashed and (after.st_size, after.st_mtime_ns) == (size, mtime_ns)
        if as_hashed:
            digest = bytes.fromhex(sha256)
        else:
            digest = hashlib.sha256(data).digest()
            if digest.hex() != sha256:
                raise SourceChanged(f"{src}: changed since it was scanned; run again to back it up")
        self._put_object(full, key, data, digest)
        if progress is not None:
            progress(len(data))

    def pending_uploads(self) -> builtins.list[dict[str, Any]]:
        """The interrupted multipart uploads recorded in ``resume_dir`` for this bucket."""
        return pending_uploads(self)

    # -- reading ----------------------------------------------------------------------------

    def stat(self, key: str) -> ObjectInfo | None:
        full = self._key(key)
        head = self._head(full, key)
        if head is None:
            return None
        return ObjectInfo(
            key, int(head["ContentLength"]), stored_hashes(head), head["LastModified"].timestamp()
        )

    def list(self, prefix: str, *, hashes: bool = False) -> Iterator[ObjectInfo]:
        full_prefix = self._full(prefix)
        paginator = self._s3().get_paginator("list_objects_v2")
        pool = (
            ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="s3-head")
            if hashes
            else None
        )
        try:
            with self._errors():
                for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
                    infos = []
                    for obj in page.get("Contents", []):
                        rel = obj["Key"][len(self.root) :]
                        try:
                            check_key(rel)
                        except ValueError:
                            continue  # not one of ours: a folder marker, an empty part
                        infos.append(ObjectInfo(rel, int(obj["Size"]), {}, obj["LastModified"].timestamp()))
                    if pool is not None:
                        infos = list(pool.map(self._with_hashes, infos))
                    yield from infos
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _with_hashes(self, info: ObjectInfo) -> ObjectInfo:
        head = self._head(self.root + info.key, info.key)
        return info if head is None else info._replace(hashes=stored_hashes(head))

    def open(self, key: str) -> IO[bytes]:
        full = self._key(key)
        with self._errors(key):
            response = self._s3().get_object(Bucket=self.bucket, Key=full)
        return io.BufferedReader(Download(self, full, key, response), buffer_size=CHUNK)

    # -- copy and delete --------------------------------------------------------------------

    def copy(self, src_key: str, dst_key: str) -> None:
        """A server-side copy with the source's metadata and storage class; it is retained as
        the target's settings say, or else as long as the source still is."""
        src, dst = self._key(src_key), self._key(dst_key)
        head = self._head(src, src_key)
        if head is None:
            raise ObjectMissing(f"{src_key}: not on {self.name}")
        args: dict[str, Any] = {"ChecksumAlgorithm": "SHA256", "CopySourceIfMatch": head["ETag"]}
        args["StorageClass"] = head.get("StorageClass") or "STANDARD"
        lock = self._lock_args()
        until = head.get("ObjectLockRetainUntilDate")
        if (
            not lock
            and head.get("ObjectLockMode")
            and until is not None
            and until > datetime.now(timezone.utc)
        ):
            lock = {"ObjectLockMode": head["ObjectLockMode"], "ObjectLockRetainUntilDate": until}
        source: CopySourceTypeDef = {"Bucket": self.bucket, "Key": src}
        client = self._s3()
        with self._errors(src_key):
            if int(head["ContentLength"]) <= self.copy_limit:
                copied = client.copy_object(
                    Bucket=self.bucket, Key=dst, CopySource=source, MetadataDirective="COPY", **args
                )
                if lock:
                    retain(self, dst, dst_key, copied.get("VersionId"), lock)
                return
            args["Metadata"] = head.get("Metadata", {})
            if head.get("ContentType"):
                args["ContentType"] = head["ContentType"]
            size = int(head["ContentLength"])
            transfer = TransferConfig(
                multipart_threshold=self.copy_limit,
                multipart_chunksize=max(choose_part_size(self, size), MIN_PART),
                max_concurrency=self.max_concurrency,
                use_threads=True,
            )
            client.copy(source, self.bucket, dst, ExtraArgs=args, Config=transfer)
        if lock:
            retain(self, dst, dst_key, None, lock)

    def delete(self, key: str) -> None:
        """Every version of the key, or ``Locked`` (see ``objectlock.delete_versions``)."""
        delete_versions(self, key)

    def local_hash(self, name: str, path: Path) -> str:
        return file_hash(name, path)
