"""``report.html``: one self-contained, printable page for a person (a platform's copyright
team, an appeal reviewer): the suspect and the original side by side as embedded thumbnails
with the matched keypoints drawn, a plain-language timeline, the hashes, and how to verify."""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any, NamedTuple

THUMB = 420  # pixels, the longer side

CSS = """
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif;
 color:#111;max-width:60em;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.6em}
.verdict{font-size:1.1em;padding:.6em .8em;background:#eef6ee;border-left:4px solid #2a7a2a}
.pair{display:flex;gap:1.5em;align-items:flex-start}
figure{margin:0;flex:1 1 0;min-width:0}
figcaption{font-size:.9em;color:#444;margin-top:.3em;word-break:break-all}
svg{border:1px solid #bbb;width:100%;height:auto}
table{border-collapse:collapse;width:100%}td,th{text-align:left;vertical-align:top;padding:.25em .5em;
 border-bottom:1px solid #eee}th{width:13em;font-weight:600}
code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
ol.timeline li{margin:.3em 0}.muted{color:#666}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}.pair{page-break-inside:avoid}}
"""


class Thumb(NamedTuple):
    uri: str
    width: int
    height: int
    scale: float  # thumbnail pixels per original pixel


def thumbnail(path: str, kind: str, at_seconds: float | None = None) -> Thumb | None:
    """A JPEG thumbnail as a data URI (EXIF orientation applied; a video's frame at
    ``at_seconds``), or None when the file cannot be read here."""
    from PIL import Image, UnidentifiedImageError

    im: Image.Image
    try:
        if kind == "video":
            frame = _video_frame(path, at_seconds or 0.0)
            if frame is None:
                return None
            im = Image.open(io.BytesIO(frame))
        else:
            from inventory.media.heif import register_heif
            from inventory.media.orientation import orientation_of, upright

            register_heif()
            im = Image.open(path)
            im = upright(im, orientation_of(im.getexif()))
        im.load()
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    full_w = im.width
    im = im.convert("RGB")
    im.thumbnail((THUMB, THUMB))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=82)
    uri = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return Thumb(uri, im.width, im.height, im.width / max(1, full_w))


def _video_frame(path: str, at: float) -> bytes | None:
    from inventory.media.thumbnail import ThumbnailError, video_frame

    try:
        return video_frame(path, at, codec="png")
    except ThumbnailError:
        return None


def _figure(thumb: Thumb | None, caption: str, marks: str) -> str:
    if thumb is None:
        missing = '<p class="muted">(no picture: the file is not readable here)</p>'
        return f"<figure>{missing}<figcaption>{caption}</figcaption></figure>"
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{thumb.width}" height="{thumb.height}" '
        f'viewBox="0 0 {thumb.width} {thumb.height}"><image href="{thumb.uri}" width="{thumb.width}" '
        f'height="{thumb.height}"/>{marks}</svg><figcaption>{caption}</figcaption></figure>'
    )


def _points(pairs: list[Any], side: int, thumb: Thumb | None) -> str:
    if thumb is None:
        return ""
    colours = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6")
    out = []
    for i, pair in enumerate(pairs[:60]):
        try:
            x, y = float(pair[2 * side]) * thumb.scale, float(pair[2 * side + 1]) * thumb.scale
        except (TypeError, ValueError, IndexError):
            continue
        c = colours[i % len(colours)]
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="none" stroke="{c}" stroke-width="2"/>')
        out.append(f'<text x="{x + 5:.1f}" y="{y - 4:.1f}" font-size="10" fill="{c}">{i + 1}</text>')
    return "".join(out)


def _region(window: Any, thumb: Thumb | None) -> str:
    """The enrolled window of the original that matched (a crop), outlined."""
    from inventory.match.params import WINDOWS

    if thumb is None or window in (None, "full") or window not in WINDOWS:
        return ""
    left, top, right, bottom = WINDOWS[window]
    x, y = left * thumb.width, top * thumb.height
    w, h = (right - left) * thumb.width, (bottom - top) * thumb.height
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" '
        'stroke="#ffd400" stroke-width="3" stroke-dasharray="8 5"/>'
    )


def _row(label: str, value: Any, hashlike: bool = False) -> str:
    if value in (None, "", [], {}):
        return ""
    text = escape(str(value))
    return f"<tr><th>{escape(label)}</th><td{' class=hash' if hashlike else ''}>{text}</td></tr>"


