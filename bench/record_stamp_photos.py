"""New photos recorded and stamped, as whole commands, against a reference in one run:

1. ``backup stamp`` on a fresh profile every run (an empty inventory, so every photo is new: it
   is read, hashed, recorded in the ledger, and stamped) vs a two-process Pillow decode +
   re-encode of the same files at the same quality (``quality="keep"``): target <= 1.25x.

2. (``--detail``) the library alone, in a threaded batch of two workers as the stamper runs
   it, interleaved with the same reference, to show where the time of a new JPEG goes:
   stamping it from the file; recording and stamping it decoded once (read once, hashes from a
   reduced DCT decode of the bytes in memory, which every stored JPEG hash was made with, then
   stamped from the same decoded picture); and, for comparison only, the same with the hashes
   taken from the full decode (what it would cost without the reduced decode; those hashes
   would not match the stored ones).

    python bench/record_stamp_photos.py [--photos 24] [--runs 5] [--work DIR] [--detail]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, fresh_profile, interleave, report, timed
from first_scan_vs_reference import make_photos
from stamp_images_vs_pillow import REFERENCE

ROOT = Path(__file__).resolve().parent.parent


def detail(photos: Path, work: Path, runs: int, reference: Callable[[], float]) -> None:
    """The library in a two-worker threaded batch, interleaved with the reference: where a new
    JPEG's time goes."""
    sys.path.insert(0, str(ROOT))
    import statistics
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    from backup.stages.stamp import _reuse_image_memory
    from inventory.match.hashes import hash_params_for, hash_source, perceptual_hashes, window_hashes
    from inventory.media.image import photo_header
    from inventory.record.examine import decode_photo, open_photo, read
    from watermark.image import ImageOptions, stamp_image
    from watermark.style import Style

    files = sorted(p for p in photos.iterdir() if p.suffix == ".jpg")
    style = Style(text="© {name} · @{handle}")
    fields = {"name": "Lily Chen", "handle": "lily.shoots"}
    options = ImageOptions(sync_dir=False)
    out = work / "detail-out"
    _reuse_image_memory()
    hash_params_for("image")

    def stamp_only(p: Path) -> None:
        stamp_image(p, out / p.name, style, fields, options)

    def once(p: Path) -> None:
        r = read(str(p))
        facts, picture = decode_photo(r)
        assert picture is not None and facts.media.phash
        with picture:
            stamp_image(p, out / p.name, style, fields, options, image=picture, data=r.data)

    def once_full_decode_hashes(p: Path) -> None:  # comparison only: not the stored hashes
        r = read(str(p))
        with open_photo(r) as im:
            header = photo_header(im)
            im.load()
            small = hash_source(im, header.orientation)
            perceptual_hashes(small), window_hashes(small)
            stamp_image(p, out / p.name, style, fields, options, image=im, data=r.data)

    def batch(job: Callable[[Path], None]) -> Callable[[], float]:
        def run() -> float:
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(job, files))
            return time.perf_counter() - t0

        return run

    batch(once)()  # warm: fonts, imagehash, the page cache
    kinds: dict[str, Callable[[], float]] = {
        "2-process Pillow decode+re-encode (the reference)": reference,
        "stamp only": batch(stamp_only),
        "record+stamp, decoded once (stored hashes)": batch(once),
        "record+stamp, hashes from the full decode (comparison only)": batch(once_full_decode_hashes),
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for i in range(runs):
        for k in list(kinds) if i % 2 == 0 else list(reversed(kinds)):
            times[k].append(kinds[k]())
    base = statistics.median(times["2-process Pillow decode+re-encode (the reference)"])
    with Image.open(files[0]) as im:
        print(
            f"  {len(files)} JPEGs of {im.size[0]}x{im.size[1]}, {files[0].stat().st_size / 1e6:.1f} MB; two workers:"
        )
    for k, ts in times.items():
        m = statistics.median(ts)
        print(
            f"  {k}: median {m:.3f} s ({1000 * m / len(files):.1f} ms a photo) -> {m / base:.3f}x the reference"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    ap.add_argument("--detail", action="store_true", help="also time the library's steps in a threaded batch")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-record-stamp-"))
    photos = work / "photos"
    make_photos(photos, args.photos)
    for extra in sorted(photos.glob("IMG_*.jpg"))[args.photos :]:
        extra.unlink()  # a work folder reused with fewer photos
    home, out = work / "home", work / "out"
    env = {**os.environ, "KEEPMARK_HOME": str(home)}
    cli = backup_cmd()
    script = work / "reference_reencode.py"
    script.write_text(REFERENCE)
    ref_out = work / "ref-out"
    setup = fresh_profile(cli, env, "photos", photos, out)
    stamp = [*cli, "stamp", "-p", "photos"]
    timed(stamp, env=env, setup=setup)  # warm caches (fonts, page cache, bytecode) once
    ours, ref = interleave(
        args.runs,
        lambda: timed(stamp, env=env, setup=setup),
        lambda: timed([sys.executable, str(script), "2", str(photos), str(ref_out)]),
    )
    ok = report(
        f"recording and stamping {args.photos} new 12-MP JPEGs (empty inventory)",
        ours, ref, "2-process Pillow decode+re-encode", 1.25,
    )  # fmt: skip
    if args.detail:
        detail(
            photos,
            work,
            args.runs,
            lambda: timed([sys.executable, str(script), "2", str(photos), str(ref_out)]),
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
