"""Backup runs to an S3 bucket as a user runs them: the CLI against moto's S3 server on
127.0.0.1 (a real process, real boto3 over HTTP), with faults from a proxy in between."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.backupkit import make_files, tree, write_profile
from tests.conftest import run_backup
from tests.kit.faultproxy import FaultProxy
from tests.kit.hashing import sha256, sha256_b64
from tests.kit.s3 import S3Server


def objects(s3: S3Server, bucket: str, prefix: str) -> dict[str, bytes]:
    out = {}
    for key in s3.object_keys(bucket):
        if key.startswith(prefix):
            out[key[len(prefix) :]] = s3.client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return out


@pytest.fixture
def cloud(home: Path, tmp_path: Path, s3_server: S3Server) -> tuple[Path, str, dict[str, bytes]]:
    src = tmp_path / "Shoots"
    files = make_files(src, 6)
    bucket = s3_server.make_bucket()
    write_profile(home, [src], [s3_server.target_entry(bucket, name="cloud", prefix="keepmark")])
    return src, bucket, files


def test_full_verify_restore_on_s3(
    cloud: tuple[Path, str, dict[str, bytes]], s3_server: S3Server, tmp_path: Path
) -> None:
    _src, bucket, files = cloud
    r = run_backup("full", "--json")
    assert r.code == 0, r
    [t] = r.json()["targets"]
    assert t["status"] == "ok" and t["files"] == 6
    stored = objects(s3_server, bucket, "keepmark/lily/originals/Shoots/")
    assert stored == files
    head = s3_server.client.head_object(
        Bucket=bucket, Key=f"keepmark/lily/originals/Shoots/{sorted(files)[0]}", ChecksumMode="ENABLED"
    )
    assert head["Metadata"]["sha256"] == sha256(files[sorted(files)[0]])
    assert any(k.startswith("keepmark/lily/snapshots/") for k in s3_server.object_keys(bucket))
    assert "keepmark/lily/inventory/inventory.sqlite" in s3_server.object_keys(bucket)
    # no change: nothing uploaded
    r = run_backup("incremental", "--json")
    assert r.code == 0 and r.json()["targets"][0]["files"] == 0, r
    assert run_backup("verify", "--read-data").code == 0
    # a flipped byte in the bucket is found and named, and a full run puts it right
    rel = sorted(files)[1]
    key = f"keepmark/lily/originals/Shoots/{rel}"
    data = bytearray(files[rel])
    data[7] ^= 0xFF
    s3_server.client.put_object(Bucket=bucket, Key=key, Body=bytes(data))
    r = run_backup("verify", "--read-data")
    assert r.code == 1 and f"Shoots/{rel}" in r.err, r
    assert run_backup("full").code == 0
    assert run_backup("verify", "--read-data").code == 0
    out = tmp_path / "restored"
    r = run_backup("restore", "--target", "cloud", "--include", "Shoots/2024", "--to", str(out))
    assert r.code == 0, r
    assert tree(out / "Shoots") == {k: v for k, v in files.items() if k.startswith("2024/")}


def test_retries_through_503_and_dropped_connections(home: Path, tmp_path: Path, s3_server: S3Server) -> None:
    src = tmp_path / "Shoots"
    files = make_files(src, 5)
    bucket = s3_server.make_bucket()
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    with FaultProxy("127.0.0.1", port) as proxy:
        entry = {**s3_server.target_entry(bucket, name="cloud"), "endpoint_url": proxy.url}
        write_profile(home, [src], [entry])
        proxy.fail_next(
            2,
            status=503,
            body=b"<Error><Code>SlowDown</Code><Message>Slow down</Message></Error>",
            match=lambda r: r.method == "PUT",
        )
        proxy.drop_next(2, match=lambda r: r.method == "PUT")
        proxy.fail_next(1, status=500, match=lambda r: r.method == "GET")
        r = run_backup("full", "--json")
        assert r.code == 0, r
        assert proxy.failed >= 2 and proxy.dropped >= 2
        assert objects(s3_server, bucket, "lily/originals/Shoots/") == files
        proxy.fail_next(2, status=503, match=lambda r: r.method == "GET")
        assert run_backup("verify", "--read-data").code == 0
        assert proxy.failed >= 4


def test_object_lock_and_prune(home: Path, tmp_path: Path, s3_server: S3Server) -> None:
    src = tmp_path / "Shoots"
    files = make_files(src, 2)
    bucket = s3_server.make_bucket(object_lock=True)
    entry = s3_server.target_entry(
        bucket, name="vault", object_lock_days=3, object_lock_mode="GOVERNANCE", storage_class="STANDARD_IA"
    )
    # only the newest snapshot is to be kept, whatever week or month the runs fall in
    write_profile(home, [src], [entry], retention={"weekly": 0, "monthly": 0})
    assert run_backup("full").code == 0
    rel = sorted(files)[0]
    (src / rel).write_bytes(b"edited")
    assert run_backup("incremental").code == 0
    key = f"lily/originals/Shoots/{rel}"
    head = s3_server.client.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "GOVERNANCE" and head.get("StorageClass") == "STANDARD_IA"
    r = run_backup("prune", "--json")
    assert r.code == 0, r
    t = r.json()["targets"][0]
    # the older snapshot and the earlier version are locked: left in place and reported
    assert t["status"] == "ok" and t["locked"] and all(item["until"] for item in t["locked"])
    keys = s3_server.object_keys(bucket)
    assert len([k for k in keys if k.startswith("lily/snapshots/")]) == 2
    assert [k for k in keys if k.startswith("lily/versions/")]
    assert run_backup("verify", "--read-data").code == 0


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_kill_9_mid_multipart_upload_resumes(home: Path, tmp_path: Path, s3_server: S3Server) -> None:
    src = tmp_path / "Reels"
    src.mkdir()
    video = os.urandom(1024 * 1024) * 136  # 136 MiB: a multipart upload of 9 parts of 16 MiB
    (src / "clip.mov").write_bytes(video)
    make_files(src, 3)
    bucket = s3_server.make_bucket()
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    uploads = home / "state" / "lily" / "uploads"
    with FaultProxy("127.0.0.1", port) as proxy:
        entry = {**s3_server.target_entry(bucket, name="cloud"), "endpoint_url": proxy.url}
        write_profile(home, [src], [entry])
        # slow the parts down so the run can be caught in the middle of the big upload
        proxy.slow_next(100, 0.4, match=lambda r: "partNumber=" in r.target)
        proc = subprocess.Popen(
            [sys.executable, "-m", "backup", "full"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "KEEPMARK_UPLOADS": "2"},
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            parts_done = len([s for s in proxy.seen("forwarded") if "partNumber=" in s.target])
            if parts_done >= 3 and uploads.exists() and any(uploads.iterdir()):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
        assert "lily/originals/Reels/clip.mov" not in s3_server.object_keys(bucket)
        proxy.clear()

        def parts() -> int:
            return len([s for s in proxy.seen() if "partNumber=" in s.target and s.method == "PUT"])

        before = parts()
        r = run_backup("incremental", "--json")
        assert r.code == 0, r
        again = parts() - before
        assert again <= 6, f"{again} of 9 parts sent again: the upload restarted instead of resuming"
        assert run_backup("verify", "--read-data").code == 0
    got = s3_server.client.get_object(Bucket=bucket, Key="lily/originals/Reels/clip.mov")["Body"].read()
    assert sha256(got) == sha256(video)
    assert not any(uploads.iterdir())


def test_uploads_carry_the_inventorys_sha256_for_the_service_to_check(
    home: Path, tmp_path: Path, s3_server: S3Server
) -> None:
    src = tmp_path / "Shoots"
    files = make_files(src, 3)
    bucket = s3_server.make_bucket()
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    with FaultProxy("127.0.0.1", port) as proxy:
        write_profile(
            home, [src], [{**s3_server.target_entry(bucket, name="cloud"), "endpoint_url": proxy.url}]
        )
        assert run_backup("full").code == 0
        puts = {s.target.split("?")[0]: s.headers for s in proxy.seen() if s.method == "PUT"}
    for rel, data in files.items():
        [headers] = [h for t, h in puts.items() if t.endswith(rel.replace(" ", "%20"))]
        # the checksum is a signed header the service checks; the body is not hashed again to sign it
        assert headers["x-amz-checksum-sha256"] == sha256_b64(data)
        assert "x-amz-checksum-sha256" in headers["authorization"].split("SignedHeaders=")[1]
        assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
