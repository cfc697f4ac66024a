"""CLI start-up before and after the browser app: `backup --help`, `backup status --help` and
`backup ledger --help` run from this checkout and from the revision before `backup/web` was
added (a git worktree of it, in a temporary folder), with the same interpreter, in one run,
interleaved.

    python bench/cli_startup.py [--before REV] [--runs 30]

Target: every command starts as fast as before (ratio at most 1.05; start-up is tens of
milliseconds, so a few percent is the noise of a shared machine). The web libraries are loaded
only by `backup ui`; this shows that the other commands do not pay for them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (["--help"], ["status", "--help"], ["ledger", "--help"])
TARGET = 1.05


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def before_web() -> str:
    """The revision before the one that added backup/web."""
    added = git("log", "--diff-filter=A", "--format=%H", "--", "backup/web/__init__.py").splitlines()
    if not added:
        sys.exit("bench: backup/web was never added in this history; give --before REV")
    return f"{added[-1]}^"


def once(tree: Path, argv: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from backup.cli.main import main; main()", *argv],
        env=env,
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", help="the revision to compare with (default: the one before backup/web)")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    rev = args.before or before_web()
    work = Path(tempfile.mkdtemp(prefix="keepmark-bench-startup-"))
    old = work / "before"
    git("worktree", "add", "--detach", str(old), rev)
    try:
        print(f"before: {git('rev-parse', '--short', rev)} (worktree in {old}); after: this checkout")
        for tree in (old, ROOT):  # both with their bytecode written, as an installed copy has it
            for package in ("backup", "inventory", "watermark"):
                subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / package)], check=True)
        ok = True
        for argv in COMMANDS:
            for tree in (old, ROOT):  # warm the file cache and the bytecode of each
                once(tree, argv)
            a: list[float] = []
            b: list[float] = []
            for _ in range(args.runs):
                a.append(once(ROOT, argv))
                b.append(once(old, argv))
            ratio = statistics.median(a) / statistics.median(b)
            verdict = "OK" if ratio <= TARGET else "SLOWER"
            ok &= ratio <= TARGET
            print(
                f"backup {' '.join(argv):<16} after median {statistics.median(a) * 1000:6.1f} ms, "
                f"before {statistics.median(b) * 1000:6.1f} ms -> ratio {ratio:.2f}x "
                f"(target <= {TARGET:.2f}x) {verdict}  [{args.runs} runs each]"
            )
        return 0 if ok else 1
    finally:
        git("worktree", "remove", "--force", str(old))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