def _entries(cp: dict[str, Any]) -> str:
    n = int(cp["checkpoint"]["entries"])
    return "1 ledger entry" if n == 1 else f"{n:,} ledger entries"


def timeline(ev: dict[str, Any]) -> list[tuple[str, str]]:
    """(when, what) in plain words, oldest first."""
    o = ev["original"]
    items: list[tuple[str, str]] = []
    if o.get("capture_time"):
        camera = " ".join((o.get("camera") or {}).values())
        items.append(
            (o["capture_time"], f"Taken{' with ' + camera if camera else ''} (from the file's own metadata)")
        )
    items.append((o["first_seen"], f"First recorded in the creator's inventory, at {o['paths'][0]}"))
    for cp in ev["checkpoints"]:
        stamp = cp.get("timestamp")
        if isinstance(stamp, dict):
            items.append(
                (
                    stamp["time"],
                    f"Record sealed: checkpoint of {_entries(cp)} timestamped by {stamp['authority']}",
                )
            )
        else:
            items.append(
                (
                    cp["checkpoint"]["time"],
                    f"Record signed: checkpoint of {_entries(cp)}",
                )
            )
    for p in o.get("publications", []):
        items.append((p["date"], f"Published on {p['platform']}: {p['url']}"))
    for b in ev["backups"]:
        if b["snapshots"]:
            first = b["snapshots"][0]
            items.append((first["recorded"], f"Backed up to {b['target']} (snapshot {first['id']})"))
        else:
            items.append(("", f"Held on backup target {b['target']}"))
    if ev["suspect"].get("url"):
        items.append(("", f"Found reposted at {ev['suspect']['url']}"))
    return sorted(items, key=lambda it: (it[0] == "", it[0]))


def render(ev: dict[str, Any], suspect_file: str, original_file: str | None) -> str:
    o, s, m = ev["original"], ev["suspect"], ev["match"]
    details = m.get("details") or {}
    time_range = details.get("time_range")
    s_thumb = thumbnail(suspect_file, s["kind"], 0.0 if s["kind"] == "video" else None)
    o_thumb = (
        thumbnail(original_file, o["kind"], float(time_range[0]) if time_range else None)
        if original_file
        else None
    )
    pairs = details.get("keypoints") or []
    copy = details.get("derivative")
    same = m["method"] == "exact" and not copy
    method = {
        "exact": f"byte-for-byte identical to the stamped copy {copy['path']} made from it (same SHA-256)"
        if copy
        else "byte-for-byte identical (same SHA-256)",
        "perceptual": "visually the same picture (perceptual hash)",
        "features": "the same picture, by matching local features with a geometric check",
        "video": "frames of the same video (perceptual hashes of frames, aligned in time)",
    }.get(m["method"], m["method"])
    score = f"distance {m['distance']} bits" if m.get("distance") is not None else f"score {m.get('score')}"
    verdict = (
        f"The suspect file matches an original in {escape(ev['account']['name'])}'s inventory: "
        f"{escape(method)}; {escape(score)}, confidence {float(m['confidence']):.0%}."
    )
    if time_range:
        verdict += f" It comes from {time_range[0]:.1f}-{time_range[1]:.1f} s of the original video."
    if pairs:
        verdict += f" {len(pairs)} matching points are marked with the same numbers on both pictures."
    if details.get("window") not in (None, "full"):
        verdict += " The part of the original the suspect shows is outlined."
    tl = "".join(
        f"<li><b>{escape(when) if when else 'Now'}</b>: {escape(what)}</li>" for when, what in timeline(ev)
    )
    stamps = [cp for cp in ev["checkpoints"] if isinstance(cp.get("timestamp"), dict)]
    proof_rows = "".join(
        _row(
            f"Checkpoint {cp['checkpoint']['entries']}",
            f"head {cp['checkpoint']['head']}, signed {cp['checkpoint']['time']}",
            True,
        )
        + _row(
            "Trusted timestamp",
            "{time} by {authority} (serial {serial})".format(**cp["timestamp"])
            if isinstance(cp.get("timestamp"), dict)
            else ("waiting to be sent" if cp.get("timestamp") == "pending" else "none configured"),
        )
        for cp in ev["checkpoints"]
    )
    verify_cmd = ""
    if stamps:
        cp = stamps[0]
        verify_cmd = (
            f"<p>The timestamp also verifies with OpenSSL alone:</p><pre><code>openssl ts -verify "
            f"-data {escape(cp['file'])} -in {escape(cp['timestamp']['token_file'])} "
            f"-CAfile {escape(cp['timestamp']['authority_file'])}</code></pre>"
        )
    s_caption = f"Suspect: {escape(s['file'])}" + (f"<br>{escape(s['url'])}" if s.get("url") else "")
    o_caption = f"Original: {escape(o['paths'][0] if o['paths'] else o['sha256'])}"
    o_caption += " (identical file)" if same else " (the suspect is its stamped copy)" if copy else ""
    s_phash = (s.get("hashes") or {}).get("phash")
    first, last = ev["ledger"]["first"], ev["ledger"]["entries"][-1]["seq"]
    chained = f"entry {first} records the original; entries {first}-{last} are chained by SHA-256"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Evidence of ownership: {escape(s["file"])}</title>
