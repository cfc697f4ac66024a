"""No-change re-scan of 20,000 files vs ``rsync -a`` to an up-to-date copy (the classic
quick check), as whole commands, in one run.

    python bench/rescan_vs_rsync.py [--files 20000] [--runs 15] [--work DIR]

Target: keepmark at most 2x rsync.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, interleave, report, require, timed


def make_tree(src: Path, files: int) -> None:
    per_dir = 100
    for i in range(files):
        d = src / f"shoot-{i // per_dir:04d}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"IMG_{i:06d}.txt").write_bytes(os.urandom(64) + b"\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    rsync = require("rsync", "apt-get install rsync / brew install rsync")
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-rescan-"))
    src, dst, home = work / "src", work / "dst", work / "home"
    if not src.exists():
        print(f"making {args.files:,} files in {src} ...", flush=True)
        make_tree(src, args.files)
    env = {**os.environ, "KEEPMARK_HOME": str(home)}
    cli = backup_cmd()
    if not (home / "profiles" / "bench.toml").exists():
        subprocess.run(
            [*cli, "init", "bench", "--account", "Bench", "--handle", "bench", "--source", str(src)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    print("first scan and first rsync (not timed) ...", flush=True)
    subprocess.run([*cli, "inventory", "scan", "-p", "bench"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([rsync, "-a", f"{src}/", f"{dst}/"], check=True)
    ours, ref = interleave(
        args.runs,
        lambda: timed([*cli, "inventory", "scan", "-p", "bench"], env=env),
        lambda: timed([rsync, "-a", f"{src}/", f"{dst}/"]),
    )
    ok = report(f"no-change re-scan of {args.files:,} files", ours, ref, "rsync -a", 2.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
