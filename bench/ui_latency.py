"""`backup ui` over a profile whose inventory holds 100,000 files: how fast it answers, how soon
a daemon event reaches an open page, and how much memory it takes.

    python bench/ui_latency.py [--files 100000] [--requests 40] [--work DIR]

Targets (the issue's figures):
- every page and API answer served in under 100 ms at p95 (an absolute target), printed beside
  the CLI's `backup status --json` for the same profile, run as a process in the same run (the
  median of 5), with each path's p95 as a ratio of it;
- a daemon event reaches an open page (its `/api/events` stream) within 1 s at p95: a line
  appended to the profile's daemon.log as the daemon's logging writes it, timed until its
  `activity` message arrives; once more with a real `backup watch` (a new photo dropped into a
  source folder, until the daemon's line naming it arrives: that includes the daemon's settle
  time and its recording and stamping, so it is shown, not judged);
- the app's resident memory under 60 MB after all the requests (a bare Python's is shown
  beside it).

The profile is made once under --work and reused: FILES small files in shoot folders of 200
(19 of 20 Lightroom-style .xmp sidecars of 2-3 KB, 1 of 20 a real 320x240 JPEG, decoded and
hashed as any photo), recorded and backed up to a local drive target by one `backup full`, so
that the inventory, the ledger, the signed checkpoint and a snapshot are all Keepmark's own.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import queue
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, timed

PROFILE = "uib"
PER_FOLDER = 200  # files per shoot folder
PHOTO_EVERY = 20  # one file in this many is a JPEG
SCENES = 400  # different scenes drawn; each photo is one of them with its own number on it
PAGE_P95 = 0.100  # seconds
EVENT_P95 = 1.0  # seconds
RSS_MOST = 60 * 1024 * 1024  # bytes
LIVE_NAME = "IMG_LIVE.jpg"  # the photo dropped in while `backup watch` runs

XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmp:CreatorTool="Adobe Photoshop Lightroom Classic 13.2"
   xmp:ModifyDate="{date}"
   xmp:Rating="{rating}"
   crs:Version="16.2"
   crs:WhiteBalance="Custom"
   crs:Temperature="{temp}"
   crs:Tint="{tint}"
   crs:Exposure2012="{exposure:+.2f}"
   crs:Contrast2012="{contrast}"
   crs:Highlights2012="{high}"
   crs:Shadows2012="{shadows}"
   crs:Whites2012="{whites}"
   crs:Blacks2012="{blacks}"
   crs:Texture="{texture}"
   crs:Clarity2012="{clarity}"
   crs:Dehaze="{dehaze}"
   crs:Vibrance="{vibrance}"
   crs:Saturation="{saturation}"
   crs:ParametricShadows="0"
   crs:ParametricDarks="0"
   crs:ParametricLights="0"
   crs:ParametricHighlights="0"
   crs:Sharpness="{sharpness}"
   crs:LuminanceSmoothing="{luma}"
   crs:ColorNoiseReduction="25"
   crs:LensProfileEnable="1"
   crs:CameraProfile="Adobe Standard"
   crs:HasSettings="True"
   crs:CropTop="0" crs:CropLeft="0" crs:CropBottom="1" crs:CropRight="1" crs:CropAngle="{angle:.3f}"
   crs:HasCrop="False">
   <dc:subject>
    <rdf:Bag>
     <rdf:li>{tag1}</rdf:li>
     <rdf:li>{tag2}</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <crs:ToneCurvePV2012>
    <rdf:Seq>
     <rdf:li>0, 0</rdf:li>
     <rdf:li>{c1}, {c2}</rdf:li>
     <rdf:li>255, 255</rdf:li>
    </rdf:Seq>
   </crs:ToneCurvePV2012>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
{padding}
<?xpacket end="w"?>
"""
TAGS = ["portrait", "street", "golden hour", "studio", "wedding", "travel", "night", "landscape"]


# -- the profile ------------------------------------------------------------------------------


