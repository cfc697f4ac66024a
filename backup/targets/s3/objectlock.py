"""Object Lock. With ``object_lock_days``, every stored object is retained (``GOVERNANCE`` by
default, or ``COMPLIANCE``) until that many days after it was stored (uploads ask for it with
the connection's ``_lock_args``); an object the service assembles (a completed multipart
upload, a copy) gets its retention set once it exists.
Deleting removes every version of the key, so that space is really freed on a versioned
bucket, and refuses with ``Locked`` (removing nothing) while a version is retained or under
legal hold."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from backup.targets.base import Locked, ObjectError, ObjectMissing, TargetError
from backup.targets.s3.client import S3Connection
from backup.targets.s3.errors import code

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef, ObjectLockRetentionTypeDef


def retain(
    c: S3Connection, full: str, key: str, version_id: str | None, lock: dict[str, Any] | None = None
) -> None:
    """Set the retention of an object the service assembled (a completed multipart upload, a
    copy) to ``lock``, by default the target's own counted from now: a resumed upload was
    started earlier, and some services drop the lock asked for at the start of a
    multipart upload or with a copy. If that fails, the new unlocked version is removed."""
    lock = lock or c._lock_args()
    if not lock:
        return
    args: dict[str, Any] = {"VersionId": version_id} if version_id else {}
    retention: ObjectLockRetentionTypeDef = {
        "Mode": lock["ObjectLockMode"],
        "RetainUntilDate": lock["ObjectLockRetainUntilDate"],
    }
    try:
        with c._errors(key):
            c._s3().put_object_retention(Bucket=c.bucket, Key=full, Retention=retention, **args)
    except (ObjectError, TargetError):
        if version_id:
            try:
                c._s3().delete_object(Bucket=c.bucket, Key=full, VersionId=version_id)
            except (BotoCoreError, ClientError):
                pass
        raise


def delete_versions(c: S3Connection, key: str) -> None:
    """Remove every version of ``key`` (absent is not an error), the current one last; or
    raise ``Locked`` and remove nothing while any version is retained or under legal hold."""
    full = c._key(key)
    client = c._s3()
    try:
        with c._errors(key):
            head = client.head_object(Bucket=c.bucket, Key=full)
    except ObjectMissing as exc:
        if not _delete_marker(exc):
            return
        head = None  # hidden by a delete marker: older versions may still take room
    version = head.get("VersionId") if head is not None else None
    if head is not None and version in (None, "null"):
        _raise_if_locked(key, head)
        with c._errors(key):
            client.delete_object(Bucket=c.bucket, Key=full)
        return
    versions = _versions(c, full, key)
    if not versions and version:
        versions = [(version, False)]
    held: list[str | None] = []
    for vid, is_marker in versions:
        if is_marker:
            continue
        vhead = head if head is not None and vid == version else c._head(full, key, vid)
        if vhead is not None:
            kept, until = held_until(vhead)
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
            with c._errors(key):
                client.delete_object(Bucket=c.bucket, Key=full, VersionId=vid)
        except TargetError as exc:
            if code(exc) == "AccessDenied" and _retained(c, full, vid):
                raise Locked(key, None) from exc
            raise


def _versions(c: S3Connection, full: str, key: str) -> list[tuple[str, bool]]:
    """Every version and delete marker of exactly ``full``: (version id, is a marker)."""
    found: list[tuple[str, bool]] = []
    try:
        with c._errors(key):
            paginator = c._s3().get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=c.bucket, Prefix=full):
                for v in page.get("Versions", []):
                    if v.get("Key") == full and v.get("VersionId"):
                        found.append((v["VersionId"], False))
                for m in page.get("DeleteMarkers", []):
                    if m.get("Key") == full and m.get("VersionId"):
                        found.append((m["VersionId"], True))
    except TargetError as exc:
        if code(exc) != "AccessDenied":
            raise
        return []  # not allowed to list versions: only the current one can go
    return found


def _retained(c: S3Connection, full: str, version_id: str) -> bool:
    try:
        retention = c._s3().get_object_retention(Bucket=c.bucket, Key=full, VersionId=version_id)
    except (ClientError, BotoCoreError):
        return False
    until = retention.get("Retention", {}).get("RetainUntilDate")
    return until is not None and until > datetime.now(timezone.utc)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def held_until(head: HeadObjectOutputTypeDef) -> tuple[bool, str | None]:
    """Whether Object Lock keeps this version now, and until when (None for a legal hold)."""
    if head.get("ObjectLockLegalHoldStatus") == "ON":
        return True, None
    until = head.get("ObjectLockRetainUntilDate")
    if head.get("ObjectLockMode") and until is not None and until > datetime.now(timezone.utc):
        return True, _iso(until)
    return False, None


def _raise_if_locked(key: str, head: HeadObjectOutputTypeDef) -> None:
    kept, until = held_until(head)
    if kept:
        raise Locked(key, until)


def _delete_marker(exc: ObjectMissing) -> bool:
    """Whether a 404 came from a delete marker hiding older versions."""
    cause = exc.__cause__
    if not isinstance(cause, ClientError):
        return False
    headers = cause.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return str(headers.get("x-amz-delete-marker", "")).lower() == "true"
