"""``backup publish add``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, group, leaf, out


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
