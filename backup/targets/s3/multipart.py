"""Multipart uploads, for files at or above the target's ``multipart_threshold``: the file is
read once, hashed whole as it is read, its parts (each with its own SHA-256 checksum) sent in
parallel, and the upload only completed once the whole file hashed to the expected SHA-256.

Resuming: with a ``resume_dir``, each upload is recorded there (``s3-upload-<hash>.json``:
endpoint, bucket, key, upload id, the file's SHA-256 and size, part size and the settings that
shape the object). When the same file is uploaded again under the same key with the same
settings, only the parts still missing are sent; otherwise the old upload is aborted."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from backup.targets.base import ObjectError, Progress, SourceChanged, TargetError
from backup.targets.s3.client import S3Connection
from backup.targets.s3.limits import MAX_PART, MAX_PARTS, MIN_PART, MiB
from backup.targets.s3.objectlock import retain
from inventory.atomic import write_atomic

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

RECORD_VERSION = 1


def choose_part_size(c: S3Connection, size: int) -> int:
    """The target's part size, or a larger one when the file would need more than 10,000
    parts (rounded up to whole MiB)."""
    part = c.part_size
    if -(-size // part) > MAX_PARTS:
        part = -(-size // MAX_PARTS)
        part = -(-part // MiB) * MiB
    return part


def put_multipart(
    c: S3Connection, full: str, key: str, src: Path, sha256: str, size: int, progress: Progress | None
) -> None:
    client = c._s3()
    settings = {
        "storage_class": c.storage_class,
        "lock_mode": c.object_lock_mode,
        "lock_days": c.object_lock_days,
    }
    record_path = _record_path(c, full)
    upload_id, part_size, existing = _resumable(c, record_path, full, key, sha256, size, settings)
    if upload_id is None:
        part_size = choose_part_size(c, size)
        with c._errors(key):
            upload_id = client.create_multipart_upload(
                Bucket=c.bucket, Key=full, ChecksumAlgorithm="SHA256", **c._upload_args(sha256, key)
            )["UploadId"]
        record = {
            "version": RECORD_VERSION,
            "endpoint": c.endpoint_url,
            "bucket": c.bucket,
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
        parts = _send_parts(c, full, key, upload_id, src, sha256, size, part_size, existing, progress)
        with c._errors(key):
            done = client.complete_multipart_upload(
                Bucket=c.bucket, Key=full, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
    except SourceChanged:
        abort(c, full, upload_id)
        _drop_record(record_path)
        raise
    except BaseException:
        if record_path is None:  # nothing to resume from: leave no parts behind
            abort(c, full, upload_id)
        raise
    _drop_record(record_path)
    retain(c, full, key, done.get("VersionId"))


def _resumable(
    c: S3Connection,
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
        record.get("endpoint") == c.endpoint_url
        and record.get("bucket") == c.bucket
        and record.get("key") == full
    )
    upload_id = str(record.get("upload_id", ""))
    if not same or not upload_id:
        _drop_record(record_path)
        return None, 0, {}
    if record.get("sha256") != sha256 or record.get("size") != size or record.get("settings") != settings:
        abort(c, full, upload_id)
        _drop_record(record_path)
        return None, 0, {}
    parts: dict[int, dict[str, Any]] = {}
    try:
        with c._errors(key):
            paginator = c._s3().get_paginator("list_parts")
            for page in paginator.paginate(Bucket=c.bucket, Key=full, UploadId=upload_id):
                for part in page.get("Parts", []):
                    parts[int(part["PartNumber"])] = dict(part)
    except ObjectError:  # the upload is gone (completed, aborted or expired)
        _drop_record(record_path)
        return None, 0, {}
    part_size = record.get("part_size")
    if not isinstance(part_size, int) or not MIN_PART <= part_size <= MAX_PART:
        abort(c, full, upload_id)
        _drop_record(record_path)
        return None, 0, {}
    return upload_id, part_size, parts


def _send_parts(
    c: S3Connection,
    full: str,
    key: str,
    upload_id: str,
    src: Path,
    sha256: str,
    size: int,
    part_size: int,
    existing: dict[int, dict[str, Any]],
    progress: Progress | None,
) -> list[CompletedPartTypeDef]:
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

    pool = ThreadPoolExecutor(max_workers=c.max_concurrency, thread_name_prefix="s3-part")
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
                while len(pending) >= c.max_concurrency:
                    finished, _ = wait(set(pending), return_when=FIRST_COMPLETED)
                    collect(finished)
                fut = pool.submit(_upload_part, c, full, key, upload_id, number, data, checksum)
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
    c: S3Connection, full: str, key: str, upload_id: str, number: int, data: bytes, checksum: str
) -> str:
    with c._errors(key):
        response = c._s3().upload_part(
            Bucket=c.bucket,
            Key=full,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )
    return response["ETag"]


def abort(c: S3Connection, full: str, upload_id: str) -> None:
    """Abort a multipart upload, as well as can be: a failure here only leaves parts behind."""
    try:
        c._s3().abort_multipart_upload(Bucket=c.bucket, Key=full, UploadId=upload_id)
    except (BotoCoreError, ClientError, TargetError):
        pass


def _record_path(c: S3Connection, full: str) -> Path | None:
    if c.resume_dir is None:
        return None
    where = f"{c.endpoint_url or ''}\0{c.bucket}\0{full}".encode("utf-8", "surrogatepass")
    return c.resume_dir / f"s3-upload-{hashlib.sha256(where).hexdigest()[:32]}.json"


def pending_uploads(c: S3Connection) -> list[dict[str, Any]]:
    """The interrupted multipart uploads recorded in ``resume_dir`` for this bucket."""
    if c.resume_dir is None or not c.resume_dir.is_dir():
        return []
    found = []
    for path in sorted(c.resume_dir.glob("s3-upload-*.json")):
        record = _load_record(path)
        if record is not None and record.get("bucket") == c.bucket:
            found.append(record)
    return found


def _same_part(have: dict[str, Any], data: bytes, checksum: str) -> bool:
    """Whether a part already uploaded holds ``data``: by its SHA-256, else by its MD5 ETag."""
    if int(have.get("Size", -1)) != len(data):
        return False
    if have.get("ChecksumSHA256"):
        return bool(have["ChecksumSHA256"] == checksum)
    etag = str(have.get("ETag", "")).strip('"').lower()
    return bool(re.fullmatch(r"[0-9a-f]{32}", etag)) and etag == hashlib.md5(data).hexdigest()


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
    try:
        write_atomic(path, json.dumps(record).encode("utf-8"))
    except OSError:
        return False
    return True


def _drop_record(path: Path | None) -> None:
    if path is None:
        return
    try:
        path.unlink()
    except OSError:
        pass