<style>{CSS}</style></head><body>
<h1>Evidence of ownership</h1>
<p class="muted">Prepared {escape(ev["created"])} by Keepmark {escape(ev["keepmark"])} for
{escape(ev["account"]["name"])} (@{escape(ev["account"]["handle"])}).</p>
<p class="verdict">{verdict}</p>
<div class="pair">
{_figure(s_thumb, s_caption, _points(pairs, 0, s_thumb))}
{_figure(o_thumb, o_caption, _points(pairs, 1, o_thumb) + _region(details.get("window"), o_thumb))}
</div>
<h2>Timeline</h2><ol class="timeline">{tl}</ol>
<h2>The original</h2><table>
{_row("SHA-256", o["sha256"], True)}{_row("Size", f"{o['size']:,} bytes")}
{_row("Format", f"{o.get('format', '')} {o.get('width', '')}x{o.get('height', '')}".strip())}
{_row("Taken", o.get("capture_time"))}{_row("Camera", " ".join((o.get("camera") or {}).values()))}
{_row("First recorded", o["first_seen"])}{_row("Perceptual hash (pHash)", o.get("phash"), True)}
{_row("Paths", "; ".join(o["paths"]))}
{_row("Published", "; ".join(f"{p['platform']} {p['date']} {p['url']}" for p in o.get("publications", [])))}
{_row("Backups", "; ".join(f"{b['target']} ({len(b['snapshots'])} snapshots)" for b in ev["backups"]))}
</table>
<h2>The suspect</h2><table>
{_row("File", s["file"])}{_row("Found at", s.get("url"))}{_row("SHA-256", s["sha256"], True)}
{_row("Size", f"{s['size']:,} bytes")}{_row("Perceptual hash (pHash)", s_phash, True)}
{_row("Match", f"{m['method']}: {score}, confidence {float(m['confidence']):.3f}")}
</table>
<h2>The record and its seal</h2><table>
{_row("Ledger entry", chained)}
{proof_rows}
{_row("Signing key", (ev["checkpoints"][0]["checkpoint"]["key_id"] if ev["checkpoints"] else None))}
</table>
<h2>How to verify</h2>
<p>This folder holds the complete evidence: <code>evidence.json</code> (every fact on this page, the
ledger entries, the signed checkpoints and the timestamp tokens), a copy of the suspect file, and the
checkpoint and timestamp files under <code>proof/</code>. With Keepmark installed, anyone can re-check
all of it offline:</p>
<pre><code>backup prove --verify {escape("<this folder>")}</code></pre>
<p>It recomputes the SHA-256 of every file here, the hash chain of the ledger entries (each entry's hash
covers the one before it), the Ed25519 signature of each checkpoint over its entry count and head
hash, and the RFC 3161 timestamp token against the authority's certificate. A change of a single
character anywhere makes it fail.</p>
{verify_cmd}
<p class="muted">What this shows: the creator's inventory held this content no later than the time of
the timestamp (or of the signed checkpoint, whose time comes from the creator's computer), and the
record was not rearranged since. Capture time and camera come from metadata inside the file, which
can be edited. A perceptual or feature match shows that the pictures look alike, not who made them.</p>
</body></html>
"""
