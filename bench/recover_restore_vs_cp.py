"""After a lost laptop: ``backup recover`` of a profile from a drive target, then a full
``backup restore`` of its 1 GiB in 200 files (every file checked by SHA-256, fsynced), as whole
commands, vs ``cp -r`` of the same files from the drive followed by ``sync``; in one run,
interleaved.

    python bench/recover_restore_vs_cp.py [--mib 1024] [--files 200] [--runs 5] [--work DIR]

Target: keepmark at most 1.5x cp + sync. The files are made and backed up once under --work
(kept for the next run); every keepmark run starts from an empty Keepmark home and an empty
restore folder, every cp run from an empty copy. Both read the drive from the page cache (it is
read once before timing).
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
from full_vs_cp import make_tree


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    cp = require("cp", "coreutils")
    sync = require("sync", "coreutils")
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-recover-"))
    src, laptop, drive = work / "Shoots", work / "laptop-home", work / "drive" / "Keepmark"
    home, restored, copy = work / "new-home", work / "restored", work / "cp-copy"
    cli = backup_cmd()
    if not (drive / "bench" / "snapshots").is_dir():
        shutil.rmtree(work / "drive", ignore_errors=True)
        shutil.rmtree(laptop, ignore_errors=True)
        if not src.exists():
            print(f"making {args.mib} MiB in {args.files} files in {src} ...", flush=True)
            make_tree(src, args.mib, args.files)
        print("backing it up once to the drive ...", flush=True)
        (work / "drive").mkdir(parents=True)
        old = {**os.environ, "KEEPMARK_HOME": str(laptop)}
        init_profile(cli, old, src, drive)
        subprocess.run([*cli, "full", "-p", "bench"], env=old, check=True, stdout=subprocess.DEVNULL)
    originals = drive / "bench" / "originals"
    for p in originals.rglob("*"):  # into the page cache
        if p.is_file():
            p.read_bytes()
    env = {**os.environ, "KEEPMARK_HOME": str(home)}
    ours_cmd = (
        f'"$1" recover --from "$2" --profile bench && '
        f'"$1" restore -p bench --target Keepmark --to "$3" && "{sync}"'
    )

    def fresh_home() -> None:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(restored, ignore_errors=True)
        subprocess.run([sync])

    def fresh_copy() -> None:
        shutil.rmtree(copy, ignore_errors=True)
        subprocess.run([sync])

    def ours() -> float:
        return timed(
            ["sh", "-c", ours_cmd, "keepmark", cli[0], str(drive), str(restored)], env=env, setup=fresh_home
        )

    def reference() -> float:
        return timed(
            ["sh", "-c", f'"{cp}" -r "$1" "$2" && "{sync}"', "cp", str(originals), str(copy)],
            setup=fresh_copy,
        )

    a, b = interleave(args.runs, ours, reference)
    restored_files = sum(1 for p in restored.rglob("*") if p.is_file())
    if restored_files != args.files:
        sys.exit(f"bench: the restore brought back {restored_files} files, not {args.files}")
    print(
        "keepmark runs:",
        " ".join(f"{x:.2f}" for x in a),
        "| cp + sync runs:",
        " ".join(f"{x:.2f}" for x in b),
    )
    ok = report(
        f"recover + full restore of {args.mib} MiB in {args.files} files from a drive",
        a,
        b,
        "cp -r + sync",
        1.5,
    )
    shutil.rmtree(copy, ignore_errors=True)
    shutil.rmtree(restored, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