def make_files(source: Path, count: int, photo_every: int = PHOTO_EVERY) -> tuple[int, int]:
    """``count`` files under ``source``, in shoot folders of ``PER_FOLDER``, one in
    ``photo_every`` a JPEG; (sidecars, photos)."""
    from backup.app.samples import scene

    rng = random.Random(11)
    sidecars = photos = 0
    scenes: dict[int, Any] = {}  # drawing a scene costs more than encoding it: a few hundred, reused
    for i in range(count):
        folder = source / f"2024-{1 + (i // PER_FOLDER) % 12:02d}-shoot-{i // PER_FOLDER:04d}"
        if i % PER_FOLDER == 0:
            folder.mkdir(parents=True, exist_ok=True)
        if i % photo_every == photo_every - 1:
            base = scenes.get(i % SCENES)
            if base is None:
                base = scenes[i % SCENES] = scene(320, 240, i)
            picture = base.copy()
            for bit in range(20):  # each photo its own: its number drawn in a row of pixels
                picture.putpixel((4 + bit, 4), (255, 255, 255) if i >> bit & 1 else (0, 0, 0))
            picture.save(folder / f"IMG_{i:06d}.jpg", quality=85)
            photos += 1
            continue
        text = XMP.format(
            date=f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}",
            rating=rng.randint(0, 5),
            temp=rng.randint(2800, 7500),
            tint=rng.randint(-30, 30),
            exposure=rng.uniform(-2, 2),
            contrast=rng.randint(-50, 50),
            high=rng.randint(-100, 0),
            shadows=rng.randint(0, 100),
            whites=rng.randint(-50, 50),
            blacks=rng.randint(-50, 50),
            texture=rng.randint(-20, 40),
            clarity=rng.randint(-20, 40),
            dehaze=rng.randint(0, 30),
            vibrance=rng.randint(-20, 40),
            saturation=rng.randint(-20, 20),
            sharpness=rng.randint(0, 80),
            luma=rng.randint(0, 40),
            angle=rng.uniform(-3, 3),
            tag1=rng.choice(TAGS),
            tag2=rng.choice(TAGS),
            c1=rng.randint(40, 90),
            c2=rng.randint(40, 90),
            padding=" " * rng.randint(0, 800),  # Lightroom pads its packets for in-place edits
        )
        (folder / f"IMG_{i:06d}.xmp").write_text(text, encoding="utf-8")
        sidecars += 1
    return sidecars, photos


