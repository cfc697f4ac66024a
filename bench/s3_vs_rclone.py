"""``backup full`` to an S3 server on 127.0.0.1 vs ``rclone copy`` of the same tree to the same
server, as whole commands, in one run, interleaved; each run starts from an empty bucket.

    python bench/s3_vs_rclone.py [--mib 1024] [--files 40] [--big 2] [--runs 5] [--work DIR]

The tree: ``--files`` files of equal size plus ``--big`` 150 MiB videos (multipart uploads, in
parallel parts). Throughput is what is compared, so the tree is large enough that start-up
(Python and boto3 against a Go binary: about half a second) does not dominate. The
inventory is scanned once before timing (both tools then read the files from the page cache).
The server is moto's, started here as its own process. Target: keepmark's throughput at least
rclone's (time ratio <= 1.0x).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, interleave, report, timed
from incremental_vs_rsync import rclone_binary

KEY_ID, SECRET = "benchkey", "benchsecret"
BIG_MIB = 150


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_tree(src: Path, mib: int, files: int, big: int) -> None:
    small = max(1, (mib - BIG_MIB * big) * 1024 * 1024 // max(files, 1))
    for i in range(files):
        p = src / f"shoot-{i % 4}" / f"export_{i:04d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(small))
    for i in range(big):
        (src / "Reels").mkdir(parents=True, exist_ok=True)
        (src / "Reels" / f"clip-{i}.bin").write_bytes(os.urandom(BIG_MIB * 1024 * 1024))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--big", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", type=Path)
    args = ap.parse_args()
    import boto3

    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-s3-"))
    src, home = work / "Shoots", work / "home"
    if not src.exists():
        print(f"making {args.mib} MiB in {args.files + args.big} files in {src} ...", flush=True)
        make_tree(src, args.mib, args.files, args.big)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    creds = {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    os.environ.update(creds)
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        for _ in range(100):
            try:
                s3.list_buckets()
                break
            except Exception:
                time.sleep(0.1)
        s3.create_bucket(Bucket="keepmark-bench")
        s3.create_bucket(Bucket="rclone-bench")
        env = {**os.environ, "KEEPMARK_HOME": str(home)}
        cli = backup_cmd()
        profile = home / "profiles" / "bench.toml"
        profile.parent.mkdir(parents=True, exist_ok=True)
        profile.write_text(
            f'[account]\nname = "Bench"\nhandle = "bench"\n[sources]\nfolders = ["{src}"]\n'
            f'[[targets]]\nname = "s3"\ntype = "s3"\nbucket = "keepmark-bench"\nendpoint_url = "{endpoint}"\n'
            'region = "us-east-1"\n',
            encoding="utf-8",
        )
        subprocess.run(
            [*cli, "inventory", "scan", "-p", "bench"], env=env, check=True, stdout=subprocess.DEVNULL
        )
        rclone_env = {
            **os.environ,
            "RCLONE_CONFIG": os.devnull,
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint,
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": KEY_ID,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": SECRET,
        }
        rclone = rclone_binary()

        def empty(bucket: str) -> None:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for page in pages:
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})

        ours, ref = interleave(
            args.runs,
            lambda: timed([*cli, "full", "-p", "bench"], env=env, setup=lambda: empty("keepmark-bench")),
            lambda: timed(
                [rclone, "copy", str(src), "bench:rclone-bench/Shoots"],
                env=rclone_env,
                setup=lambda: empty("rclone-bench"),
            ),
        )
        print(
            "keepmark runs:",
            " ".join(f"{x:.2f}" for x in ours),
            "| rclone runs:",
            " ".join(f"{x:.2f}" for x in ref),
        )
        ok = report(
            f"full backup of {args.mib} MiB to an S3 server on loopback", ours, ref, "rclone copy", 1.0
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
