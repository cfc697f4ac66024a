"""``backup publish add|import|list``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, group, leaf, out, warn
from backup.errors import EXIT_FAILED
from backup.humanize import when

IMPORT_DESCRIPTION = """\
Record the publications a platform's own export lists. EXPORT is one of:
  - an Instagram "Download your information" export in JSON (the .zip, or its folder): each
    post's photos and videos, their dates and captions;
  - a TikTok data export in JSON (the .zip, its folder, or user_data_tiktok.json): the videos
    posted, with dates and links (it holds no video files);
  - a CSV kept by hand, UTF-8, with a header naming the columns date,url,file (optionally
    platform and caption): one publication a row, FILE being what was posted (relative to
    the CSV's folder). The platform comes from the address when no platform column says it.
Each media file is matched to its original in the inventory, as `backup prove` matches a
repost, and recorded in the ledger as a publication (platform, date, caption, link, and the
exported file's SHA-256); a checkpoint signs them. Unmatched items (published, but no original
on record) and ambiguous ones (several originals equally close: none is recorded) are listed
and stay a finding of `backup check` until an import matches them. Importing the same export
again records nothing twice.

exit status: 0 every item recorded (now or before); 1 some unmatched, ambiguous or unreadable
(each listed); 2 the export cannot be read (one line names the file and why)."""


def register(sub: Any) -> None:
    inner = group(
        sub,
        "publish",
        "record where a piece was published",
        "Publications: where and when a piece was posted. Each is a ledger entry, shown in the\n"
        "timeline of an evidence report (`backup prove`).",
    )
    p = leaf(
        inner,
        "add",
        "record a publication of a file",
        "Record that FILE (an original in the inventory, or a stamped copy of one) was published on\n"
        "PLATFORM at URL. The entry goes into the ledger and a new checkpoint signs it.",
        run_add,
    )
    p.add_argument("file", metavar="FILE", help="the original or the stamped copy that was posted")
    p.add_argument("--platform", required=True, help="where: Instagram, Xiaohongshu, YouTube, ...")
    p.add_argument("--url", required=True, help="the post's web address")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="when it was published (default: today)")
    p = leaf(
        inner,
        "import",
        "record the publications of a platform's export",
        IMPORT_DESCRIPTION,
        run_import,
        json_help="print profile, export, format, ok, counts (items, recorded, already, unmatched, "
        "ambiguous, failed) and items as one JSON document",
    )
    p.add_argument("export", metavar="EXPORT", help="the export: a .zip, a folder, a .json or a .csv")
    p = leaf(
        inner,
        "list",
        "list the publications recorded",
        "List the publications recorded with `backup publish add` and `backup publish import`,\n"
        "oldest first: the date, the platform, the address, the original (a path of it), whether\n"
        "a stamped copy was what was posted, the export it was imported from, and the caption.\n"
        "With FILE, only those of that original (a SHA-256 or a prefix of one, a path, or a file\n"
        "name found in any folder). Times are local (UTC in --json).",
        run_list,
        json_help="print profile, count and publications (seq, recorded, date, platform, url, "
        "sha256, path, copy, caption, source, export, media, export_sha256) as one JSON document",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="only the publications of this original")


def run_add(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.publish import add

    done = add(load(args.profile), args.file, platform=args.platform, url=args.url, when=args.date)
    if args.json:
        emit_json(done.as_dict())
    else:
        d, seq = done.entry.data, done.entry.seq
        where = f"{d['platform']} {d['date']} at {d['url']}"
        out(f"Recorded: {d['sha256'][:12]}... published on {where} (entry {seq})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.publish import list_publications

    listed = list_publications(load(args.profile), args.file)
    if args.json:
        emit_json(listed.as_dict())
        return 0
    for p in listed.items:
        what = p["path"] or p["sha256"][:12]
        if p["copy"]:
            what += f" (stamped copy {p['copy'][:12]} posted)"
        if p["source"] == "import":
            what += f" (imported from {p['export']})"
        if p["caption"]:
            what += f"  \u201c{_short(p['caption'])}\u201d"
        entry = f"[entry {p['seq']}, recorded {when(p['recorded'])}]"
        out(f"{when(p['date'])}  {p['platform']}  {p['url'] or '(no link)'}  {what}  {entry}")
    if not listed.items:
        out("No publications recorded yet: backup publish add FILE --platform P --url URL")
    return 0


def _short(text: str, width: int = 40) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "\u2026"


def run_import(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.publish_import import describe, import_export
    from backup.cli.bars import progress

    done = import_export(load(args.profile), args.export, progress=progress(not args.json))
    if args.json:
        emit_json(done.as_dict())
        return 0 if done.ok else EXIT_FAILED
    for item in done.items:
        head = f"{item['status']:<9}  {when(item['date'])}  {item['platform']}"
        what = item["media"] or item["url"] or item["where"]
        status = item["status"]
        if status in ("recorded", "already"):
            seq = f"entry {item['seq']}"
            how = f"{item['method']}, {seq}" if item.get("method") else seq
            out(f"{head}  {what} -> {item['path'] or item['sha256'][:12]} ({how})")
        elif status == "ambiguous":
            names = " and ".join(c["path"] or c["sha256"][:12] for c in item["candidates"])
            out(f"{head}  {what}: equally close to {names}; none recorded")
        elif status == "unmatched":
            link = f" {item['url']}" if item["url"] and item["url"] != what else ""
            out(f"{head}  {what}{link}: {item['reason']}")
    for item in done.items:
        if item["status"] == "failed":
            warn(f"error: {item['reason']}")
    counts = done.as_dict()["counts"]
    out(
        f"{counts['recorded']} recorded, {counts['already']} already recorded, {counts['unmatched']} "
        f"unmatched, {counts['ambiguous']} ambiguous, {counts['failed']} unreadable "
        f"({describe(done.format)} {done.export})"
    )
    return 0 if done.ok else EXIT_FAILED
