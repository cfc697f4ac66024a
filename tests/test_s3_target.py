"""The S3 target against moto's server on 127.0.0.1, over HTTP with boto3, with a fault proxy in
front of it where a test needs failures (see ``tests/kit/faultproxy.py``)."""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest

import backup.targets.s3.multipart as s3_multipart
from backup.profile import model
from backup.targets.base import (
    Locked,
    ObjectError,
    ObjectMissing,
    SourceChanged,
    TargetError,
    TargetFull,
    Unavailable,
)
from backup.targets.s3 import MiB, S3Target
from tests.kit.faultproxy import FaultProxy, Request
from tests.kit.hashing import sha256, sha256_b64
from tests.kit.ports import refused_port
from tests.kit.s3 import AuthServer, AwsFiles, MotoProcess, S3Server

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


def s3_error(code: str, message: str = "") -> bytes:
    return f"<Error><Code>{code}</Code><Message>{message or code}</Message></Error>".encode()


# -- what a request is ------------------------------------------------------------------------


def is_put_object(r: Request) -> bool:
    return r.method == "PUT" and "?" not in r.target and "x-amz-copy-source" not in r.headers


def is_part(r: Request) -> bool:
    return r.method == "PUT" and "partNumber=" in r.target


def is_get_object(r: Request) -> bool:
    return r.method == "GET" and "?" not in r.target


def is_head_object(r: Request) -> bool:
    return r.method == "HEAD" and r.target.count("/") > 1


def is_list(r: Request) -> bool:
    return r.method == "GET" and "list-type=2" in r.target


def part_number(target: str) -> int:
    query = target.split("?", 1)[1]
    return int(dict(p.split("=", 1) for p in query.split("&"))["partNumber"])


def parts_sent(proxy: FaultProxy, since: int = 0) -> list[int]:
    """The part numbers uploaded through the proxy since its ``since``-th request."""
    return sorted(
        part_number(s.target)
        for s in proxy.log[since:]
        if s.action == "forwarded" and is_part(Request(s.method, s.target, s.headers))
    )


def write(path: Path, data: bytes) -> tuple[Path, str]:
    path.write_bytes(data)
    return path, sha256(data)


def read(t: S3Target, key: str) -> bytes:
    with t.open(key) as f:
        return f.read()


