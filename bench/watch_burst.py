"""1,000 photos dropped at once into a folder `backup watch` watches: every one recorded and
stamped, none twice (one `original` and one `derivative` ledger entry each, one stamped copy
each), with a throughput of at least 0.8 times that of `backup stamp` over the same files
(scan and stamp as one command), measured in the same run.

    python bench/watch_burst.py [--files 1000] [--size 1280x960] [--work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, timed
from watchkit import State, Watch, fresh_profile, wait_for


def make_photos(folder: Path, n: int, size: tuple[int, int]) -> None:
    from PIL import Image

    from backup.app.samples import scene

    folder.mkdir(parents=True, exist_ok=True)
    base = [scene(*size, seed) for seed in range(4)]
    for i in range(n):
        target = folder / f"IMG_{i:04d}.jpg"
        if not target.exists():
            noise = Image.effect_noise(size, 30 + i % 50).convert("RGB")
            Image.blend(base[i % 4], noise, 0.05 + (i % 7) * 0.01).save(target, quality=90)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--size", default="1280x960")
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-burst-"))
    photos = work / "photos"
    print(f"making {args.files} photos of {args.size} ...", flush=True)
    make_photos(photos, args.files, (w, h))
    names = sorted(p.name for p in photos.glob("*.jpg"))[: args.files]
    cli = backup_cmd()

    # the daemon: everything dropped at once
    home, src = work / "home-watch", work / "Shoots"
    env = fresh_profile(cli, home, src)
    state = State(home / "state" / "bench")
    daemon = Watch(cli, env, work / "watch.log")
    try:
        t0 = time.perf_counter()
        for name in names:
            shutil.copyfile(photos / name, src / name)
        wait_for(
            lambda: (
                state.inventory() is not None
                and state.queue() is not None
                and state.inventory().derivative_count() >= len(names)
                and state.queue().queue_length() == 0
                and not state.queue().stuck()
            ),
            3600,
            "every file stamped",
            poll=0.05,
        )
        ours = time.perf_counter() - t0
        time.sleep(2.0)  # anything done twice would show now
    finally:
        daemon.stop()
    entries = state.inventory().ledger_type_counts()
    originals, derivatives = entries.get("original", 0), entries.get("derivative", 0)
    recorded = len(state.inventory().list_files(include_missing=True))
    state.close()
    copies = sum(1 for p in (home / "stamped" / "bench").rglob("*.jpg"))
    once = originals == derivatives == recorded == copies == len(names)

    # the reference: `backup stamp` over the same files, already in place
    home2, src2 = work / "home-stamp", work / "Shoots2"
    env2 = fresh_profile(cli, home2, src2)
    for name in names:
        shutil.copyfile(photos / name, src2 / name)
    ref = timed([*cli, "stamp", "-p", "bench"], env=env2)

    n = len(names)
    ratio = (n / ours) / (n / ref)
    print(
        f"{n} files dropped at once: {recorded} recorded, {copies} stamped copies, ledger {originals} original "
        f"and {derivatives} derivative entries -> {'each once' if once else 'NOT each once'}"
    )
    print(
        f"throughput: backup watch {n / ours:.1f} files/s ({ours:.1f} s from the first copy), "
        f"backup stamp {n / ref:.1f} files/s ({ref:.1f} s) -> ratio {ratio:.2f}x (target >= 0.80x) "
        f"{'OK' if ratio >= 0.8 else 'UNDER'}"
    )
    return 0 if once and ratio >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
