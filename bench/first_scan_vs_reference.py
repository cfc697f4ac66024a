"""First scan of 60 twelve-megapixel JPEGs, as a whole command, vs a two-process reference
doing the least a scan must do per photo (SHA-256, reduced-size decode with Image.draft, one
imagehash pHash: bench/reference_scan.py), in one run.

    python bench/first_scan_vs_reference.py [--photos 60] [--runs 7] [--work DIR]

Target: keepmark at most 1.15x the reference.
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
from common import backup_cmd, interleave, report, timed


def make_photos(folder: Path, count: int) -> None:
    """12-megapixel photo-like JPEGs (scenery with sensor noise), about 2.5-3.5 MB each."""
    from PIL import Image

    from backup.app.samples import scene

    folder.mkdir(parents=True, exist_ok=True)
    base = [scene(4032, 3024, seed) for seed in range(4)]
    for i in range(count):
        target = folder / f"IMG_{i:04d}.jpg"
        if target.exists():
            continue
        im = base[i % 4]
        # Vary every photo so none is a byte-for-byte copy of another.
        noise = Image.effect_noise((4032, 3024), 30 + i).convert("RGB")
        Image.blend(im, noise, 0.08 + (i % 5) * 0.01).save(target, quality=92)
        print(f"  made {target.name}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=60)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-first-"))
    photos, home = work / "photos", work / "home"
    make_photos(photos, args.photos)
    env = {**os.environ, "KEEPMARK_HOME": str(home)}
    cli = backup_cmd()
    if not (home / "profiles" / "photos.toml").exists():
        subprocess.run(
            [*cli, "init", "photos", "--account", "Bench", "--handle", "bench", "--source", str(photos)],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    state = home / "state" / "photos"

    def fresh() -> None:
        shutil.rmtree(state, ignore_errors=True)

    reference = [sys.executable, str(Path(__file__).resolve().parent / "reference_scan.py"), str(photos)]
    # Warm the page cache for both.
    timed(reference)
    timed([*cli, "inventory", "scan", "-p", "photos"], env=env, setup=fresh)
    ours, ref = interleave(
        args.runs,
        lambda: timed([*cli, "inventory", "scan", "-p", "photos"], env=env, setup=fresh),
        lambda: timed(reference),
    )
    ok = report(f"first scan of {args.photos} 12-MP JPEGs", ours, ref, "2-process reference", 1.15)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