def stored(server: S3Server, bucket: str, key: str) -> bytes:
    body: bytes = server.client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def uploads(server: S3Server, bucket: str) -> list[Any]:
    return list(server.client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


@pytest.fixture
def proxy(moto_server: MotoProcess) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", moto_server.port) as p:
        yield p


@pytest.fixture
def big(tmp_path: Path) -> tuple[Path, bytes, str]:
    """A 16 MiB file: four parts of 5 MiB (the last one shorter)."""
    data = os.urandom(16 * MiB)
    path, sha = write(tmp_path / "clip.mp4", data)
    return path, data, sha


def multipart(server: S3Server, bucket: str | None = None, **kw: Any) -> S3Target:
    kw.setdefault("multipart_threshold", 5 * MiB)
    kw.setdefault("part_size", 5 * MiB)
    t = server.target(bucket, **kw)
    t.open_session()
    return t


class Interrupted(Exception):
    pass


def stop_after(parts: int) -> Any:
    """A progress callback that interrupts the upload once ``parts`` parts were sent."""
    seen: list[int] = []

    def progress(n: int) -> None:
        seen.append(n)
        if len(seen) >= parts:
            raise Interrupted

    return progress


# -- layout and basic verbs -------------------------------------------------------------------


def test_keys_live_under_prefix_and_profile(s3_server: S3Server) -> None:
    bucket = s3_server.make_bucket()
    nested = s3_server.target(bucket, prefix="/backups//2026/")
    bare = s3_server.target(bucket, prefix="")
    for t in (nested, bare):
        t.open_session()
        t.put_bytes("originals/Shoots/a.jpg", b"a")
    assert s3_server.object_keys(bucket) == [
        "backups/2026/lily/originals/Shoots/a.jpg",
        "lily/originals/Shoots/a.jpg",
    ]
    assert [i.key for i in bare.list("")] == ["originals/Shoots/a.jpg"]
    assert [i.key for i in nested.list("originals/")] == ["originals/Shoots/a.jpg"]
    assert nested.describe() == f"s3://{bucket}/backups/2026/lily/ at {s3_server.endpoint}"


def test_from_profile(s3_server: S3Server, tmp_path: Path) -> None:
    cfg = s3_server.profile_target(prefix="kp", storage_class="STANDARD_IA", name="cloud")
    t = S3Target.from_profile(cfg, "lily", tmp_path / "uploads")
    try:
        assert (t.name, t.bucket, t.root, t.resume_dir) == (
            "cloud",
            cfg.bucket,
            "kp/lily/",
            tmp_path / "uploads",
        )
        t.open_session()
        src, sha = write(tmp_path / "x.jpg", b"x" * 100)
        t.put_file("originals/x.jpg", src, sha, 100)
        assert cfg.bucket is not None
        head = s3_server.client.head_object(Bucket=cfg.bucket, Key="kp/lily/originals/x.jpg")
        assert head["StorageClass"] == "STANDARD_IA" and head["ContentLength"] == 100
    finally:
        t.close()
    with pytest.raises(TargetError):
        S3Target.from_profile(model.Target(name="d", type="local", path=tmp_path), "lily", None)
    with pytest.raises(TargetError, match="object_lock_mode"):
        S3Target.from_profile(cfg._replace(object_lock_days=1, object_lock_mode="FOREVER"), "lily", None)
    entry = s3_server.target_entry(cfg.bucket, prefix="kp")
    assert entry == {
        "name": "cloud",
        "type": "s3",
        "bucket": cfg.bucket,
        "prefix": "kp",
        "endpoint_url": s3_server.endpoint,
        "region": "us-east-1",
    }


def test_small_upload_carries_sha256(s3_server: S3Server, proxy: FaultProxy, tmp_path: Path) -> None:
    t = s3_server.target(endpoint_url=proxy.url)
    t.open_session()
    data = b"portrait" * 1000
    src, sha = write(tmp_path / "p.jpg", data)
    t.put_file("originals/p.jpg", src, sha, len(data))
    [put] = proxy.seen("forwarded", is_put_object)
    assert put.headers["x-amz-checksum-sha256"] == sha256_b64(data)
    assert put.headers["x-amz-sdk-checksum-algorithm"] == "SHA256"
    assert put.headers["x-amz-meta-sha256"] == sha
    head = s3_server.client.head_object(Bucket=t.bucket, Key="lily/originals/p.jpg", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha256_b64(data) and head["Metadata"] == {"sha256": sha}
    info = t.stat("originals/p.jpg")
    assert info is not None and info.size == len(data) and info.hashes == {"sha256": sha}
    assert info.mtime is not None and abs(info.mtime - time.time()) < 120
    t.put_bytes("snapshots/m.json", b"{}")
    [put2] = proxy.seen("forwarded", lambda r: is_put_object(r) and r.target.endswith("m.json"))
    assert put2.headers["x-amz-checksum-sha256"] == sha256_b64(b"{}")


def test_multipart_upload_reads_once_sends_parts_in_parallel(
    s3_server: S3Server, proxy: FaultProxy, big: tuple[Path, bytes, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src, data, sha = big
    read_from_disk = 0
    real_open = open

    class Counting:
        def __init__(self, f: IO[bytes]) -> None:
            self.f = f

        def read(self, n: int = -1) -> bytes:
            nonlocal read_from_disk
            chunk = self.f.read(n)
            read_from_disk += len(chunk)
            return chunk

        def __enter__(self) -> Counting:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

    def spy_open(path: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
        f = real_open(path, mode, *args, **kw)
        return Counting(f) if Path(path) == src else f

    monkeypatch.setattr(s3_multipart, "open", spy_open, raising=False)  # where the parts are read
    t = multipart(s3_server, endpoint_url=proxy.url, max_concurrency=4)
    proxy.slow_next(4, 2.0, match=is_part)  # long enough for the parts to overlap visibly
    seen: list[int] = []
    t.put_file("originals/Reels/clip.mp4", src, sha, len(data), progress=seen.append)

    assert read_from_disk == len(data)
    assert sum(seen) == len(data)
    parts = proxy.seen("forwarded", is_part)
    assert sorted(part_number(p.target) for p in parts) == [1, 2, 3, 4]
    for p in parts:
        n = part_number(p.target)
        assert p.headers["x-amz-checksum-sha256"] == sha256_b64(data[(n - 1) * 5 * MiB : n * 5 * MiB])
    assert proxy.max_in_flight >= 3
    [create] = proxy.seen("forwarded", lambda r: r.method == "POST" and r.target.endswith("?uploads"))
    assert (
        create.headers["x-amz-checksum-algorithm"] == "SHA256" and create.headers["x-amz-meta-sha256"] == sha
    )
    head = s3_server.client.head_object(Bucket=t.bucket, Key="lily/originals/Reels/clip.mp4")
    assert head["ETag"].strip('"').endswith("-4") and head["Metadata"] == {"sha256": sha}
    assert stored(s3_server, t.bucket, "lily/originals/Reels/clip.mp4") == data
    assert uploads(s3_server, t.bucket) == []
    assert t.pending_uploads() == []


def test_changed_source_leaves_no_upload(s3_server: S3Server, big: tuple[Path, bytes, str]) -> None:
    src, data, _sha = big
    t = multipart(s3_server)
    with pytest.raises(SourceChanged):
        t.put_file("originals/clip.mp4", src, "0" * 64, len(data))
    assert t.stat("originals/clip.mp4") is None
    assert uploads(s3_server, t.bucket) == []
    assert t.pending_uploads() == [] and not list((s3_server.tmp / "s3-uploads").glob("*.json"))
    # a file that grew past its scanned size is caught without reading all of it
    small = s3_server.target(t.bucket)
    with pytest.raises(SourceChanged):
        small.put_file("originals/clip.mp4", src, sha256(data[:10]), 10)
    scanned = 11 * MiB
    with pytest.raises(SourceChanged, match="grew"):
        t.put_file("originals/clip.mp4", src, sha256(data[:scanned]), scanned)
    assert s3_server.object_keys(t.bucket) == [] and uploads(s3_server, t.bucket) == []


def test_storage_class_on_every_upload(
    s3_server: S3Server, tmp_path: Path, big: tuple[Path, bytes, str]
) -> None:
    t = multipart(s3_server, storage_class="STANDARD_IA")
    src, data, sha = big
    small, small_sha = write(tmp_path / "s.jpg", b"small")
    t.put_file("originals/big.mp4", src, sha, len(data))
    t.put_file("originals/s.jpg", small, small_sha, 5)
    t.put_bytes("snapshots/m.json", b"{}")
    for key in ("originals/big.mp4", "originals/s.jpg", "snapshots/m.json"):
        assert (
            s3_server.client.head_object(Bucket=t.bucket, Key=f"lily/{key}")["StorageClass"] == "STANDARD_IA"
        )


# -- Object Lock and deletion -----------------------------------------------------------------


@pytest.mark.parametrize("mode", [None, "COMPLIANCE"])
def test_object_lock_retains_and_refuses_delete(
    s3_server: S3Server, tmp_path: Path, big: tuple[Path, bytes, str], mode: str | None
) -> None:
    bucket = s3_server.make_bucket(object_lock=True)
    t = multipart(s3_server, bucket, object_lock_days=3, object_lock_mode=mode)
    src, data, sha = big
    small, small_sha = write(tmp_path / "s.jpg", b"small")
    t.put_file("originals/big.mp4", src, sha, len(data))
    t.put_file("originals/s.jpg", small, small_sha, 5)
    t.put_bytes("snapshots/m.json", b"{}")
    expected = datetime.now(timezone.utc) + timedelta(days=3)
    for key in ("originals/big.mp4", "originals/s.jpg", "snapshots/m.json"):
        head = s3_server.client.head_object(Bucket=bucket, Key=f"lily/{key}")
        assert head["ObjectLockMode"] == (mode or "GOVERNANCE")
        assert abs((head["ObjectLockRetainUntilDate"] - expected).total_seconds()) < 120
        with pytest.raises(Locked) as refused:
            t.delete(key)
        assert refused.value.key == key
        assert refused.value.until == head["ObjectLockRetainUntilDate"].astimezone(timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        versions = s3_server.client.list_object_versions(Bucket=bucket, Prefix=f"lily/{key}")
        assert "DeleteMarkers" not in versions and len(versions["Versions"]) == 1
    assert read(t, "originals/s.jpg") == b"small"


def test_delete_removes_every_version(s3_server: S3Server) -> None:
    bucket = s3_server.make_bucket(versioning=True)
    t = s3_server.target(bucket)
    t.open_session()
    for v in (b"1", b"22", b"333"):
        t.put_bytes("versions/a.jpg", v)
    t.put_bytes("versions/a.jpg.bak", b"sibling")
    t.delete("versions/a.jpg")
    versions = s3_server.client.list_object_versions(Bucket=bucket, Prefix="lily/versions/")
    assert [v["Key"] for v in versions.get("Versions", [])] == ["lily/versions/a.jpg.bak"]
    assert "DeleteMarkers" not in versions
    assert t.stat("versions/a.jpg") is None and read(t, "versions/a.jpg.bak") == b"sibling"


def test_delete_frees_versions_hidden_by_a_marker(s3_server: S3Server) -> None:
    bucket = s3_server.make_bucket(versioning=True)
    t = s3_server.target(bucket)
    t.open_session()
    t.put_bytes("versions/b.jpg", b"old")
    s3_server.client.delete_object(Bucket=bucket, Key="lily/versions/b.jpg")  # leaves a marker
    t.delete("versions/b.jpg")
    versions = s3_server.client.list_object_versions(Bucket=bucket, Prefix="lily/versions/b.jpg")
    assert "Versions" not in versions and "DeleteMarkers" not in versions


def test_delete_once_retention_ends_and_legal_hold(s3_server: S3Server) -> None:
    bucket = s3_server.make_bucket(object_lock=True)
    t = s3_server.target(bucket)
    t.open_session()
    until = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=10)
    s3_server.client.put_object(
        Bucket=bucket,
        Key="lily/versions/c.jpg",
        Body=b"c",
        ChecksumAlgorithm="SHA256",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=until,
    )
    with pytest.raises(Locked):
        t.delete("versions/c.jpg")
    time.sleep(max(0.0, (until - datetime.now(timezone.utc)).total_seconds()) + 1.1)
    t.delete("versions/c.jpg")
    assert "Versions" not in s3_server.client.list_object_versions(
        Bucket=bucket, Prefix="lily/versions/c.jpg"
    )

    s3_server.client.put_object(
        Bucket=bucket,
        Key="lily/versions/d.jpg",
        Body=b"d",
        ChecksumAlgorithm="SHA256",
        ObjectLockLegalHoldStatus="ON",
    )
    with pytest.raises(Locked) as held:
        t.delete("versions/d.jpg")
    assert held.value.until is None
    assert read(t, "versions/d.jpg") == b"d"


# -- copy -------------------------------------------------------------------------------------


def test_copy_is_server_side_and_keeps_settings(
    s3_server: S3Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    bucket = s3_server.make_bucket(object_lock=True)
    t = s3_server.target(bucket, endpoint_url=proxy.url, storage_class="STANDARD_IA", object_lock_days=2)
    t.open_session()
    src, sha = write(tmp_path / "d.jpg", b"old content")
    t.put_file("originals/S/d.jpg", src, sha, 11)
    t.copy("originals/S/d.jpg", "versions/S/d.20261124-051200.jpg")
    copies = proxy.seen("forwarded", lambda r: "x-amz-copy-source" in r.headers)
    assert len(copies) == 1 and copies[0].headers["x-amz-copy-source"].endswith("originals/S/d.jpg")
    assert proxy.seen("forwarded", is_get_object) == []
    head = s3_server.client.head_object(Bucket=bucket, Key="lily/versions/S/d.20261124-051200.jpg")
    assert head["Metadata"] == {"sha256": sha}
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"] > datetime.now(
        timezone.utc
    )
    assert read(t, "versions/S/d.20261124-051200.jpg") == b"old content"
    with pytest.raises(ObjectMissing):
        t.copy("originals/S/none.jpg", "versions/S/none.jpg")


def test_copy_of_a_big_object_goes_part_by_part(s3_server: S3Server, big: tuple[Path, bytes, str]) -> None:
    src, data, sha = big
    t = multipart(s3_server, storage_class="STANDARD_IA")
    t.copy_limit = 5 * MiB  # stands for copy_object's 5 GiB limit
    t.put_file("originals/big.mp4", src, sha, len(data))
    t.copy("originals/big.mp4", "versions/big.mp4")
    head = s3_server.client.head_object(Bucket=t.bucket, Key="lily/versions/big.mp4")
    assert "-" in head["ETag"]  # a multipart copy
    assert head["Metadata"] == {"sha256": sha} and head["StorageClass"] == "STANDARD_IA"
    assert stored(s3_server, t.bucket, "lily/versions/big.mp4") == data


# -- listing ----------------------------------------------------------------------------------


def test_list_with_hashes_heads_in_parallel(s3_server: S3Server, proxy: FaultProxy) -> None:
    t = s3_server.target(endpoint_url=proxy.url)
    t.open_session()
    blobs = {f"originals/S/{i:02}.jpg": os.urandom(100 + i) for i in range(12)}
    for key, data in blobs.items():
        t.put_bytes(key, data)
    proxy.slow_next(12, 1.0, match=is_head_object)
    infos = list(t.list("originals/", hashes=True))
    assert [i.key for i in infos] == sorted(blobs)
    for info in infos:
        assert info.hashes == {"sha256": sha256(blobs[info.key])}
        assert info.size == len(blobs[info.key]) and info.mtime is not None
    assert len(proxy.seen("forwarded", is_head_object)) == 12
    assert proxy.max_in_flight >= 4
    assert all(i.hashes == {} for i in t.list("originals/"))


def test_list_skips_what_is_not_a_key(s3_server: S3Server) -> None:
    t = s3_server.target()
    t.open_session()
    t.put_bytes("originals/a.jpg", b"a")
    for odd in ("lily/originals/folder/", "lily/originals//double.jpg", "lilyx/originals/b.jpg"):
        s3_server.client.put_object(Bucket=t.bucket, Key=odd, Body=b"")
    assert [i.key for i in t.list("")] == ["originals/a.jpg"]


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_retries")
def test_throttling_and_dropped_connections_are_retried(
    s3_server: S3Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    t = s3_server.target(endpoint_url=proxy.url)
    t.open_session()
    data = os.urandom(300_000)
    src, sha = write(tmp_path / "f.jpg", data)

    proxy.fail_next(2, 503, body=SLOW_DOWN, match=is_put_object)
    proxy.drop_next(2, match=is_put_object)
    t.put_file("originals/f.jpg", src, sha, len(data))
    assert (proxy.failed, proxy.dropped) == (2, 2)
    assert stored(s3_server, t.bucket, "lily/originals/f.jpg") == data

    proxy.fail_next(1, 503, body=SLOW_DOWN, match=is_get_object)
    proxy.drop_next(2, match=is_get_object)
    assert read(t, "originals/f.jpg") == data
    assert (proxy.failed, proxy.dropped) == (3, 4)

    proxy.drop_next(1, match=is_list)
    proxy.fail_next(2, 500, body=s3_error("InternalError"), match=is_list)
    assert [i.key for i in t.list("originals/")] == ["originals/f.jpg"]
    assert (proxy.failed, proxy.dropped) == (5, 5)
    assert proxy.pending() == 0


@pytest.mark.usefixtures("fast_retries")
def test_faults_during_a_multipart_upload(
    s3_server: S3Server, proxy: FaultProxy, big: tuple[Path, bytes, str]
) -> None:
    src, data, sha = big
    t = multipart(s3_server, endpoint_url=proxy.url)
    proxy.fail_next(2, 503, body=SLOW_DOWN, match=is_part)
    proxy.drop_next(2, match=is_part)
    proxy.drop_next(1, match=lambda r: r.method == "POST")  # creating or completing the upload
    t.put_file("originals/clip.mp4", src, sha, len(data))
    assert (proxy.failed, proxy.dropped) == (2, 3)
    assert stored(s3_server, t.bucket, "lily/originals/clip.mp4") == data
    assert uploads(s3_server, t.bucket) == []


def test_download_resumes_where_it_broke_off(s3_server: S3Server, proxy: FaultProxy) -> None:
    t = s3_server.target(endpoint_url=proxy.url)
    t.open_session()
    data = os.urandom(3 * MiB + 5)
    t.put_bytes("originals/v.mov", data)
    proxy.cut_next(2, after=MiB, match=is_get_object)
    with t.open("originals/v.mov") as f:
        first = f.read(10)
        rest = f.read()
    assert first + rest == data
    assert proxy.cut == 2
    ranges = [s.headers.get("range") for s in proxy.seen(match=is_get_object)]
    assert ranges == [None, f"bytes={MiB}-", f"bytes={2 * MiB}-"]
    t.put_bytes("originals/empty", b"")
    assert read(t, "originals/empty") == b""


@pytest.mark.usefixtures("fast_retries")
def test_service_that_keeps_failing_is_unavailable(s3_server: S3Server, proxy: FaultProxy) -> None:
    t = s3_server.target(endpoint_url=proxy.url, max_attempts=3)
    t.open_session()
    proxy.fail_next(10, 503, body=SLOW_DOWN)
    with pytest.raises(Unavailable, match="SlowDown"):
        t.put_bytes("originals/a.jpg", b"a")
    assert proxy.failed == 4  # the first attempt and three retries
    proxy.clear()


def test_error_codes_map_to_target_or_object_errors(s3_server: S3Server, proxy: FaultProxy) -> None:
    t = s3_server.target(endpoint_url=proxy.url)
    t.open_session()
    proxy.fail_next(1, 403, body=s3_error("QuotaExceeded", "Bucket quota exceeded"))
    with pytest.raises(TargetFull, match="no room"):
        t.put_bytes("originals/a.jpg", b"a")
    proxy.fail_next(1, 400, body=s3_error("EntityTooLarge"))
    with pytest.raises(ObjectError) as too_big:
        t.put_bytes("originals/b.jpg", b"b")
    assert not isinstance(too_big.value, TargetError)
    proxy.fail_next(1, 403, body=s3_error("AccessDenied", "Access Denied"))
    with pytest.raises(TargetError, match="AccessDenied"):
        t.put_bytes("originals/c.jpg", b"c")
    proxy.fail_next(1, 404, body=s3_error("NoSuchBucket"))
    with pytest.raises(Unavailable, match=t.bucket):
        t.put_bytes("originals/d.jpg", b"d")
    assert proxy.failed == 4 and s3_server.object_keys(t.bucket) == []


# -- resuming multipart uploads ---------------------------------------------------------------


def test_interrupted_upload_resumes_with_the_missing_parts(
    s3_server: S3Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    data = os.urandom(26 * MiB)  # six parts: five of 5 MiB, one of 1 MiB
    src, sha = write(tmp_path / "long.mov", data)
    bucket = s3_server.make_bucket()
    first = multipart(s3_server, bucket, endpoint_url=proxy.url, max_concurrency=1)
    with pytest.raises(Interrupted):
        first.put_file("originals/long.mov", src, sha, len(data), progress=stop_after(2))
    first.close()
    sent_first = set(parts_sent(proxy))
    assert {1, 2} <= sent_first and len(sent_first) < 6
    [pending] = uploads(s3_server, bucket)
    [record] = first.pending_uploads()
    assert (
        record["upload_id"] == pending["UploadId"]
        and record["sha256"] == sha
        and record["part_size"] == 5 * MiB
    )

    before = len(proxy.log)
    second = multipart(s3_server, bucket, endpoint_url=proxy.url)
    seen: list[int] = []
    second.put_file("originals/long.mov", src, sha, len(data), progress=seen.append)
    assert parts_sent(proxy, before) == sorted(set(range(1, 7)) - sent_first)
    assert sum(seen) == len(data)
    assert stored(s3_server, bucket, "lily/originals/long.mov") == data
    head = s3_server.client.head_object(Bucket=bucket, Key="lily/originals/long.mov")
    assert head["ETag"].strip('"').endswith("-6") and head["Metadata"] == {"sha256": sha}
    assert uploads(s3_server, bucket) == [] and second.pending_uploads() == []


def test_resume_sends_again_a_part_that_differs(
    s3_server: S3Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    wanted = os.urandom(16 * MiB)
    sha = sha256(wanted)
    # the file changed after it was scanned, and the upload stops before that shows
    src, _ = write(tmp_path / "v.mov", os.urandom(MiB) + wanted[MiB:])  # differs in part 1 only
    bucket = s3_server.make_bucket()
    first = multipart(s3_server, bucket, endpoint_url=proxy.url, max_concurrency=1)
    with pytest.raises(Interrupted):
        first.put_file("originals/v.mov", src, sha, len(wanted), progress=stop_after(2))
    assert {1, 2} <= set(parts_sent(proxy))
    src.write_bytes(wanted)  # back as it was scanned
    before = len(proxy.log)
    second = multipart(s3_server, bucket, endpoint_url=proxy.url)
    second.put_file("originals/v.mov", src, sha, len(wanted))
    sent = parts_sent(proxy, before)
    assert 1 in sent and 2 not in sent
    assert stored(s3_server, bucket, "lily/originals/v.mov") == wanted


def test_resume_with_a_changed_file_starts_over(
    s3_server: S3Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    data = os.urandom(11 * MiB)
    src, sha = write(tmp_path / "w.mov", data)
    bucket = s3_server.make_bucket()
    first = multipart(s3_server, bucket, endpoint_url=proxy.url, max_concurrency=1)
    with pytest.raises(Interrupted):
        first.put_file("originals/w.mov", src, sha, len(data), progress=stop_after(1))
    [old] = uploads(s3_server, bucket)
    new = os.urandom(11 * MiB)
    src, new_sha = write(src, new)
    before = len(proxy.log)
    second = multipart(s3_server, bucket, endpoint_url=proxy.url)
    second.put_file("originals/w.mov", src, new_sha, len(new))
    assert parts_sent(proxy, before) == [1, 2, 3]
    aborted = [s for s in proxy.log[before:] if s.method == "DELETE" and old["UploadId"] in s.target]
    assert len(aborted) == 1
    assert uploads(s3_server, bucket) == [] and second.pending_uploads() == []
    assert stored(s3_server, bucket, "lily/originals/w.mov") == new


def test_without_resume_dir_a_failed_upload_is_aborted(
    s3_server: S3Server, big: tuple[Path, bytes, str]
) -> None:
    src, data, sha = big
    t = multipart(s3_server, resume_dir=None, max_concurrency=1)
    with pytest.raises(Interrupted):
        t.put_file("originals/clip.mp4", src, sha, len(data), progress=stop_after(1))
    assert uploads(s3_server, t.bucket) == [] and t.stat("originals/clip.mp4") is None


# -- names ------------------------------------------------------------------------------------


def test_names_that_cannot_be_keys(s3_server: S3Server, proxy: FaultProxy, tmp_path: Path) -> None:
    t = s3_server.target(endpoint_url=proxy.url)
    t.open_session()
    before = proxy.requests
    bad = os.fsdecode(b"originals/caf\xe9.jpg")  # Latin-1 bytes in a Linux file name
    src, sha = write(tmp_path / "x.jpg", b"x")
    with pytest.raises(ObjectError, match="not valid UTF-8"):
        t.put_file(bad, src, sha, 1)
    with pytest.raises(ObjectError, match="too long"):
        t.put_bytes("originals/" + "n" * 1020, b"x")
    assert proxy.requests == before
    emoji = "originals/百合 · 写真 🌸 '$x' \"q\".heic"
    t.put_file(emoji, src, sha, 1)
    assert s3_server.object_keys(t.bucket) == ["lily/" + emoji]


def test_vanished_source_is_an_object_error(s3_server: S3Server, tmp_path: Path) -> None:
    t = s3_server.target()
    t.open_session()
    with pytest.raises(ObjectError, match="vanished") as err:
        t.put_file("originals/gone.jpg", tmp_path / "gone.jpg", "0" * 64, 10)
    assert not isinstance(err.value, TargetError)


# -- sessions and credentials -----------------------------------------------------------------


def test_missing_bucket_is_unavailable(s3_server: S3Server) -> None:
    t = s3_server.target("no-such-bucket-here")
    with pytest.raises(Unavailable) as err:
        t.open_session()
    message = str(err.value)
    assert "'no-such-bucket-here' does not exist" in message and "\n" not in message


def test_unreachable_endpoint_is_unavailable(s3_server: S3Server) -> None:
    endpoint = f"http://127.0.0.1:{refused_port()}"
    t = s3_server.target("any-bucket", endpoint_url=endpoint, max_attempts=2, connect_timeout=2)
    with pytest.raises(Unavailable, match="cannot reach"):
        t.open_session()


def test_no_credentials_says_how_to_set_them(
    s3_server: S3Server, proxy: FaultProxy, aws_env: AwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    aws_env.credentials.write_text("")
    t = s3_server.target(endpoint_url=proxy.url)
    with pytest.raises(TargetError) as err:
        t.open_session()
    assert not isinstance(err.value, Unavailable)
    assert "AWS_ACCESS_KEY_ID" in str(err.value) and "aws configure" in str(err.value)
    assert proxy.requests == 0


def auth_target(server: AuthServer, **kw: Any) -> S3Target:
    return S3Target(
        "cloud", bucket=server.bucket, profile="lily", endpoint_url=server.endpoint, max_attempts=2, **kw
    )


def test_bad_or_unauthorised_credentials(
    s3_auth_server: AuthServer, aws_env: AwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    for user, code in (("stranger", "InvalidAccessKeyId"), ("noperm", "AccessDenied")):
        key, secret = s3_auth_server.users.get(user, ("AKIANOBODYKNOWSTHIS0", "nope"))
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        t = auth_target(s3_auth_server)
        with pytest.raises(TargetError, match=code) as err:
            t.open_session()
        assert not isinstance(err.value, Unavailable)
        t.close()


def test_named_aws_profile_is_used(
    s3_auth_server: AuthServer, aws_env: AwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOBODYKNOWSTHIS0")  # wrong keys in the environment
    aws_env.add_profile("keepmark-backup", *s3_auth_server.users["admin"])
    t = auth_target(s3_auth_server, aws_profile="keepmark-backup")
    try:
        t.open_session()
        t.put_bytes("snapshots/profile-test.json", b"{}")
        assert t.stat("snapshots/profile-test.json") is not None
        t.delete("snapshots/profile-test.json")
        assert t.stat("snapshots/profile-test.json") is None
    finally:
        t.close()
    missing = auth_target(s3_auth_server, aws_profile="not-configured")
    with pytest.raises(TargetError, match="not-configured"):
        missing.open_session()


# -- the fault proxy itself -------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while size := int(self.rfile.readline().strip(), 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = sha256(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_fault_proxy_keeps_alive_relays_chunked_and_counts() -> None:
    backend = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    serving = threading.Thread(target=backend.serve_forever, kwargs={"poll_interval": 0.05})
    serving.start()
    try:
        with FaultProxy("127.0.0.1", backend.server_address[1]) as p:
            conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)
            conn.request("POST", "/a", body=b"hello", headers={"Content-Length": "5"})
            assert conn.getresponse().read() == sha256(b"hello").encode()
            conn.request("POST", "/b", body=iter([b"hel", b"lo"]), encode_chunked=True)
            assert conn.getresponse().read() == sha256(b"hello").encode()
            assert p.forwarded == 2 and p.max_in_flight == 1
            p.fail_next(1, 500, body=b"no", match=lambda r: r.target == "/c")
            conn.request("POST", "/c", body=b"x")
            response = conn.getresponse()
            assert (response.status, response.read()) == (500, b"no")
            conn.close()
            p.drop_connections(1)
            conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10)
            with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
                conn.request("POST", "/d", body=b"x")
                conn.getresponse()
            conn.close()
            assert (p.failed, p.refused, p.requests) == (1, 1, 3)
            assert [s.action for s in p.log] == ["forwarded", "forwarded", "failed"]
    finally:
        backend.shutdown()
        serving.join()
        backend.server_close()
