"""An idle `backup watch` over 50,000 files (in 500 folders, already in the inventory): the CPU
it uses (target: under 1% of one core) and its memory (target: under 150 MB RSS), measured with
psutil over a period once its start-up reconciliation is done.

Reference, in the same run and measured the same way: a bare watchdog observer over the same
folders (the least any Python watcher costs); Keepmark's figures are also given as ratios of it.

    python bench/watch_idle.py [--files 50000] [--seconds 60] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, init_profile
from watchkit import Watch, bench_env

BARE = """
import sys, time
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
obs = Observer()
obs.schedule(FileSystemEventHandler(), sys.argv[1], recursive=True)
obs.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    obs.stop(); obs.join()
"""


def make_tree(root: Path, files: int, per_folder: int = 100) -> None:
    for i in range(files):
        folder = root / f"{2020 + i // 10000}" / f"shoot-{(i // per_folder):04d}"
        if i % per_folder == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"IMG_{i:05d}.txt"
        if not path.exists():
            path.write_bytes(b"caption %d\n" % i)


def measure(pid: int, seconds: float) -> tuple[float, float]:
    """(CPU as a percentage of one core, peak RSS in MB) of a process over ``seconds``."""
    proc = psutil.Process(pid)
    t0, c0 = time.monotonic(), proc.cpu_times()
    peak = 0
    while time.monotonic() - t0 < seconds:
        peak = max(peak, proc.memory_info().rss)
        time.sleep(1.0)
    c1, t1 = proc.cpu_times(), time.monotonic()
    cpu = max(0.0, (c1.user + c1.system - c0.user - c0.system) / (t1 - t0) * 100)
    return cpu, peak / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-idle-"))
    src = work / "Shoots"
    print(f"making {args.files} files ...", flush=True)
    make_tree(src, args.files)
    cli = backup_cmd()
    home = work / "home"
    env = bench_env(home)
    if not (home / "profiles" / "bench.toml").exists():
        init_profile(cli, env, src)
    subprocess.run([*cli, "inventory", "scan", "-p", "bench"], env=env, check=True, stdout=subprocess.DEVNULL)

    daemon = Watch(cli, env, work / "watch.log")
    try:
        time.sleep(2.0)
        cpu, rss = measure(daemon.proc.pid, args.seconds)
    finally:
        daemon.stop()

    bare = subprocess.Popen(
        [sys.executable, "-c", BARE, str(src)], stdout=subprocess.PIPE, env={**os.environ}
    )
    try:
        assert bare.stdout is not None
        bare.stdout.readline()
        time.sleep(2.0)
        ref_cpu, ref_rss = measure(bare.pid, args.seconds)
    finally:
        bare.terminate()
        bare.wait(30)

    ok = cpu < 1.0 and rss < 150
    print(
        f"idle backup watch over {args.files} files, {args.seconds:.0f} s: CPU {cpu:.2f}% of a core "
        f"(target < 1%), peak RSS {rss:.1f} MB (target < 150 MB) {'OK' if ok else 'OVER'}"
    )
    print(
        f"  bare watchdog observer, same folders: CPU {ref_cpu:.2f}%, peak RSS {ref_rss:.1f} MB -> "
        f"memory ratio {rss / ref_rss:.2f}x, CPU {cpu - ref_cpu:+.2f} points"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
