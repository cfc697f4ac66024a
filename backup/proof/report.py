"""``report.html``: one self-contained, printable page for a person (a platform's copyright
team, an appeal reviewer): the suspect and the original side by side as embedded thumbnails
with the matched keypoints drawn, a plain-language timeline, the hashes, and how to verify.

In English or in Simplified Chinese (``lang``): every heading, label and sentence in that
language; hashes, file names, URLs and the stored times as they are (``backup.proof.lang``)."""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any, NamedTuple

from backup.proof import lang as L

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


def _figure(thumb: Thumb | None, caption: str, marks: str, lang: str = "en") -> str:
    if thumb is None:
        missing = f'<p class="muted">{escape(TEXT[lang]["no_picture"])}</p>'
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


TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Evidence of ownership",
        "prepared": "Prepared {created} by Keepmark {version} for {name} (@{handle}).",
        "verdict": "The suspect file matches an original in {name}'s inventory: {method}; {score}.",
        "time_range": " It comes from {start:.1f}-{end:.1f} s of the original video.",
        "points": " {n} matching points are marked with the same numbers on both pictures.",
        "window": " The part of the original the suspect shows is outlined.",
        "no_picture": "(no picture: the file is not readable here)",
        "suspect_caption": "Suspect: {file}",
        "original_caption": "Original: {path}",
        "identical": " (identical file)",
        "stamped": " (the suspect is its stamped copy)",
        "timeline": "Timeline",
        "now": "Now",
        "taken": "Taken{camera} (from the file's own metadata)",
        "with_camera": " with {camera}",
        "recorded": "First recorded in the creator's inventory, at {path}",
        "sealed": "Record sealed: checkpoint of {entries} timestamped by {authority}",
        "signed": "Record signed: checkpoint of {entries}",
        "published": "Published on {platform}: {url}",
        "published_export": "Published on {platform} (in its data export: "
        "the published file's SHA-256 {sha})",
        "backed_up": "Backed up to {target} (snapshot {id})",
        "held": "Held on backup target {target}",
        "found": "Found reposted at {url}",
        "the_original": "The original",
        "size": "Size",
        "bytes": "{n:,} bytes",
        "format": "Format",
        "camera": "Camera",
        "first_recorded": "First recorded",
        "taken_label": "Taken",
        "no_link": "(no link recorded)",
        "phash": "Perceptual hash (pHash)",
        "paths": "Paths",
        "publications": "Published",
        "backups": "Backups",
        "snapshots": "{target} ({n} snapshots)",
        "snapshot": "{target} (1 snapshot)",
        "the_suspect": "The suspect",
        "file": "File",
        "found_at": "Found at",
        "match": "Match",
        "match_value": "{method}: {score}",
        "seal": "The record and its seal",
        "ledger_entry": "Ledger entry",
        "chained": "entry {first} records the original; entries {first}-{last} are chained by SHA-256",
        "proven": "entry {first} records the original; each of the {n} entries about it here is shown "
        "to be in checkpoint {cp} by its Merkle audit path, which names no other file",
        "root": ", Merkle root {root}",
        "checkpoint": "Checkpoint {n}",
        "checkpoint_value": "head {head}, signed {time}",
        "timestamp": "Trusted timestamp",
        "signing_key": "Signing key",
        "how": "How to verify",
        "how_1": "This folder holds the complete evidence: {evidence} (every fact on this page, the "
        "ledger entries, the signed checkpoints and the timestamp tokens), a copy of the suspect file, "
        "and the checkpoint and timestamp files under {proof}. With Keepmark installed, anyone can "
        "re-check all of it offline:",
        "how_2": "It recomputes the SHA-256 of every file here and of every ledger entry, checks that "
        "the original's entries are in the signed checkpoint, the Ed25519 signature of each "
        "checkpoint, and the RFC 3161 timestamp token against the authority's certificate. A change "
        "of a single character anywhere makes it fail.",
        "openssl": "The timestamp also verifies with OpenSSL alone:",
        "verify_txt": "{verify} in this folder gives the commands that check all of it with OpenSSL "
        "alone, without Keepmark.",
        "this_folder": "<this folder>",
        "limits": "What this shows: the creator's inventory held this content no later than the time "
        "of the timestamp (or of the signed checkpoint, whose time comes from the creator's computer), "
        "and the record was not rearranged since. Capture time and camera come from metadata inside the "
        "file, which can be edited. A perceptual or feature match shows that the pictures look alike, "
        "not who made them.",
    },
    "zh": {
        "title": "作品权属证明",
        "prepared": "本报告由 Keepmark {version} 于 {created} 为 {name}（@{handle}）生成。",
        "verdict": "疑似侵权文件与 {name} 作品库中登记的一件原件相符：{method}；{score}。",
        "time_range": "它取自原视频第 {start:.1f}-{end:.1f} 秒。",
        "points": "两张图上以相同编号标出了 {n} 对相互匹配的特征点。",
        "window": "原件中被疑似侵权文件使用的部分已用虚线框标出。",
        "no_picture": "（无法显示图片：此处读不到该文件）",
        "suspect_caption": "疑似侵权文件：{file}",
        "original_caption": "原件：{path}",
        "identical": "（同一文件）",
        "stamped": "（疑似侵权文件即该原件的加水印副本）",
        "timeline": "时间线",
        "now": "当前",
        "taken": "拍摄{camera}（取自文件自带的元数据）",
        "with_camera": "，设备 {camera}",
        "recorded": "首次登记于创作者的作品库，路径 {path}",
        "sealed": "记录封存：包含 {entries}的检查点，由 {authority} 加盖可信时间戳",
        "signed": "记录签名：包含 {entries}的检查点",
        "published": "发布于 {platform}：{url}",
        "published_export": "发布于 {platform}（见平台导出的数据：发布文件 SHA-256 {sha}）",
        "backed_up": "备份至 {target}（快照 {id}）",
        "held": "保存于备份位置 {target}",
        "found": "发现被转载于 {url}",
        "the_original": "原件",
        "size": "文件大小",
        "bytes": "{n:,} 字节",
        "format": "格式",
        "camera": "拍摄设备",
        "first_recorded": "首次登记时间",
        "taken_label": "拍摄时间",
        "no_link": "（未记录链接）",
        "phash": "感知哈希（pHash）",
        "paths": "存放路径",
        "publications": "发布记录",
        "backups": "备份",
        "snapshots": "{target}（{n} 个快照）",
        "snapshot": "{target}（1 个快照）",
        "the_suspect": "疑似侵权文件",
        "file": "文件",
        "found_at": "发现地址",
        "match": "比对结果",
        "match_value": "{method}：{score}",
        "seal": "登记记录及其封存",
        "ledger_entry": "账本记录",
        "chained": "第 {first} 条记录登记了原件；第 {first} 至 {last} 条记录以 SHA-256 逐条链接",
        "proven": "第 {first} 条记录登记了原件；此处与之有关的 {n} 条记录，各自以 Merkle 审计路径"
        "证明包含在检查点 {cp} 中，证明过程不涉及任何其他文件",
        "root": "，Merkle 根 {root}",
        "checkpoint": "检查点 {n}",
        "checkpoint_value": "链头 {head}，签名时间 {time}",
        "timestamp": "可信时间戳",
        "signing_key": "签名密钥",
        "how": "如何核验",
        "how_1": "本文件夹包含完整的证据：{evidence}（本页的全部事实、账本记录、"
        "已签名的检查点和时间戳凭证）、疑似侵权文件的副本，以及 {proof} 下的检查点和时间戳文件。"
        "任何人安装 Keepmark 后均可离线重新核验全部内容：",
        "how_2": "核验会重新计算此处每个文件和每条账本记录的 SHA-256，确认原件的记录包含在已签名的检查点中，"
        "核验每个检查点的 Ed25519 签名，并用签发机构的证书核验 RFC 3161 时间戳凭证。"
        "任何一处改动哪怕一个字符，核验都会失败。",
        "openssl": "时间戳也可以只用 OpenSSL 核验：",
        "verify_txt": "本文件夹中的 {verify} 列出了无需 Keepmark、只用 OpenSSL 即可完成全部核验的命令。",
        "this_folder": "<本文件夹>",
        "limits": "证明范围说明：创作者的作品库最晚在时间戳所示时间"
        "（或已签名检查点的时间，该时间取自创作者的电脑）已登记此内容，且此后记录未被改动。拍摄时间和拍摄设备取自文件内的元数据，而元数据可以被修改。"
        "感知哈希或特征点匹配说明两张图片看起来相同，并不说明作者是谁。",
    },
}


