"""``backup check``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, leaf, out
from backup.errors import EXIT_FAILED

DESCRIPTION = """\
The content-safety health check. Grades the account excellent, pass or high-risk and lists each
finding with its fix: at least two targets, one off-site; an incremental within 8 days and a
full within 32 on every target; a verify that read data back (--read-data or --sample) within
32 days; the ledger intact; every original older than 8 days on every target; watermarking
configured; Object Lock on the cloud target; no local target on the same disk as a source
folder (it protects against deletion, not against losing the computer).

Exit 0 for excellent or pass, 1 for high-risk.
"""


def register(sub: Any) -> None:
    leaf(
        sub,
        "check",
        "grade the account's content safety: excellent, pass or high-risk",
        DESCRIPTION,
        run,
        json_help="print grade, ok, findings (check, severity, problem, fix) as one JSON document",
    )


def run(args: argparse.Namespace) -> int:
    from backup.app.check import check_profile
    from backup.app.profiles import load

    profile = load(args.profile)
    report = check_profile(profile)
    if args.json:
        emit_json(report.as_dict())
    else:
        out(f"{profile.name}: {report.grade.upper()}")
        for f in report.findings:
            mark = "!!" if f["severity"] == "high" else " !"
            out(f"{mark} {f['problem']}")
            out(f"   fix: {f['fix']}")
        if not report.findings:
            out("no findings: " + ", ".join(report.checked))
    return EXIT_FAILED if report.grade == "high-risk" else 0
