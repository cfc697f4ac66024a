"""The watermark designer's live preview: the round trip of ``POST /api/watermark/preview``
through a real ``backup ui`` (HTTP, session cookie and CSRF token as the page sends them, the
whole JPEG read back), on a real 24-megapixel photo, as a creator drags the opacity slider and
clicks through the anchors.

    python bench/watermark_preview.py [--requests 80] [--work DIR]

Target (the issue's figure): the preview updates within 300 ms of a change: p95 of the round
trip under 300 ms (the page adds its ~120 ms debounce before sending).

Reference, measured in the same run and interleaved with the requests: Pillow opening the same
24 MP JPEG, decoding it through draft mode, scaling it to 1280 pixels and encoding a JPEG: what
a preview that went back to the original on every change would cost at the least, without
drawing any mark. The ratio printed is ours / the reference (p50 and p95).

The photo is a real one (scikit-image's astronaut) scaled to 6000x4000 and saved as a camera
JPEG; the profile is made with ``backup init`` and recorded with ``backup inventory scan``.
The first preview (which makes the 1280-pixel base from the original, once) is shown apart.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_P95 = 0.300  # seconds
SIZE = (6000, 4000)  # 24 megapixels
ANCHORS = ("top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right")


def make_photo(path: Path) -> None:
    from PIL import Image

    from tests.kit.photos import photo

    path.parent.mkdir(parents=True, exist_ok=True)
    photo("astronaut.png").resize(SIZE, Image.Resampling.BICUBIC).save(path, quality=92, subsampling=0)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Client:
    """The page's side of the app: a session (the printed link's token exchanged for a cookie)
    and its CSRF token."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        first = self.request("GET", f"/?token={token}")
        self.cookie = (first[1].get("set-cookie") or "").split(";", 1)[0]
        page = self.request("GET", "/watermark")[2].decode()
        self.csrf = page.split('data-csrf="', 1)[1].split('"', 1)[0]

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            sent = dict(headers or {})
            if getattr(self, "cookie", None):
                sent["Cookie"] = self.cookie
            conn.request(method, path, body=body, headers=sent)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def preview(self, sample: str, form: dict[str, Any]) -> bytes:
        body = json.dumps({"sample": sample, "form": form}).encode()
        headers = {"Content-Type": "application/json", "X-CSRF-Token": self.csrf}
        status, got, data = self.request("POST", "/api/watermark/preview", body, headers)
        if status != 200 or got.get("content-type") != "image/jpeg":
            sys.exit(f"bench: the preview answered {status}: {data[:300]!r}")
        return data


def reference(photo: Path) -> float:
    """Pillow: open, draft, decode, scale to 1280, encode: the least a preview from the original
    costs."""
    from PIL import Image

    t0 = time.perf_counter()
    with Image.open(photo) as im:
        im.draft("RGB", (1280, 1280))
        im.load()
        small = im.convert("RGB")
    small.thumbnail((1280, 1280), Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=80, help="previews timed (default 80)")
    ap.add_argument("--work", type=Path, help="a folder to work in (default: a temporary one)")
    args = ap.parse_args()
    cli = backup_cmd()
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-preview-"))
    home, shoots = work / "home", work / "Shoots"
    env = {**os.environ, "KEEPMARK_HOME": str(home)}
    photo = shoots / "DSC_0001.jpg"
    if not photo.exists():
        print(f"making a {SIZE[0]}x{SIZE[1]} photo in {shoots} ...", flush=True)
        make_photo(photo)
    if not (home / "profiles" / "wmb.toml").exists():
        subprocess.run(
            [*cli, "init", "wmb", "--account", "Lily Chen", "--handle", "lily.shoots", "--source", str(shoots)],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        subprocess.run(
            [*cli, "inventory", "scan", "-p", "wmb"], env=env, check=True, stdout=subprocess.DEVNULL
        )
    print(f"photo {photo} ({photo.stat().st_size / 1e6:.1f} MB, {SIZE[0] * SIZE[1] / 1e6:.0f} MP)")

    out, err = work / "ui.out", work / "ui.err"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(
            [*cli, "ui", "--no-browser", "--json", "-p", "wmb"],
            env=env,
            stdout=o,
            stderr=e,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while b"\n" not in out.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench: backup ui did not start: {err.read_text(errors='replace')[-500:]}")
            time.sleep(0.05)
        first = json.loads(out.read_bytes().split(b"\n", 1)[0])
        client = Client(first["port"], first["url"].split("token=", 1)[1])
        status, _, body = client.request("GET", "/api/watermark")
        if status != 200:
            sys.exit(f"bench: /api/watermark answered {status}: {body[:300]!r}")
        doc = json.loads(body)
        [sample] = [s["id"] for s in doc["samples"] if s["name"] == photo.name][:1]
        form = doc["form"]

        t0 = time.perf_counter()
        client.preview(sample, form)
        cold = time.perf_counter() - t0

        ours: list[float] = []
        tiled: list[float] = []
        refs: list[float] = []
        for i in range(args.requests):
            change = {"opacity": round(0.30 + 0.2 * (i % 11) / 10, 3), "position": ANCHORS[i % len(ANCHORS)]}
            t0 = time.perf_counter()
            client.preview(sample, {**form, **change})
            ours.append(time.perf_counter() - t0)
            if i % 4 == 0:
                t0 = time.perf_counter()
                client.preview(sample, {**form, **change, "position": "tiled"})
                tiled.append(time.perf_counter() - t0)
            refs.append(reference(photo))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)

    def line(name: str, values: list[float]) -> str:
        return (
            f"{name:<44} p50 {statistics.median(values) * 1000:7.1f} ms   p95 {percentile(values, 95) * 1000:7.1f} ms"
            f"   (n={len(values)})"
        )

    p95 = percentile(ours, 95)
    print(f"first preview (makes the 1280 px base from the original, once): {cold * 1000:.0f} ms")
    print(line("preview round trip, anchored mark", ours))
    print(line("preview round trip, tiled mark", tiled))
    print(line("reference: Pillow open+draft+scale+encode", refs))
    ratio50 = statistics.median(ours) / statistics.median(refs)
    ratio95 = p95 / percentile(refs, 95)
    worst = max(p95, percentile(tiled, 95))
    verdict = "PASS" if worst < TARGET_P95 else "FAIL"
    print(f"ratio ours/reference: p50 {ratio50:.2f}, p95 {ratio95:.2f}")
    print(
        f"target: p95 under {TARGET_P95 * 1000:.0f} ms (anchored and tiled): {worst * 1000:.0f} ms -> {verdict}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
