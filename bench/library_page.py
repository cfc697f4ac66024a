"""The browser app's library over 100,000 photos: how fast its first page, a page deep in it, its
filters and a file's page are answered by a running `backup ui`.

    python bench/library_page.py [--photos 100000] [--requests 40] [--work DIR]

Target (the issue's figure): the first page of a 100,000-file library in under 150 ms (p95, an
absolute target), printed beside the CLI's `backup status --json` for the same profile, run as a
process in the same run (the median of 5), with each path's p95 as a ratio of it, and beside a
static file from the same server on the same connection (the HTTP floor).

The profile is made once under --work and reused: PHOTOS real 320x240 JPEGs in shoot folders of
200, each decoded and hashed as any photo, recorded and backed up to a local drive target by one
`backup full` (so that "on every target" is answered from Keepmark's own backup catalog), and a
few publications recorded with `backup publish add`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, timed
from ui_latency import PROFILE, Ui, build, get, pct

FIRST_PAGE_P95 = 0.150  # seconds
PUBLISHED = 5  # photos given a publication


def publish_some(work: Path, cli: list[str], env: dict[str, str]) -> None:
    marker = work / "published.json"
    if marker.exists():
        return
    photos = sorted((work / "Shoots").rglob("*.jpg"))[:PUBLISHED]
    for i, photo in enumerate(photos):
        subprocess.run(
            [*cli, "publish", "add", str(photo), "--platform", "Xiaohongshu",
             "--url", f"https://www.xiaohongshu.com/explore/{i}", "-p", PROFILE],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    marker.write_text(json.dumps([str(p) for p in photos]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--work", type=Path, help="working folder, kept between runs (default: a temporary one)")
    args = ap.parse_args()
    root = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-library-"))
    work = root / f"photos-{args.photos}"
    work.mkdir(parents=True, exist_ok=True)
    cli = backup_cmd()
    env = {**os.environ, "KEEPMARK_HOME": str(work / "home")}
    build(work, args.photos, cli, env, photo_every=1)
    publish_some(work, cli, env)

    ref = [timed([*cli, "status", "--json", "-p", PROFILE], env=env) for _ in range(5)]
    ref_med = statistics.median(ref)

    ui = Ui(cli, env)
    ok = True
    try:
        ui.sign_in()
        conn = ui.connect()
        cookie = {"Cookie": ui.cookie}
        bearer = ui.headers("/api")
        _, body = get(conn, "/api/library?limit=60&total=1", bearer)
        first_page = json.loads(body)
        total = first_page["total"]
        if first_page["count"] != 60:
            sys.exit(f"bench: the first page has {first_page['count']} items, not 60")
        # a page deep in the library: follow the cursor up to 100 pages on
        cursor = first_page["next"]
        for _ in range(min(100, total // 60 - 2)):
            _, body = get(conn, f"/api/library?limit=60&after={quote(cursor)}", bearer)
            cursor = json.loads(body)["next"]
        sha = first_page["items"][0]["sha256"]
        paths: list[tuple[str, dict[str, str]]] = [
            ("/static/app.css", cookie),
            ("/library", cookie),
            ("/api/library?limit=60", bearer),
            (f"/api/library?limit=60&after={quote(cursor)}", bearer),
            ("/library?backed_up=yes", cookie),
            ("/library?published=no&kind=image", cookie),
            ("/library?name=IMG_0999", cookie),
            (f"/library/{sha}", cookie),
        ]
        first: dict[str, float] = {}
        for path, headers in paths:  # warm-up, once each
            first[path], _ = get(conn, path, headers)
        times: dict[str, list[float]] = {}
        for path, headers in paths:
            times[path] = [get(conn, path, headers)[0] for _ in range(args.requests)]
        conn.close()
    finally:
        code = ui.stop()

    floor = pct(times["/static/app.css"], 0.95)
    print(
        f"\n`backup ui` over profile {PROFILE!r}: {args.photos} photos made, {total} photos and videos "
        f"in the library (/api/library's total); {args.requests} requests per path on one keep-alive "
        "connection"
    )
    print(
        f"reference: `backup status --json -p {PROFILE}` as a process, median {ref_med * 1000:.0f} ms "
        f"(5 runs: {', '.join(f'{t * 1000:.0f}' for t in ref)} ms); a static file's p95 {floor * 1000:.1f} ms"
    )
    print(f"{'path':<44} {'first':>7} {'p50':>7} {'p95':>7} {'max':>7}  {'p95/CLI':>7}")
    for path, _ in paths:
        t = times[path]
        p95 = pct(t, 0.95)
        judged = path in ("/library", "/api/library?limit=60")
        good = p95 < FIRST_PAGE_P95
        if judged:
            ok &= good
        verdict = ("OK" if good else "OVER") + " (target p95 < 150 ms)" if judged else ""
        shown = path if len(path) <= 44 else path[:41] + "..."
        print(
            f"{shown:<44} {first[path] * 1000:6.1f}  {statistics.median(t) * 1000:6.1f}  {p95 * 1000:6.1f}  "
            f"{max(t) * 1000:6.1f}  {p95 / ref_med:6.3f}x  {verdict}"
        )
    print("  (ms; `first` is the warm-up request; the deep page is up to 100 pages on, by the cursor)")
    if code != 0:
        print(f"bench: backup ui exited {code}: {ui.stderr()}")
        ok = False
    print("RESULT:", "OK" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
