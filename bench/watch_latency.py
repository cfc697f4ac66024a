"""From the moment a 12-megapixel JPEG finishes being written into a watched folder to its
stamped copy and its inventory record existing, with `backup watch` at the default settle time
(target: median under 2 s). The settle time (write finished -> the file is queued, read from
the queue's `added` time) is reported apart from the work time (queued -> stamped and
recorded).

Reference, in the same run: `backup stamp FILE`, the one-shot command that records and stamps
the same kind of file (a new process each time, so it includes start-up); the daemon's work
time is given as a ratio of it.

    python bench/watch_latency.py [--photos 7] [--work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, timed
from first_scan_vs_reference import make_photos
from watchkit import State, Watch, fresh_profile, wait_for


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=7)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-latency-"))
    photos = work / "photos"
    make_photos(photos, args.photos * 2)
    cli = backup_cmd()

    # the daemon: one photo at a time, written into the watched folder
    home, src = work / "home-watch", work / "Shoots"
    env = fresh_profile(cli, home, src)
    state = State(home / "state" / "bench")
    stamped = home / "stamped" / "bench" / src.name
    latencies, settles, works = [], [], []
    daemon = Watch(cli, env, work / "watch.log")
    try:
        for i in range(args.photos):
            name = f"IMG_{i:04d}.jpg"
            data = (photos / name).read_bytes()
            with open(src / name, "wb") as f:
                f.write(data)
            written = time.time()  # closed: the write has finished
            added: list[float] = []

            def done(name: str = name, added: list[float] = added) -> bool:
                queue, inv = state.queue(), state.inventory()
                if not added and queue is not None:
                    when = queue.queued_at(str(src / name))
                    if when:
                        added.append(datetime.fromisoformat(when).timestamp())
                if inv is None:
                    return False
                recorded = inv.current_files([str(src / name)])
                copied = inv.derivatives_at(str(stamped / name))
                return bool(recorded and copied and (stamped / name).is_file())

            wait_for(done, 120, f"{name} stamped and recorded", poll=0.01)
            finished = time.time()
            latencies.append(finished - written)
            if added:
                settles.append(added[0] - written)
                works.append(finished - added[0])
            time.sleep(0.5)
    finally:
        daemon.stop()
        state.close()

    # the reference: `backup stamp FILE` on the other photos, a new file each time
    env2 = fresh_profile(cli, work / "home-stamp", work / "Shoots2")
    src2 = work / "Shoots2"
    refs = []
    for i in range(args.photos, args.photos * 2):
        name = f"IMG_{i:04d}.jpg"
        shutil.copyfile(photos / name, src2 / name)
        refs.append(timed([*cli, "stamp", "-p", "bench", str(src2 / name)], env=env2))

    med = statistics.median(latencies)
    print(
        f"watch latency (12-MP JPEG written -> stamped and recorded): median {med:.3f} s "
        f"over {len(latencies)} photos (target < 2 s) {'OK' if med < 2 else 'OVER'}"
    )
    if settles:
        ms, mw = statistics.median(settles), statistics.median(works)
        mr = statistics.median(refs)
        how = (
            "close-write events"
            if sys.platform.startswith("linux")
            else "size and time unchanged for the settle time"
        )
        print(f"  settle (write finished -> queued): median {ms:.3f} s (default settle time; {how})")
        print(
            f"  work (queued -> stamped and recorded): median {mw:.3f} s; `backup stamp FILE` median "
            f"{mr:.3f} s -> ratio {mw / mr:.2f}x"
        )
    return 0 if med < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