def _row(label: str, value: Any, hashlike: bool = False) -> str:
    if value in (None, "", [], {}):
        return ""
    text = escape(str(value))
    return f"<tr><th>{escape(label)}</th><td{' class=hash' if hashlike else ''}>{text}</td></tr>"


def timeline(ev: dict[str, Any], lang: str = "en") -> list[tuple[str, str]]:
    """(when, what) in plain words, oldest first; ``when`` as stored (ISO 8601, or "")."""
    t = TEXT[lang]
    o = ev["original"]
    items: list[tuple[str, str]] = []
    if o.get("capture_time"):
        camera = " ".join((o.get("camera") or {}).values())
        items.append(
            (
                o["capture_time"],
                t["taken"].format(camera=t["with_camera"].format(camera=camera) if camera else ""),
            )
        )
    where = o["paths"][0] if o.get("paths") else o["sha256"]
    items.append((o["first_seen"], t["recorded"].format(path=where)))
    for cp in ev["checkpoints"]:
        stamp = cp.get("timestamp")
        n = L.entries(int(cp["checkpoint"]["entries"]), lang)
        if isinstance(stamp, dict):
            items.append((stamp["time"], t["sealed"].format(entries=n, authority=stamp["authority"])))
        else:
            items.append((cp["checkpoint"]["time"], t["signed"].format(entries=n)))
    for p in o.get("publications", []):
        if not p.get("url") and p.get("export_sha256"):
            what = t["published_export"].format(platform=p.get("platform"), sha=p["export_sha256"])
        else:
            what = t["published"].format(platform=p.get("platform"), url=p.get("url") or t["no_link"])
        items.append((p.get("date") or "", what))
    for b in ev["backups"]:
        if b["snapshots"]:
            first = b["snapshots"][0]
            items.append((first["recorded"], t["backed_up"].format(target=b["target"], id=first["id"])))
        else:
            items.append(("", t["held"].format(target=b["target"])))
    if ev["suspect"].get("url"):
        items.append(("", t["found"].format(url=ev["suspect"]["url"])))
    return sorted(items, key=lambda it: (it[0] == "", it[0]))


