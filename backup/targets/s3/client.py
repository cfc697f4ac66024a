"""The connection to a bucket: a boto3 client made from the AWS credential chain (environment
variables, the shared credentials and config files, a named profile, the instance or container
role; never a secret of Keepmark's own), the keys objects get in the bucket, the settings every
upload follows (storage class, Object Lock, multipart), opening a session, and boto3's exceptions
translated (``errors``). The modules that do one job over a bucket (``multipart``,
``objectlock``, ``reading``) take this connection, not the target."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from backup.targets.base import ObjectError, ObjectMissing, TargetError, Unavailable, check_key
from backup.targets.s3.errors import DENIED, MISSING, NO_BUCKET, NO_CREDENTIALS, Place, code, translated
from backup.targets.s3.limits import MAX_KEY_BYTES

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef


class S3Connection:
    """One bucket, or a prefix in one, reached with one client (made when first needed, shared
    by every thread). Objects of the profile live under ``root`` (``<prefix>/<profile>/``).

    What every new object gets: ``storage_class``, and with ``object_lock_days`` a retention
    in ``object_lock_mode``. How uploads go: files from ``multipart_threshold`` bytes up in
    parts of ``part_size``, ``max_concurrency`` at once, interrupted ones recorded in
    ``resume_dir`` (None: aborted instead). ``S3Target`` checks these values."""

    def __init__(
        self,
        name: str,
        *,
        bucket: str,
        profile: str,
        prefix: str,
        endpoint_url: str | None,
        region: str | None,
        aws_profile: str | None,
        config: Config,
        storage_class: str | None,
        object_lock_days: int | None,
        object_lock_mode: str | None,
        resume_dir: Path | None,
        multipart_threshold: int,
        part_size: int,
        max_concurrency: int,
    ) -> None:
        self.name = name
        self.bucket = bucket
        self.profile = profile
        self.prefix = prefix
        self.root = "".join(f"{part}/" for part in [*prefix.split("/"), profile] if part)
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.aws_profile = aws_profile or None
        self.storage_class = storage_class or None
        self.object_lock_days = object_lock_days
        self.object_lock_mode = object_lock_mode if object_lock_days else None
        self.resume_dir = resume_dir
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.max_concurrency = max_concurrency
        self._config = config
        self._client: S3Client | None = None
        self._client_lock = threading.Lock()

    @property
    def place(self) -> Place:
        return Place(self.name, self.bucket, self.endpoint_url, self.aws_profile)

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
            raise TargetError(f"{self.name}: {NO_CREDENTIALS}")
        client = session.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=self._config
        )
        return client

    def _errors(self, key: str | None = None) -> AbstractContextManager[None]:
        """Turns boto3's exceptions into the target's (``errors.translated``)."""
        return translated(self.place, key)

    # -- keys -------------------------------------------------------------------------------

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

    def _head(self, full: str, key: str, version_id: str | None = None) -> HeadObjectOutputTypeDef | None:
        """The object's (or one version's) headers, or None when there is none."""
        args: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        try:
            with self._errors(key):
                return self._s3().head_object(Bucket=self.bucket, Key=full, ChecksumMode="ENABLED", **args)
        except ObjectMissing:
            return None

    # -- what a new object gets ------------------------------------------------------------

    def _lock_args(self) -> dict[str, Any]:
        """The Object Lock arguments of a new object (none when the target locks nothing)."""
        if not self.object_lock_days:
            return {}
        until = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=self.object_lock_days)
        return {"ObjectLockMode": self.object_lock_mode, "ObjectLockRetainUntilDate": until}

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

    # -- session ----------------------------------------------------------------------------

    def open_session(self) -> None:
        client = self._s3()
        with self._errors():
            try:
                client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                error_code = code(exc)
                if error_code in MISSING or error_code in NO_BUCKET:
                    raise Unavailable(f"{self.name}: {self.place.no_bucket()}") from None
                if error_code not in DENIED:
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
            error_code = error.get("Code", "AccessDenied")
            message = error.get("Message", "")
            why = f"{error_code}: {message}" if message else error_code
            return TargetError(
                f"{self.name}: access to the bucket {self.bucket} denied ({why}); {self.place.check_access()}"
            )
        except BotoCoreError as exc:
            return TargetError(f"{self.name}: access to the bucket {self.bucket} denied ({exc})")
        return None

    def close(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
