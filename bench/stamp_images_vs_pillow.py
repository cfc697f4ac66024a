"""Stamping 12-megapixel JPEGs, as whole commands, against references in one run:

1. one worker (KEEPMARK_WORKERS=1) vs a plain Pillow decode + re-encode of the same files at
   the same quality (the source's quantisation tables), one process: target <= 1.25x;
2. the batch on every core vs a two-process Pillow decode + re-encode: target <= 1.25x;
3. one worker vs ImageMagick's `convert ... -annotate` writing the same text mark, one file
   after another: target < 1.0x (faster).

    python bench/stamp_images_vs_pillow.py [--photos 40] [--runs 5] [--work DIR]

Needs ImageMagick's `convert` for the third figure (apt-get install imagemagick).
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
from first_scan_vs_reference import make_photos

REFERENCE = """
import sys, os
from multiprocessing import Pool
from PIL import Image, JpegImagePlugin

def one(args):
    src, dst = args
    with Image.open(src) as im:
        im.load()
        im.save(dst, quality="keep")

if __name__ == "__main__":
    workers, src_dir, dst_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    os.makedirs(dst_dir, exist_ok=True)
    jobs = [(os.path.join(src_dir, n), os.path.join(dst_dir, n)) for n in sorted(os.listdir(src_dir)) if n.endswith(".jpg")]
    if workers == 1:
        for j in jobs:
            one(j)
    else:
        with Pool(workers) as pool:
            pool.map(one, jobs, chunksize=1)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=40)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-stamp-"))
    photos, home, out = work / "photos", work / "home", work / "out"
    make_photos(photos, args.photos)
    env = {**os.environ, "KEEPMARK_HOME": str(home)}
    cli = backup_cmd()
    if not (home / "profiles" / "photos.toml").exists():
        subprocess.run(
            [*cli, "init", "photos", "--account", "Lily Chen", "--handle", "lily.shoots", "--source", str(photos), "--output", str(out)],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    subprocess.run(
        [*cli, "inventory", "scan", "-p", "photos"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    script = work / "reference_reencode.py"
    script.write_text(REFERENCE)
    ref_out = work / "ref-out"
    stamp = [*cli, "stamp", "-p", "photos", "--force"]
    one_env = {**env, "KEEPMARK_WORKERS": "1"}
    # Warm caches (fonts, page cache) once.
    timed(stamp, env=env)
    ok = True
    ours, ref = interleave(
        args.runs,
        lambda: timed(stamp, env=one_env),
        lambda: timed([sys.executable, str(script), "1", str(photos), str(ref_out)]),
    )
    ok &= report(
        f"stamping {args.photos} 12-MP JPEGs, one worker", ours, ref, "Pillow decode+re-encode", 1.25
    )
    ours, ref = interleave(
        args.runs,
        lambda: timed(stamp, env=env),
        lambda: timed([sys.executable, str(script), "2", str(photos), str(ref_out)]),
    )
    ok &= report(
        f"stamping {args.photos} 12-MP JPEGs, batch", ours, ref, "2-process Pillow decode+re-encode", 1.25
    )
    convert = shutil.which("convert")
    if convert is None:
        print("ImageMagick comparison skipped: `convert` is not installed (apt-get install imagemagick)")
    else:
        im_out = work / "im-out"
        im_out.mkdir(exist_ok=True)
        files = sorted(p for p in photos.iterdir() if p.suffix == ".jpg")
        point = int(0.05 * 3024)

        def imagemagick() -> float:
            total = 0.0
            for f in files:
                total += timed([
                    convert, str(f), "-gravity", "southeast", "-pointsize", str(point),
                    "-stroke", "rgba(0,0,0,0.4)", "-strokewidth", "3", "-fill", "rgba(255,255,255,0.4)",
                    "-annotate", f"+{int(0.03 * 3024)}+{int(0.03 * 3024)}", "© Lily Chen · @lily.shoots",
                    "-quality", "92", str(im_out / f.name),
                ])  # fmt: skip
            return total

        ours, ref = interleave(max(3, args.runs // 2), lambda: timed(stamp, env=one_env), imagemagick)
        ok &= report(
            f"stamping {args.photos} 12-MP JPEGs, one worker", ours, ref, "ImageMagick convert -annotate", 1.0
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