def build(
    work: Path, count: int, cli: list[str], env: dict[str, str], photo_every: int = PHOTO_EVERY
) -> Path:
    """The profile's source folder, made and recorded once (a marker file says it was)."""
    source, drive = work / "Shoots", work / "drive"
    done = work / "built.json"
    if done.exists():
        how = json.loads(done.read_text())
        print(
            f"profile {PROFILE!r} reused from {work} (made earlier: {how['sidecars']} .xmp sidecars + "
            f"{how['photos']} JPEGs; files written in {how['write_s']:.0f} s, `backup full` "
            f"{how['full_s']:.0f} s)"
        )
        return source
    home = Path(env["KEEPMARK_HOME"])
    for old in (source, drive, home):
        shutil.rmtree(old, ignore_errors=True)
    drive.mkdir(parents=True)
    print(f"making {count} files in {source} ...", flush=True)
    t0 = time.perf_counter()
    sidecars, photos = make_files(source, count, photo_every)
    write_s = time.perf_counter() - t0
    subprocess.run(
        [*cli, "init", PROFILE, "--account", "Lily Chen", "--handle", "lily.shoots",
         "--source", str(source), "--target", str(drive)],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    print(
        f"  {sidecars} .xmp sidecars + {photos} JPEGs written in {write_s:.0f} s; `backup full` ...",
        flush=True,
    )
    full_s = timed([*cli, "full", "-p", PROFILE], env=env)
    print(f"  `backup full` (scan, ledger, checkpoint, snapshot on a local drive) took {full_s:.0f} s")
    done.write_text(
        json.dumps({"sidecars": sidecars, "photos": photos, "write_s": write_s, "full_s": full_s})
    )
    return source


# -- the app ----------------------------------------------------------------------------------


class Ui:
    """A running ``backup ui --no-browser --json -p PROFILE``."""

    def __init__(self, cli: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [*cli, "ui", "--no-browser", "--json", "-p", PROFILE],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.err: list[bytes] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        err = self.proc.stderr
        threading.Thread(target=lambda: self.err.extend(iter(err.readline, b"")), daemon=True).start()
        first = self.proc.stdout.readline()
        if not first:
            self.proc.wait(60)
            sys.exit(f"bench: backup ui printed nothing (exit {self.proc.returncode}): {self.stderr()}")
        doc = json.loads(first)
        self.port, self.pid = doc["port"], doc["pid"]
        self.token = doc["url"].split("token=", 1)[1]
        self.cookie = ""

    def stderr(self) -> str:
        return b"".join(self.err).decode("utf-8", "replace")

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def sign_in(self) -> None:
        """The URL's token for a session cookie, as a browser does on opening the URL."""
        conn = self.connect()
        conn.request("GET", "/?token=" + self.token)
        r = conn.getresponse()
        r.read()
        conn.close()
        if r.status != 303:
            sys.exit(f"bench: the token exchange answered {r.status}")
        self.cookie = (r.getheader("set-cookie") or "").split(";", 1)[0]

    def headers(self, path: str) -> dict[str, str]:
        if path == "/":
            return {"Cookie": self.cookie}
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            sys.exit("bench: backup ui did not exit 60 s after SIGTERM")


def get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    elapsed = time.perf_counter() - t0
    if r.status != 200:
        sys.exit(f"bench: GET {path} answered {r.status}: {body[:300]!r}")
    return elapsed, body


def pct(values: list[float], p: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


# -- the event stream -------------------------------------------------------------------------


class Stream:
    """``/api/events`` read line by line in a thread; each ``activity`` message's line is put on
    a queue with the time it arrived."""

    def __init__(self, ui: Ui) -> None:
        self.conn = ui.connect()
        self.conn.request("GET", "/api/events", headers=ui.headers("/api/events"))
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            sys.exit(f"bench: /api/events answered {self.resp.status}")
        self.activity: queue.Queue[tuple[float, str]] = queue.Queue()
        self.daemon_seen = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event = None
        try:
            for raw in iter(self.resp.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    arrived = time.perf_counter()
                    if event == "daemon":
                        self.daemon_seen.set()
                    elif event == "activity":
                        data = json.loads(line[6:]).get("data", {})
                        self.activity.put((arrived, str(data.get("line", ""))))
                elif not line:
                    event = None
        except (OSError, AttributeError, http.client.HTTPException, ValueError):
            return  # the stream was closed (http.client drops its file: AttributeError)

    def wait_for(self, marker: str, timeout: float) -> float | None:
        """When the activity line holding ``marker`` arrived (None after ``timeout`` s)."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            try:
                arrived, line = self.activity.get(timeout=left)
            except queue.Empty:
                return None
            if marker in line:
                return arrived

    def close(self) -> None:
        self.conn.close()


def log_line(log: Path, text: str) -> float:
    """Append one line as the daemon's logging writes it; when it was written."""
    now = datetime.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S") + f",{now.microsecond // 1000:03d}"
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"{stamp} INFO {text}\n")
    return time.perf_counter()


def appended_latencies(stream: Stream, log: Path, count: int) -> list[float]:
    # The stream notes the log's end on its first look: lines from then on are sent. Lines are
    # appended until one arrives, then the measured ones, each at a random moment.
    for _ in range(20):
        marker = f"bench warm-up {uuid.uuid4().hex}"
        log_line(log, marker)
        if stream.wait_for(marker, 3) is not None:
            break
    else:
        sys.exit("bench: no appended daemon.log line reached the event stream")
    rng = random.Random(5)
    out = []
    for i in range(count):
        time.sleep(rng.uniform(0.05, 0.5))
        marker = f"bench event {i} {uuid.uuid4().hex}"
        written = log_line(log, marker)
        arrived = stream.wait_for(marker, 30)
        if arrived is None:
            sys.exit(f"bench: {marker!r} did not reach the event stream within 30 s")
        out.append(arrived - written)
    return out


def watch_latency(stream: Stream, source: Path, env: dict[str, str], work: Path) -> float:
    """With `backup watch` running: a new photo written into a source folder, until the daemon's
    line naming it reaches the page."""
    from backup.app.samples import scene

    errlog = work / "watch.err"
    with open(errlog, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backup", "watch", "-p", PROFILE],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 900
            while b"reconciliation done" not in errlog.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"bench: backup watch did not settle: {errlog.read_text()[-1000:]}")
                time.sleep(0.05)
            time.sleep(1)
            folder = source / "zz-live"
            folder.mkdir(exist_ok=True)
            tmp = work / LIVE_NAME
            scene(640, 480, int(time.time())).save(tmp, quality=88)  # new content on every run
            data = tmp.read_bytes()
            with open(folder / LIVE_NAME, "wb") as f:
                f.write(data)
            written = time.perf_counter()
            arrived = stream.wait_for(str(folder / LIVE_NAME), 120)
            if arrived is None:
                sys.exit(f"bench: no daemon line naming {LIVE_NAME} reached the page within 120 s")
            return arrived - written
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(120)
            if code != 0:
                sys.exit(f"bench: backup watch exited {code}: {errlog.read_text()[-1000:]}")


# -- memory -----------------------------------------------------------------------------------


def rss(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss)


def bare_python_rss() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    time.sleep(1.5)
    try:
        return rss(proc.pid)
    finally:
        proc.wait()


def mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


# -- the run ----------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--work", type=Path, help="working folder, kept between runs (default: a temporary one)")
    args = ap.parse_args()
    root = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-ui-"))
    work = root / f"files-{args.files}"
    work.mkdir(parents=True, exist_ok=True)
    cli = backup_cmd()
    env = {**os.environ, "KEEPMARK_HOME": str(work / "home")}
    source = build(work, args.files, cli, env)
    log = work / "home" / "state" / PROFILE / "daemon.log"

    ref = [timed([*cli, "status", "--json", "-p", PROFILE], env=env) for _ in range(5)]
    ref_med = statistics.median(ref)

    ui = Ui(cli, env)
    ok = True
    try:
        rss_start = rss(ui.pid)
        ui.sign_in()
        paths = [
            "/",
            "/api/status",
            "/api/check",
            "/api/snapshots",
            "/api/inventory?offset=0&limit=100",
            f"/api/inventory?offset={max(0, args.files - 100)}&limit=100",
            "/api/self-check",
            "/api/daemon",
            "/api/profiles",
            "/library",
            "/api/library?limit=60",
        ]
        conn = ui.connect()
        first: dict[str, float] = {}
        total = None
        for path in paths:  # warm-up, once each
            first[path], body = get(conn, path, ui.headers(path))
            if path.startswith("/api/inventory"):
                page = json.loads(body)
                total = page.get("total")
                if not any(isinstance(v, list) and v for v in page.values()):
                    sys.exit(f"bench: {path} gave no rows: {body[:300]!r}")
        times: dict[str, list[float]] = {}
        for path in paths:
            times[path] = [get(conn, path, ui.headers(path))[0] for _ in range(args.requests)]
        conn.close()
        rss_requests = rss(ui.pid)

        stream = Stream(ui)
        if not stream.daemon_seen.wait(30):
            sys.exit("bench: the event stream sent no daemon state")
        appended = appended_latencies(stream, log, args.events)
        live = watch_latency(stream, source, env, work)
        stream.close()
        rss_end = rss(ui.pid)
    finally:
        code = ui.stop()
    bare = bare_python_rss()

    print(
        f"\n`backup ui` over profile {PROFILE!r}: {args.files} files made, {total} in the inventory "
        f"(/api/inventory's total); {args.requests} requests per path on one keep-alive connection"
    )
    print(
        f"reference: `backup status --json -p {PROFILE}` as a process, median {ref_med * 1000:.0f} ms "
        f"(5 runs: {', '.join(f'{t * 1000:.0f}' for t in ref)} ms)"
    )
    print(f"{'path':<40} {'first':>7} {'p50':>7} {'p95':>7} {'max':>7}  {'p95/CLI':>7}  target p95 < 100 ms")
    for path in paths:
        t = times[path]
        p95 = pct(t, 0.95)
        good = p95 < PAGE_P95
        ok &= good
        print(
            f"{path:<40} {first[path] * 1000:6.1f}  {statistics.median(t) * 1000:6.1f}  {p95 * 1000:6.1f}  "
            f"{max(t) * 1000:6.1f}  {p95 / ref_med:6.3f}x  {'OK' if good else 'OVER'}"
        )
    print("  (ms; `first` is the warm-up request)")

    e95 = pct(appended, 0.95)
    good = e95 < EVENT_P95
    ok &= good
    print(
        f"daemon.log line -> `activity` message on an open /api/events: p50 {statistics.median(appended) * 1000:.0f} ms, "
        f"p95 {e95 * 1000:.0f} ms, max {max(appended) * 1000:.0f} ms over {len(appended)} lines "
        f"(target p95 < 1 s) {'OK' if good else 'OVER'}"
    )
    print(
        f"with `backup watch` running: a new 640x480 JPEG written -> the daemon's line naming it on the "
        f"page: {live:.2f} s (includes the daemon's settle time, recording and stamping; not judged)"
    )
    good = rss_requests < RSS_MOST
    ok &= good
    print(
        f"`backup ui` resident memory: {mb(rss_start)} at start, {mb(rss_requests)} after the requests "
        f"(target < 60 MB) {'OK' if good else 'OVER'}, {mb(rss_end)} after the event streams; "
        f"a bare `python -c 'import time; time.sleep(5)'`: {mb(bare)} "
        f"(the app adds {mb(rss_requests - bare)} to it)"
    )
    print(f"`backup ui` exit after SIGTERM: {code} {'OK' if code == 0 else 'WRONG'}")
    ok &= code == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
