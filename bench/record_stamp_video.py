"""A new video recorded and stamped, as a whole command, against a reference in one run:

``backup stamp`` on a fresh profile every run (an empty inventory, so the clip is new: it is
read, probed, hashed at evenly spaced points and as a 2 fps frame sequence, recorded in the
ledger, and stamped) vs the hand-written ffmpeg overlay command alone at the same encoder
settings (the profile's: libx264, CRF 20, preset veryfast, yuv420p; the profile's mark, saved
as a PNG by the stamper's own code, at the same place; ``-c:a copy``, ``-movflags +faststart``):
target <= 1.15x.

    python bench/record_stamp_video.py [--runs 5] [--seconds 30] [--work DIR] [--detail]

``--detail`` also times the library's steps for the same clip, interleaved: stamping alone;
recording and stamping it decoded once (the probe shared, the 2 fps sequence and the evenly
spaced frames taken by the stamper's pass, a seek only at a point where they are not proved the
seeks' frames); and recording it as a scan does (its own probe, seeks and sequence decode) and
then stamping it.

The clip (30 s of 1080p30 H.264 with AAC sound, a moving test pattern with film grain) is made
once and kept in the work folder (bench/stamp_video_vs_ffmpeg.py makes it). x264 puts a
keyframe every 250 frames (8.3 s) at most in it (a scene cut adds one), every one an IDR
picture: the frames at evenly spaced points are taken from the stamping pass (the run prints
which points are still sought, and why). Were they sought, each input seek would decode from the
keyframe before its point: about one more decode of the clip. ``--keyint 30`` makes a clip with
a phone's one-second GOPs instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import backup_cmd, fresh_profile, interleave, report, timed
from stamp_video_vs_ffmpeg import ffmpeg, make_clip

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def reference_command(home: Path, clip: Path, work: Path, out: Path) -> list[str]:
    """The overlay command a person would write for the profile's mark and encoder settings."""
    import datetime

    os.environ["KEEPMARK_HOME"] = str(home)
    from backup.app.stamp import stamping_for
    from backup.profile.load import load
    from watermark.encoders import choose_encoder, encoder_args
    from watermark.video_graph import write_mark
    from watermark.video_info import probe_video

    stamping = stamping_for(load("video"))
    info = probe_video(clip)
    day = datetime.date.today().isoformat()
    fields = stamping.fields(day, "")
    mark = work / "mark.png"
    at = write_mark(stamping.style, fields, info, mark)
    assert at is not None
    settings = stamping.video
    encoder = choose_encoder(settings.codec, info.codec)
    return [
        ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(clip), "-i", str(mark),
        "-filter_complex", f"[0:v][1:v]overlay={at[0]}:{at[1]}[v]", "-map", "[v]", "-map", "0:a",
        *encoder_args(encoder, settings), "-c:a", "copy", "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def sought(clip: Path) -> str:
    """Which of the clip's evenly spaced points the stamping pass stands for, and why not all."""
    from inventory.media.keyframes import seeks_match_pass
    from inventory.media.probe import probe
    from inventory.record.video import sampling_for

    found = probe(clip)
    verdict = seeks_match_pass(str(clip), found, sampling_for(found).points)
    proved = sum(verdict.points) if verdict.turned_alike else 0
    why = f": {verdict.reason}" if verdict.reason else ""
    return f"the clip's evenly spaced frames: {proved} of {len(verdict.points)} from the stamping pass{why}"


def detail(clip: Path, work: Path, runs: int, by_hand: list[str]) -> None:
    """The library's steps for one new video, timed in the same run, interleaved with the
    hand-written command."""
    import statistics
    import time

    from inventory.media.probe import probe
    from inventory.record.examine import examine, read, video_facts
    from inventory.record.video import sampling_for
    from watermark.style import Style, VideoSettings
    from watermark.video import stamp_video

    style = Style(text="© {name} · @{handle}")
    fields = {"name": "Lily Chen", "handle": "lily.shoots"}
    settings = VideoSettings(codec="libx264", crf=20, preset="veryfast")
    out = work / "detail.mp4"

    def stamp_only() -> None:
        stamp_video(clip, out, style, fields, settings)

    def once() -> None:
        r = read(str(clip))
        found = probe(clip)
        result = stamp_video(clip, out, style, fields, settings, probe=found, sampling=sampling_for(found))
        facts = video_facts(r, found, result.frames)
        assert facts.media.frame_sequence and facts.media.decode_error is None

    def twice() -> None:
        facts, _ = examine(str(clip))
        assert facts.media.frame_sequence
        stamp_video(clip, out, style, fields, settings)

    def reference() -> None:
        subprocess.run(by_hand, check=True)

    kinds = {
        "hand-written ffmpeg overlay (the reference)": reference,
        "stamp only": stamp_only,
        "record+stamp, decoded once": once,
        "record as a scan does (its own decodes), then stamp": twice,
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for i in range(runs):
        for k in list(kinds) if i % 2 == 0 else list(reversed(kinds)):
            t0 = time.perf_counter()
            kinds[k]()
            times[k].append(time.perf_counter() - t0)
    base = statistics.median(times["hand-written ffmpeg overlay (the reference)"])
    for k, ts in times.items():
        m = statistics.median(ts)
        print(f"  library: {k}: median {m:.2f} s -> {m / base:.3f}x the reference  [{len(ts)} runs]")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--keyint", type=int, help="a keyframe every N frames (default: x264's, 250)")
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    ap.add_argument("--detail", action="store_true", help="also time the library's steps")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="keepmark-bench-record-stamp-video-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / ("source" if args.keyint is None else f"source-keyint{args.keyint}")
    source.mkdir(exist_ok=True)
    if args.keyint is None:
        clip = source / f"clip-{args.seconds}s-1080p.mp4"
        make_clip(clip, args.seconds)
    else:  # the same clip re-encoded with a phone's short GOPs
        made = work / f"clip-{args.seconds}s-1080p.mp4"
        make_clip(made, args.seconds)
        clip = source / f"clip-{args.seconds}s-1080p-keyint{args.keyint}.mp4"
        if not clip.exists():
            subprocess.run(
                [ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(made), "-map", "0",
                 "-c:v", "libx264", "-preset", "fast", "-crf", "18", "-g", str(args.keyint), "-pix_fmt", "yuv420p",
                 "-c:a", "copy", str(clip)],
                check=True,
            )  # fmt: skip
    home, out = work / "home", work / "out"
    env = {**os.environ, "KEEPMARK_HOME": str(home)}
    cli = backup_cmd()

    fresh = fresh_profile(cli, env, "video", source, out)
    fresh()
    print(sought(clip), flush=True)
    by_hand = reference_command(home, clip, work, work / "ffmpeg.mp4")
    stamp = [*cli, "stamp", "-p", "video"]
    print("warming up (page cache, bytecode) ...", flush=True)
    timed(stamp, env=env, setup=fresh)
    ours, ref = interleave(args.runs, lambda: timed(stamp, env=env, setup=fresh), lambda: timed(by_hand))
    ok = report(
        f"recording and stamping a new {args.seconds} s 1080p H.264 clip (empty inventory)",
        ours, ref, "hand-written ffmpeg overlay", 1.15,
    )  # fmt: skip
    if args.detail:
        detail(clip, work, args.runs, by_hand)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
