"""A first ``backup full`` of 1 GiB in 200 files to a local target (scan, SHA-256, copy, fsync
and snapshot included, as a whole command) vs ``cp -r`` of the same tree followed by ``sync``,
in one run, interleaved.

    python bench/full_vs_cp.py [--mib 1024] [--files 200] [--runs 5] [--work DIR]

Target: keepmark at most 2.2x cp + sync. Both read the sources from the page cache (they are
read once before timing); every keepmark run starts from an empty inventory and target.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, init_profile, interleave, report, require, timed


def make_tree(src: Path, mib: int, files: int) -> None:
    size = mib * 1024 * 1024 // files
    block = os.urandom(1024 * 1024)
    for i in range(files):
        d = src / f"shoot-{i // 20:02d}"
        d.mkdir(parents=True, exist_ok=True)
        with open(d / f"export_{i:04d}.bin", "wb") as f:
            left = size
            f.write(os.urandom(4096))  # every file distinct
            left -= 4096
            while left > 0:
                f.write(block[: min(left, len(block))])
                left -= len(block)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    cp = require("cp", "coreutils")
    sync = require("sync", "coreutils")
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-full-"))
    src, home, drive, copy = work / "Shoots", work / "home", work / "drive", work / "cp-copy"
    if not src.exists():
        print(f"making {args.mib} MiB in {args.files} files in {src} ...", flush=True)
        make_tree(src, args.mib, args.files)
    for p in src.rglob("*"):  # into the page cache
        if p.is_file():
            p.read_bytes()
    env = {**os.environ, "KEEPMARK_HOME": str(home)}
    cli = backup_cmd()

    def fresh_keepmark() -> None:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(drive, ignore_errors=True)
        drive.mkdir(parents=True)
        init_profile(cli, env, src, drive / "Keepmark")
        subprocess.run([sync])

    def fresh_copy() -> None:
        shutil.rmtree(copy, ignore_errors=True)
        subprocess.run([sync])

    def ours() -> float:
        return timed([*cli, "full", "-p", "bench"], env=env, setup=fresh_keepmark)

    def reference() -> float:
        return timed(
            ["sh", "-c", f'"{cp}" -r "$1" "$2" && "{sync}"', "cp", str(src), str(copy)], setup=fresh_copy
        )

    a, b = interleave(args.runs, ours, reference)
    print(
        "keepmark runs:",
        " ".join(f"{x:.2f}" for x in a),
        "| cp + sync runs:",
        " ".join(f"{x:.2f}" for x in b),
    )
    ok = report(f"first full backup of {args.mib} MiB in {args.files} files", a, b, "cp -r + sync", 2.2)
    shutil.rmtree(copy, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
