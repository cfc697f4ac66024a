"""An S3 bucket (AWS or any S3-compatible service), through boto3.

Objects live under ``<prefix>/<profile>/<key>`` in the bucket. Credentials come only from the
AWS credential chain: environment variables, the shared credentials and config files, a named
profile (``aws_profile``), or the instance/container role.

Every upload carries a SHA-256 checksum (``x-amz-checksum-sha256``, per part for multipart
uploads) so the service checks the bytes it stores, and the file's whole hex SHA-256 in user
metadata (``x-amz-meta-sha256``), which listings report as ``hashes={"sha256": ...}``. Files at
or above ``multipart_threshold`` are sent as a multipart upload: the file is read once, parts
are uploaded in parallel, and the upload is only completed once the whole file hashed to the
expected SHA-256. With a ``resume_dir``, an interrupted multipart upload is recorded there and
the next upload of the same file under the same key sends only the parts still missing.

Every upload gets ``storage_class`` when one is set. Object Lock: with ``object_lock_days``,
every stored object is retained (``GOVERNANCE`` by default, or ``COMPLIANCE``) until that many
days after it was stored (for a multipart upload or a copy, after it was completed). Deleting
removes every version of the key, so that space is really freed on a versioned bucket, and
refuses with ``Locked`` (removing nothing) while a version is retained or under legal hold.
Copies are made by the service, keeping metadata, storage class and retention.

Throttling, server errors and dropped connections are retried by botocore with backoff; a
download that breaks off resumes from where it stopped.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import hashlib
import io
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    FlexibleChecksumError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from backup.profile import model
from backup.targets.base import (
    CHUNK,
    Locked,
    ObjectError,
    ObjectInfo,
    ObjectMissing,
    Progress,
    SourceChanged,
    TargetError,
    TargetFull,
    Unavailable,
    check_key,
    file_hash,
)
from inventory.atomic import fsync_dir

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        CompletedPartTypeDef,
        CopySourceTypeDef,
        GetObjectOutputTypeDef,
        HeadObjectOutputTypeDef,
        ObjectLockRetentionTypeDef,
    )

MiB = 1024 * 1024
MIN_PART = 5 * MiB
MAX_PART = 5 * 1024 * MiB
MAX_PARTS = 10_000
MAX_OBJECT = 5 * 1024 * 1024 * MiB
MAX_KEY_BYTES = 1024
COPY_LIMIT = 5 * 1024 * MiB  # copy_object's limit; bigger objects are copied part by part
DOWNLOAD_RESUMES = 5
RECORD_VERSION = 1

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_MISSING = {"404", "NoSuchKey", "NotFound"}
_NO_BUCKET = {"NoSuchBucket"}
_DENIED = {
    "403",
    "AccessDenied",
    "AllAccessDisabled",
    "AccountProblem",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidSecurity",
    "InvalidToken",
    "RequestTimeTooSkewed",
    "SignatureDoesNotMatch",
    "TokenRefreshRequired",
}
_FULL = {
    "507",
    "InsufficientStorage",
    "QuotaExceeded",
    "ServiceQuotaExceeded",
    "StorageFull",
    "XMinioAdminBucketQuotaExceeded",
    "XMinioStorageFull",
}
_WRONG_REGION = {"301", "PermanentRedirect", "AuthorizationHeaderMalformed"}
_CONFIG = {"InvalidStorageClass", "InvalidBucketName", "InvalidRequest"}
_NO_CREDENTIALS = (
    "no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add them to the "
    "AWS credentials file with `aws configure`, or name a profile from it with aws_profile in the "
    "target's settings"
)


class S3Target:
    """A bucket, or a prefix in one, holding each profile's objects under ``<prefix>/<profile>/``."""

    copy_limit = COPY_LIMIT

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
        the first attempt) are botocore's; the timeouts are in seconds."""
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
        self.name = name
        self.bucket = bucket
        self.profile = profile
        self.prefix = prefix
        self.root = "".join(f"{part}/" for part in [*prefix.split("/"), profile] if part)
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.storage_class = storage_class or None
        self.object_lock_days = object_lock_days
        self.object_lock_mode = mode if object_lock_days else None
        self.aws_profile = aws_profile or None
        self.resume_dir = resume_dir
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.max_concurrency = max_concurrency
        self._config = Config(
            retries={"mode": retry_mode, "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max(10, 2 * max_concurrency),
            # The body of every upload is covered by x-amz-checksum-sha256, a signed header the
            # service checks: over plain HTTP too, SigV4 need not hash each body once more (over
            # HTTPS botocore makes the same choice by itself).
            s3=(
                {"payload_signing_enabled": False, "addressing_style": "path"}
                if self.endpoint_url
                else {"payload_signing_enabled": False}
            ),
        )
        self._client: S3Client | None = None
        self._client_lock = threading.Lock()

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
                resume_dir=resume_dir,
            )
        except ValueError as exc:
            raise TargetError(str(exc)) from None

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.root}"
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where

    # -- client and errors ------------------------------------------------------------------

    def _s3(self) -> S3Client:
        with self._client_lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> S3Client:
        try:
            session = boto3.session.Session(profile_name=self.aws_profile)
            credentials = session.get_credentials()
        except ProfileNotFound as exc:
            missing = exc.kwargs.get("profile") or self.aws_profile
            raise TargetError(
                f"{self.name}: the AWS profile {missing!r} is not in the AWS config files; "
                f"create it with `aws configure --profile {missing}` or fix aws_profile (or AWS_PROFILE)"
            ) from None
        except BotoCoreError as exc:
            raise TargetError(
                f"{self.name}: the AWS credentials are incomplete or unusable ({exc})"
            ) from None
        if credentials is None:
            raise TargetError(f"{self.name}: {_NO_CREDENTIALS}")
        client = session.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=self._config
        )
        return client

    def _client_error(self, exc: ClientError, key: str | None) -> Exception:
        code = _code(exc)
        message = exc.response.get("Error", {}).get("Message") or code
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        where = f"{key}: " if key else ""
        if code in _NO_BUCKET:
            return Unavailable(f"{self.name}: {self._no_bucket()}")
        if code in _MISSING and key:
            return ObjectMissing(f"{key}: not on {self.name}")
        if code in _FULL or status == 507:
            return TargetFull(f"{self.name}: the bucket {self.bucket} has no room left ({code}: {message})")
        if code in _DENIED:
            return TargetError(
                f"{self.name}: {where}access denied ({code}: {message}); {self._check_access()}"
            )
        if code in _WRONG_REGION:
            region = (
                exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
            )
            hint = f"set region = {region!r}" if region else "check region"
            return TargetError(
                f"{self.name}: the bucket {self.bucket} is in another region; {hint} in the profile"
            )
        if code in _CONFIG:
            return TargetError(f"{self.name}: {where}{code}: {message}")
        if code == "EntityTooLarge":
            return ObjectError(f"{where}too large for {self.name} ({message})")
        if code == "InvalidObjectState":
            return ObjectError(f"{where}archived in a cold storage class; restore it first ({message})")
        if code in ("PreconditionFailed", "412"):
            return ObjectError(f"{where}changed on {self.name} while it was being read")
        if status >= 500 or code in ("SlowDown", "503", "ServiceUnavailable", "InternalError"):
            return Unavailable(f"{self.name}: the service keeps failing ({code}: {message}); try again later")
        return ObjectError(f"{where}{code}: {message}")

    def _no_bucket(self) -> str:
        at = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"the bucket {self.bucket!r} does not exist{at}; create it or fix bucket in the profile"

    def _check_access(self) -> str:
        profile = f"the AWS profile {self.aws_profile!r}" if self.aws_profile else "the AWS credentials"
        return f"check {profile} and that they may use the bucket {self.bucket}"

    @contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        """Turns boto3's exceptions into the target's."""
        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, key) from exc
        except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as exc:
            raise TargetError(f"{self.name}: {_NO_CREDENTIALS} ({exc})") from exc
        except (ConnectionError, HTTPClientError) as exc:
            at = self.endpoint_url or "S3"
            raise Unavailable(f"{self.name}: cannot reach {at} ({exc}); check the network") from exc
        except FlexibleChecksumError as exc:
            raise ObjectError(f"{key}: the bytes received do not match the stored checksum ({exc})") from exc

    def _key(self, key: str) -> str:
        """The object key in the bucket for a target key."""
        return self._full(check_key(key))

    def _full(self, rel: str) -> str:
        full = self.root + rel
        try:
            size = len(full.encode("utf-8"))
        except UnicodeEncodeError:
            shown = rel.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            raise ObjectError(
                f"{shown}: the name is not valid UTF-8 (a file name in another encoding?) and S3 keys "
                "must be; rename the file"
            ) from None
        if size > MAX_KEY_BYTES:
            raise ObjectError(
                f"{rel}: the name is too long for S3 ({size} bytes with the prefix; 1024 at most)"
            )
        return full

    def _upload_args(self, sha256: str, key: str) -> dict[str, Any]:
        """Metadata, storage class and lock settings for a new object. Manifests and the
        inventory copy (anything outside originals/ and versions/) never go to an archive class
        (GLACIER, DEEP_ARCHIVE), whose objects cannot be read without a restore first."""
        args: dict[str, Any] = {"Metadata": {"sha256": sha256}}
        archive = self.storage_class in ("GLACIER", "DEEP_ARCHIVE")
        if self.storage_class and not (archive and not key.startswith(("originals/", "versions/"))):
            args["StorageClass"] = self.storage_class
        args.update(self._lock_args())
        return args

    def _lock_args(self) -> dict[str, Any]:
        if not self.object_lock_days:
            return {}
        until = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=self.object_lock_days)
        return {"ObjectLockMode": self.object_lock_mode, "ObjectLockRetainUntilDate": until}

    # -- session ----------------------------------------------------------------------------

    def open_session(self) -> None:
        client = self._s3()
        with self._errors():
            try:
                client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                code = _code(exc)
                if code in _MISSING or code in _NO_BUCKET:
                    raise Unavailable(f"{self.name}: {self._no_bucket()}") from None
                if code not in _DENIED:
                    raise
                denied = self._denied_reason()
                if denied is not None:
                    raise denied from None

    def _denied_reason(self) -> Exception | None:
        """HEAD answers carry no error code: a listing says why access was denied (None when
        the listing is allowed after all)."""
        try:
            self._s3().list_objects_v2(Bucket=self.bucket, Prefix=self.root, MaxKeys=1)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "AccessDenied")
            message = error.get("Message", "")
            why = f"{code}: {message}" if message else code
            return TargetError(
                f"{self.name}: access to the bucket {self.bucket} denied ({why}); {self._check_access()}"
            )
        except BotoCoreError as exc:
            return TargetError(f"{self.name}: access to the bucket {self.bucket} denied ({exc})")
        return None

    def close(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

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
                self._put_multipart(full, key, src, sha256, size, progress)
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

    def _part_size(self, size: int) -> int:
        part = self.part_size
        if -(-size // part) > MAX_PARTS:
            part = -(-size // MAX_PARTS)
            part = -(-part // MiB) * MiB
        return part

    def _put_multipart(
        self, full: str, key: str, src: Path, sha256: str, size: int, progress: Progress | None
    ) -> None:
        client = self._s3()
        settings = {
            "storage_class": self.storage_class,
            "lock_mode": self.object_lock_mode,
            "lock_days": self.object_lock_days,
        }
        record_path = self._record_path(full)
        upload_id, part_size, existing = self._resumable(record_path, full, key, sha256, size, settings)
        if upload_id is None:
            part_size = self._part_size(size)
            with self._errors(key):
                upload_id = client.create_multipart_upload(
                    Bucket=self.bucket, Key=full, ChecksumAlgorithm="SHA256", **self._upload_args(sha256, key)
                )["UploadId"]
            record = {
                "version": RECORD_VERSION,
                "endpoint": self.endpoint_url,
                "bucket": self.bucket,
                "key": full,
                "upload_id": upload_id,
                "sha256": sha256,
                "size": size,
                "part_size": part_size,
                "settings": settings,
                "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
            if record_path is not None and not _save_record(record_path, record):
                record_path = None
        try:
            parts = self._send_parts(full, key, upload_id, src, sha256, size, part_size, existing, progress)
            with self._errors(key):
                done = client.complete_multipart_upload(
                    Bucket=self.bucket, Key=full, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except SourceChanged:
            self._abort(full, upload_id)
            _drop_record(record_path)
            raise
        except BaseException:
            if record_path is None:  # nothing to resume from: leave no parts behind
                self._abort(full, upload_id)
            raise
        _drop_record(record_path)
        self._retain(full, key, done.get("VersionId"))

    def _retain(
        self, full: str, key: str, version_id: str | None, lock: dict[str, Any] | None = None
    ) -> None:
        """Set the retention of an object the service assembled (a completed multipart upload, a
        copy) to ``lock``, by default the target's own counted from now: a resumed upload was
        started earlier, and some services drop the lock asked for at the start of a
        multipart upload or with a copy. If that fails, the new unlocked version is removed."""
        lock = lock or self._lock_args()
        if not lock:
            return
        args: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        retention: ObjectLockRetentionTypeDef = {
            "Mode": lock["ObjectLockMode"],
            "RetainUntilDate": lock["ObjectLockRetainUntilDate"],
        }
        try:
            with self._errors(key):
                self._s3().put_object_retention(Bucket=self.bucket, Key=full, Retention=retention, **args)
        except (ObjectError, TargetError):
            if version_id:
                try:
                    self._s3().delete_object(Bucket=self.bucket, Key=full, VersionId=version_id)
                except (BotoCoreError, ClientError):
                    pass
            raise

    def _resumable(
        self,
        record_path: Path | None,
        full: str,
        key: str,
        sha256: str,
        size: int,
        settings: dict[str, Any],
    ) -> tuple[str | None, int, dict[int, dict[str, Any]]]:
        """The upload to go on with (id, part size, parts already there), or None to start anew."""
        record = _load_record(record_path)
        if record is None or record_path is None:
            return None, 0, {}
        same = (
            record.get("endpoint") == self.endpoint_url
            and record.get("bucket") == self.bucket
            and record.get("key") == full
        )
        upload_id = str(record.get("upload_id", ""))
        if not same or not upload_id:
            _drop_record(record_path)
            return None, 0, {}
        if record.get("sha256") != sha256 or record.get("size") != size or record.get("settings") != settings:
            self._abort(full, upload_id)
            _drop_record(record_path)
            return None, 0, {}
        parts: dict[int, dict[str, Any]] = {}
        try:
            with self._errors(key):
                paginator = self._s3().get_paginator("list_parts")
                for page in paginator.paginate(Bucket=self.bucket, Key=full, UploadId=upload_id):
                    for part in page.get("Parts", []):
                        parts[int(part["PartNumber"])] = dict(part)
        except ObjectError:  # the upload is gone (completed, aborted or expired)
            _drop_record(record_path)
            return None, 0, {}
        part_size = record.get("part_size")
        if not isinstance(part_size, int) or not MIN_PART <= part_size <= MAX_PART:
            self._abort(full, upload_id)
            _drop_record(record_path)
            return None, 0, {}
        return upload_id, part_size, parts

    def _send_parts(
        self,
        full: str,
        key: str,
        upload_id: str,
        src: Path,
        sha256: str,
        size: int,
        part_size: int,
        existing: dict[int, dict[str, Any]],
        progress: Progress | None,
    ) -> builtins.list[CompletedPartTypeDef]:
        """Reads ``src`` once, hashing it whole, and uploads its parts in parallel (skipping the
        parts ``existing`` already holds with the same bytes); the parts for completion. At
        most ``max_concurrency`` + 1 parts are held in memory."""
        whole = hashlib.sha256()
        done: dict[int, CompletedPartTypeDef] = {}
        pending: dict[Future[str], tuple[int, int, str]] = {}

        def collect(futures: set[Future[str]]) -> None:
            for fut in futures:
                number, length, checksum = pending.pop(fut)
                done[number] = {"PartNumber": number, "ETag": fut.result(), "ChecksumSHA256": checksum}
                if progress is not None:
                    progress(length)

        pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="s3-part")
        try:
            with open(src, "rb") as f:
                number = total = 0
                while data := f.read(part_size):
                    number += 1
                    total += len(data)
                    if total > size:
                        raise SourceChanged(f"{src}: grew since it was scanned; run again to back it up")
                    whole.update(data)
                    part_digest = hashlib.sha256(data).digest()
                    checksum = base64.b64encode(part_digest).decode("ascii")
                    have = existing.get(number)
                    if have is not None and _same_part(have, data, checksum):
                        done[number] = {
                            "PartNumber": number,
                            "ETag": str(have["ETag"]),
                            "ChecksumSHA256": checksum,
                        }
                        if progress is not None:
                            progress(len(data))
                        continue
                    while len(pending) >= self.max_concurrency:
                        finished, _ = wait(set(pending), return_when=FIRST_COMPLETED)
                        collect(finished)
                    fut = pool.submit(self._upload_part, full, key, upload_id, number, data, checksum)
                    pending[fut] = (number, len(data), checksum)
                    del data
            while pending:
                finished, _ = wait(set(pending), return_when=FIRST_COMPLETED)
                collect(finished)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if whole.hexdigest() != sha256:
            raise SourceChanged(f"{src}: changed since it was scanned; run again to back it up")
        return [done[n] for n in sorted(done)]

    def _upload_part(
        self, full: str, key: str, upload_id: str, number: int, data: bytes, checksum: str
    ) -> str:
        with self._errors(key):
            response = self._s3().upload_part(
                Bucket=self.bucket,
                Key=full,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
        return response["ETag"]

    def _abort(self, full: str, upload_id: str) -> None:
        """Abort a multipart upload, as well as can be: a failure here only leaves parts behind."""
        try:
            self._s3().abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
        except (BotoCoreError, ClientError, TargetError):
            pass

    def _record_path(self, full: str) -> Path | None:
        if self.resume_dir is None:
            return None
        where = f"{self.endpoint_url or ''}\0{self.bucket}\0{full}".encode("utf-8", "surrogatepass")
        return self.resume_dir / f"s3-upload-{hashlib.sha256(where).hexdigest()[:32]}.json"

    def pending_uploads(self) -> builtins.list[dict[str, Any]]:
        """The interrupted multipart uploads recorded in ``resume_dir`` for this bucket."""
        if self.resume_dir is None or not self.resume_dir.is_dir():
            return []
        found = []
        for path in sorted(self.resume_dir.glob("s3-upload-*.json")):
            record = _load_record(path)
            if record is not None and record.get("bucket") == self.bucket:
                found.append(record)
        return found

    # -- reading ----------------------------------------------------------------------------

    def stat(self, key: str) -> ObjectInfo | None:
        full = self._key(key)
        head = self._head(full, key)
        if head is None:
            return None
        return ObjectInfo(key, int(head["ContentLength"]), _hashes(head), head["LastModified"].timestamp())

    def _head(self, full: str, key: str, version_id: str | None = None) -> HeadObjectOutputTypeDef | None:
        args: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        try:
            with self._errors(key):
                return self._s3().head_object(Bucket=self.bucket, Key=full, ChecksumMode="ENABLED", **args)
        except ObjectMissing:
            return None

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
        return info if head is None else info._replace(hashes=_hashes(head))

    def open(self, key: str) -> IO[bytes]:
        full = self._key(key)
        with self._errors(key):
            response = self._s3().get_object(Bucket=self.bucket, Key=full)
        return io.BufferedReader(_Download(self, full, key, response), buffer_size=CHUNK)

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
                    self._retain(dst, dst_key, copied.get("VersionId"), lock)
                return
            from boto3.s3.transfer import TransferConfig

            args["Metadata"] = head.get("Metadata", {})
            if head.get("ContentType"):
                args["ContentType"] = head["ContentType"]
            size = int(head["ContentLength"])
            transfer = TransferConfig(
                multipart_threshold=self.copy_limit,
                multipart_chunksize=max(self._part_size(size), MIN_PART),
                max_concurrency=self.max_concurrency,
                use_threads=True,
            )
            client.copy(source, self.bucket, dst, ExtraArgs=args, Config=transfer)
        if lock:
            self._retain(dst, dst_key, None, lock)

    def delete(self, key: str) -> None:
        full = self._key(key)
        client = self._s3()
        try:
            with self._errors(key):
                head = client.head_object(Bucket=self.bucket, Key=full)
        except ObjectMissing as exc:
            if not _delete_marker(exc):
                return
            head = None  # hidden by a delete marker: older versions may still take room
        version = head.get("VersionId") if head is not None else None
        if head is not None and version in (None, "null"):
            _raise_if_locked(key, head)
            with self._errors(key):
                client.delete_object(Bucket=self.bucket, Key=full)
            return
        versions = self._versions(full, key)
        if not versions and version:
            versions = [(version, False)]
        held: builtins.list[str | None] = []
        for vid, is_marker in versions:
            if is_marker:
                continue
            vhead = head if head is not None and vid == version else self._head(full, key, vid)
            if vhead is not None:
                kept, until = _retention(vhead)
                if kept:
                    held.append(until)
        if held:
            if head is None:
                return  # already gone from view; the retained versions go once they may
            dated = [u for u in held if u]
            raise Locked(key, max(dated) if len(dated) == len(held) else None)
        # the current version goes last: if this stops halfway, the key still shows it
        for vid, _is_marker in sorted(versions, key=lambda v: v[0] == version):
            try:
                with self._errors(key):
                    client.delete_object(Bucket=self.bucket, Key=full, VersionId=vid)
            except TargetError as exc:
                if _code(exc) == "AccessDenied" and self._retained(full, vid):
                    raise Locked(key, None) from exc
                raise

    def _versions(self, full: str, key: str) -> builtins.list[tuple[str, bool]]:
        """Every version and delete marker of exactly ``full``: (version id, is a marker)."""
        found: list[tuple[str, bool]] = []
        try:
            with self._errors(key):
                paginator = self._s3().get_paginator("list_object_versions")
                for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                    for v in page.get("Versions", []):
                        if v.get("Key") == full and v.get("VersionId"):
                            found.append((v["VersionId"], False))
                    for m in page.get("DeleteMarkers", []):
                        if m.get("Key") == full and m.get("VersionId"):
                            found.append((m["VersionId"], True))
        except TargetError as exc:
            if _code(exc) != "AccessDenied":
                raise
            return []  # not allowed to list versions: only the current one can go
        return found

    def _retained(self, full: str, version_id: str) -> bool:
        try:
            retention = self._s3().get_object_retention(Bucket=self.bucket, Key=full, VersionId=version_id)
        except (ClientError, BotoCoreError):
            return False
        until = retention.get("Retention", {}).get("RetainUntilDate")
        return until is not None and until > datetime.now(timezone.utc)

    def local_hash(self, name: str, path: Path) -> str:
        return file_hash(name, path)


class _Download(io.RawIOBase):
    """An object's bytes from get_object; when the connection breaks off, the rest is asked for
    again (a range request pinned to the same ETag) and reading goes on."""

    def __init__(self, target: S3Target, full: str, key: str, response: GetObjectOutputTypeDef) -> None:
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


# -- helpers ----------------------------------------------------------------------------------


def _code(exc: BaseException) -> str:
    """The S3 error code of a ClientError, or of the ClientError behind one of ours."""
    cause = exc if isinstance(exc, ClientError) else exc.__cause__
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code", ""))
    return ""


def _hashes(head: HeadObjectOutputTypeDef) -> dict[str, str]:
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


def _same_part(have: dict[str, Any], data: bytes, checksum: str) -> bool:
    """Whether a part already uploaded holds ``data``: by its SHA-256, else by its MD5 ETag."""
    if int(have.get("Size", -1)) != len(data):
        return False
    if have.get("ChecksumSHA256"):
        return bool(have["ChecksumSHA256"] == checksum)
    etag = str(have.get("ETag", "")).strip('"').lower()
    return bool(re.fullmatch(r"[0-9a-f]{32}", etag)) and etag == hashlib.md5(data).hexdigest()


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _retention(head: HeadObjectOutputTypeDef) -> tuple[bool, str | None]:
    """Whether Object Lock keeps this version now, and until when (None for a legal hold)."""
    if head.get("ObjectLockLegalHoldStatus") == "ON":
        return True, None
    until = head.get("ObjectLockRetainUntilDate")
    if head.get("ObjectLockMode") and until is not None and until > datetime.now(timezone.utc):
        return True, _iso(until)
    return False, None


def _raise_if_locked(key: str, head: HeadObjectOutputTypeDef) -> None:
    kept, until = _retention(head)
    if kept:
        raise Locked(key, until)


def _delete_marker(exc: ObjectMissing) -> bool:
    """Whether a 404 came from a delete marker hiding older versions."""
    cause = exc.__cause__
    if not isinstance(cause, ClientError):
        return False
    headers = cause.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return str(headers.get("x-amz-delete-marker", "")).lower() == "true"


def _load_record(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        _drop_record(path)
        return None
    if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
        _drop_record(path)
        return None
    return record


def _save_record(path: Path, record: dict[str, Any]) -> bool:
    """Write ``record`` atomically; False when it could not be written (no resuming then)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        return False
    return True


def _drop_record(path: Path | None) -> None:
    if path is None:
        return
    try:
        path.unlink()
    except OSError:
        pass
