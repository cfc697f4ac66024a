"""``backup publish add|list``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, group, leaf, out
from backup.humanize import when


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
        "list",
        "list the publications recorded",
        "List the publications recorded with `backup publish add`, oldest first: the date, the\n"
        "platform, the address, the original (a path of it) and whether a stamped copy was what\n"
        "was posted. With FILE, only those of that original (a SHA-256 or a prefix of one, a path,\n"
        "or a file name found in any folder). Times are local (UTC in --json).",
        run_list,
        json_help="print profile, count and publications (seq, recorded, date, platform, url, "
        "sha256, path, copy) as one JSON document",
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
        entry = f"[entry {p['seq']}, recorded {when(p['recorded'])}]"
        out(f"{when(p['date'])}  {p['platform']}  {p['url']}  {what}  {entry}")
    if not listed.items:
        out("No publications recorded yet: backup publish add FILE --platform P --url URL")
    return 0