def _chained(ledger: dict[str, Any], checkpoints: list[int], t: dict[str, str]) -> str:
    """How the original's entry is tied to the signed checkpoints: by the chain of every entry
    up to one (a version 1 bundle, or a version 1 checkpoint), or by Merkle audit paths."""
    first = ledger["first"]
    chain = ledger.get("chain") or ([] if ledger.get("proofs") else ledger["entries"])
    if chain or not checkpoints:
        last = chain[-1]["seq"] if chain else max((e["seq"] for e in ledger["entries"]), default=first)
        return t["chained"].format(first=first, last=last)
    return t["proven"].format(first=first, n=len(ledger["entries"]), cp=max(checkpoints))


def render(ev: dict[str, Any], suspect_file: str, original_file: str | None, lang: str = "en") -> str:
    """The page, in ``lang`` ("en" or "zh")."""
    t = TEXT[lang]
    o, s, m = ev["original"], ev["suspect"], ev["match"]
    acc = ev["account"]
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
    method, score = L.method(m, lang), L.score(m, lang)
    verdict = escape(t["verdict"].format(name=acc["name"], method=method, score=score))
    if time_range:
        verdict += escape(t["time_range"].format(start=time_range[0], end=time_range[1]))
    if pairs:
        verdict += escape(t["points"].format(n=len(pairs)))
    if details.get("window") not in (None, "full"):
        verdict += escape(t["window"])
    tl = "".join(
        f"<li><b>{escape(L.when(when, lang)) if when else t['now']}</b>: {escape(what)}</li>"
        if lang == "en"
        else f"<li><b>{escape(L.when(when, lang)) if when else t['now']}</b>：{escape(what)}</li>"
        for when, what in timeline(ev, lang)
    )
    stamps = [cp for cp in ev["checkpoints"] if isinstance(cp.get("timestamp"), dict)]
    proof_rows = "".join(
        _row(
            t["checkpoint"].format(n=cp["checkpoint"]["entries"]),
            t["checkpoint_value"].format(
                head=cp["checkpoint"]["head"]
                + (t["root"].format(root=cp["checkpoint"]["root"]) if cp["checkpoint"].get("root") else ""),
                time=L.evidence_time(cp["checkpoint"]["time"], lang),
            ),
            True,
        )
        + _row(
            t["timestamp"],
            L.trusted_timestamp(cp["timestamp"], lang)
            if isinstance(cp.get("timestamp"), dict)
            else L.no_timestamp(cp.get("timestamp"), lang),
        )
        for cp in ev["checkpoints"]
    )
    verify_cmd = ""
    if stamps:
        cp = stamps[0]
        verify_cmd = (
            f"<p>{escape(t['openssl'])}</p><pre><code>openssl ts -verify "
            f"-data {escape(cp['file'])} -in {escape(cp['timestamp']['token_file'])} "
            f"-CAfile {escape(cp['timestamp']['authority_file'])}</code></pre>"
        )
    s_caption = escape(t["suspect_caption"].format(file=s["file"])) + (
        f"<br>{escape(s['url'])}" if s.get("url") else ""
    )
    o_caption = escape(t["original_caption"].format(path=o["paths"][0] if o.get("paths") else o["sha256"]))
    o_caption += escape(t["identical"]) if same else escape(t["stamped"]) if copy else ""
    s_phash = (s.get("hashes") or {}).get("phash")
    chained = _chained(ev["ledger"], [cp["checkpoint"]["entries"] for cp in ev["checkpoints"]], t)
    sep = "；" if lang == "zh" else "; "
    fmt = f"{o.get('format', '')} {o.get('width', '')}x{o.get('height', '')}".strip()
    how_1 = escape(t["how_1"]).format(evidence="<code>evidence.json</code>", proof="<code>proof/</code>")
    title = t["title"] + ("：" if lang == "zh" else ": ") + s["file"]
    prepared = t["prepared"].format(
        created=L.when(ev["created"], lang),
        version=ev["keepmark"],
        name=acc["name"],
        handle=acc["handle"],
    )
    camera = " ".join((o.get("camera") or {}).values())
    backups = sep.join(
        t["snapshots" if b.get("count", len(b["snapshots"])) != 1 else "snapshot"].format(
            target=b["target"], n=b.get("count", len(b["snapshots"]))
        )
        for b in ev["backups"]
    )
    return f"""<!DOCTYPE html>
<html lang="{L.HTML_LANG[lang]}"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{CSS}</style></head><body>
<h1>{escape(t["title"])}</h1>
<p class="muted">{escape(prepared)}</p>
<p class="verdict">{verdict}</p>
<div class="pair">
{_figure(s_thumb, s_caption, _points(pairs, 0, s_thumb), lang)}
{_figure(o_thumb, o_caption, _points(pairs, 1, o_thumb) + _region(details.get("window"), o_thumb), lang)}
</div>
<h2>{escape(t["timeline"])}</h2><ol class="timeline">{tl}</ol>
<h2>{escape(t["the_original"])}</h2><table>
{_row("SHA-256", o["sha256"], True)}{_row(t["size"], t["bytes"].format(n=o["size"]))}
{_row(t["format"], fmt if fmt != "x" else "")}
{_row(t["taken_label"], L.when(o.get("capture_time"), lang))}{_row(t["camera"], camera)}
{_row(t["first_recorded"], L.evidence_time(o["first_seen"], lang))}{_row(t["phash"], o.get("phash"), True)}
{_row(t["paths"], sep.join(o.get("paths") or []))}
{_row(t["publications"], sep.join(L.publication(p, lang) for p in o.get("publications", [])))}
{_row(t["backups"], backups)}
</table>
<h2>{escape(t["the_suspect"])}</h2><table>
{_row(t["file"], s["file"])}{_row(t["found_at"], s.get("url"))}{_row("SHA-256", s["sha256"], True)}
{_row(t["size"], t["bytes"].format(n=s["size"]))}{_row(t["phash"], s_phash, True)}
{_row(t["match"], t["match_value"].format(method=m["method"] if lang == "en" else method, score=score))}
</table>
<h2>{escape(t["seal"])}</h2><table>
{_row(t["ledger_entry"], chained)}
{proof_rows}
{_row(t["signing_key"], (ev["checkpoints"][0]["checkpoint"]["key_id"] if ev["checkpoints"] else None))}
</table>
<h2>{escape(t["how"])}</h2>
<p>{how_1}</p>
<pre><code>backup prove --verify {escape(t["this_folder"])}</code></pre>
<p>{escape(t["how_2"])}</p>
<p>{escape(t["verify_txt"]).format(verify="<code>VERIFY.txt</code>")}</p>
{verify_cmd}
<p class="muted">{escape(t["limits"])}</p>
</body></html>
"""
