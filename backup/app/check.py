"""``backup check``: the content-safety health check. Each finding names what is wrong and how
to fix it; the grade follows from the worst of them:

- ``high-risk``: fewer than two targets or none off-site; no good incremental within 8 days or
  full within 32 on some target; the ledger broken; originals older than 8 days missing from a
  target;
- ``pass``: only lesser findings: no verify that read data back within 32 days, no
  ``[watermark]`` section, a cloud target without Object Lock, a local target on the same disk
  as a source folder, no trusted timestamp (no authority configured, checkpoints waiting for
  one for more than a day, or a token that does not verify);
- ``excellent``: nothing found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from backup.app.facts import db_stamp, newest, parse_time, runs_by_target, unprotected
from backup.app.profiles import drive_away
from backup.app.publish_import import unmatched_publications
from backup.app.said import Fact, Said, said
from backup.app.timestamps import timestamp_findings
from backup.app.workspace import open_inventory
from backup.daemon.clock import Clock
from backup.home import inventory_path
from backup.profile.load import read_toml
from backup.profile.model import Profile
from backup.profile.ondisk import on_source_disk

INCREMENTAL_DAYS = 8
FULL_DAYS = 32
VERIFY_DAYS = 32
OFFSITE = ("s3", "rclone")


@dataclass
class CheckReport:
    profile: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def grade(self) -> str:
        if any(f["severity"] == "high" for f in self.findings):
            return "high-risk"
        return "pass" if self.findings else "excellent"

    def add(self, check: str, severity: str, problem: Said, fix: Said) -> None:
        """A finding: ``problem`` and ``fix`` in English, and ``said`` with both as sentences
        for the browser app to translate."""
        self.findings.append(
            {
                "check": check,
                "severity": severity,
                "problem": str(problem),
                "fix": str(fix),
                "said": {"problem": problem.as_dict(), "fix": fix.as_dict()},
            }
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "grade": self.grade,
            "ok": self.grade != "high-risk",
            "findings": self.findings,
            "checked": self.checked,
        }


def _age(now: datetime, stamp: str | None) -> Said:
    when = parse_time(stamp)
    if when is None:
        return said("never")
    days = (now - when).total_seconds() / 86400
    return said("{days} days ago", days=round(days)) if days >= 1 else said("today")


def check_profile(profile: Profile, now: datetime | None = None) -> CheckReport:
    now = now or Clock.from_env().now()
    report = CheckReport(profile.name)
    targets = profile.targets

    report.checked.append("targets")
    offsite = [t for t in targets if t.type in OFFSITE]
    if len(targets) < 2 or not offsite:
        report.add(
            "targets",
            "high",
            said(
                "at least two targets with one off-site are needed; the profile has {targets} target, "
                "{offsite} off-site",
                targets=len(targets),
                offsite=len(offsite),
            )
            if len(targets) == 1
            else said(
                "at least two targets with one off-site are needed; the profile has {targets} targets, "
                "{offsite} off-site",
                targets=len(targets),
                offsite=len(offsite),
            ),
            said("add [[targets]] to the profile: an external drive and a cloud target (s3 or rclone)"),
        )

    report.checked.append("same disk")
    for t, folder in on_source_disk(profile, drive_away):
        report.add(
            "same disk",
            "medium",
            said(
                "{target}: {path} is on the same disk as the source folder {folder}: it protects "
                "against deletion, not against losing or breaking the computer",
                target=t.name,
                path=str(t.path),
                folder=str(folder),
            ),
            said("point target {target} at an external drive, and keep a cloud target", target=t.name),
        )

    runs = runs_by_target(profile)
    report.checked.append("schedule")
    for t in targets:
        mine = runs.get(t.name, [])
        for kinds, days, label in (
            (("incremental", "full"), INCREMENTAL_DAYS, "incremental"),
            (("full",), FULL_DAYS, "full"),
        ):
            last = newest(mine, kinds)
            when = parse_time(last["started"]) if last else None
            if when is None or now - when > timedelta(days=days):
                facts: dict[str, Fact] = {
                    "target": t.name,
                    "last": _age(now, last["started"] if last else None),
                    "days": days,
                }
                report.add(
                    f"last {label}",
                    "high",
                    said(
                        "{target}: last good incremental backup {last} (should be within {days} days)",
                        **facts,
                    )
                    if label == "incremental"
                    else said(
                        "{target}: last good full backup {last} (should be within {days} days)", **facts
                    ),
                    said(
                        "run `{command} --target {target} -p {profile}`, and keep `backup watch` running",
                        command="backup " + label,
                        target=t.name,
                        profile=profile.name,
                    ),
                )

    report.checked.append("verify")
    for t in targets:
        last = newest(runs.get(t.name, []), ("verify-read",), ("ok",))
        when = parse_time(last["started"]) if last else None
        if when is None or now - when > timedelta(days=VERIFY_DAYS):
            report.add(
                "verify",
                "medium",
                said(
                    "{target}: no verify that read the data back within {days} days (last {last})",
                    target=t.name,
                    days=VERIFY_DAYS,
                    last=_age(now, last["started"] if last else None),
                ),
                said(
                    "run `backup verify --read-data --target {target} -p {profile}` (or --sample 10)",
                    target=t.name,
                    profile=profile.name,
                ),
            )

    report.checked.append("ledger")
    verdict = ledger_verdict(profile)
    if not verdict.ok:
        report.add(
            "ledger",
            "high",
            said("the inventory's ledger does not hold: {problem}", problem=str(verdict.problem)),
            said(
                "run `backup ledger verify -p {profile}`; "
                "restore the inventory from a target's inventory/ copy",
                profile=profile.name,
            ),
        )

    report.checked.append("originals on every target")
    if targets:
        lacking = unprotected(profile)
        old = [
            item
            for item in lacking
            if (seen := parse_time(item["first_seen"])) is not None
            and now - seen > timedelta(days=INCREMENTAL_DAYS)
        ]
        if old:
            first = old[0]
            report.add(
                "originals on every target",
                "high",
                said(
                    "{count} originals older than {days} days are missing from a target "
                    "(e.g. {path} on {targets})",
                    count=len(old),
                    days=INCREMENTAL_DAYS,
                    path=str(first["path"]),
                    targets=", ".join(first["missing_on"]),
                ),
                said(
                    "run `backup incremental -p {profile}`; check that every target is connected",
                    profile=profile.name,
                ),
            )

    report.checked.append("watermark")
    if not isinstance(read_toml(profile.file).get("watermark"), dict):
        report.add(
            "watermark",
            "medium",
            said("watermarking is not configured (no [watermark] section)"),
            said("add a [watermark] section to {file} (see profiles/example.toml)", file=str(profile.file)),
        )

    report.checked.append("trusted timestamp")
    for problem, fix in timestamp_findings(profile, now):
        report.add("trusted timestamp", "medium", problem, fix)

    report.checked.append("publications")
    for p in unmatched_publications(profile):
        post: dict[str, Fact] = {"platform": str(p["platform"]), "date": str(p["date"])}
        what = p["media"] or p["url"]
        post["what"] = str(what) if what else said("a post")
        unmatched = (
            said(
                "{platform} {date}: {what} is equally close to {count} originals; none was recorded",
                count=len(p["candidates"]),
                **post,
            )
            if p["status"] == "ambiguous"
            else said("{platform} {date}: {what} was published, but no original of it is on record", **post)
        )
        report.add(
            "publications",
            "medium",
            unmatched,
            said(
                "add the folder holding the original to [sources] folders, run `backup inventory scan`, "
                "then `backup publish import {export}` again",
                export=str(p["export"]),
            ),
        )

    report.checked.append("object lock")
    for t in targets:
        if t.type == "s3" and not t.object_lock_days:
            report.add(
                "object lock",
                "medium",
                said(
                    "{target}: the cloud target has no Object Lock (ransomware or a stolen key could "
                    "delete the backups)",
                    target=t.name,
                ),
                said(
                    "create the bucket with Object Lock and set object_lock_days = 30 in target {target}",
                    target=t.name,
                ),
            )
    if targets and not any(t.type == "s3" for t in targets):
        report.add(
            "object lock",
            "medium",
            said("no cloud target with Object Lock (only S3-compatible services offer it)"),
            said("add an s3 target (AWS, Backblaze B2, Wasabi...) with object_lock_days set"),
        )
    return report


# profile name -> (the inventory's stamp when it was verified, the verdict)
_VERDICTS: dict[str, tuple[Any, Any]] = {}


def ledger_verdict(profile: Profile) -> Any:
    """``verify_ledger`` of the profile's inventory (every entry, every row against it),
    remembered until the database is written again: the browser app asks on every page."""
    stamp = db_stamp(inventory_path(profile.name))
    found = _VERDICTS.get(profile.name)
    if found is not None and found[0] == stamp and stamp[0] is not None:
        return found[1]
    with open_inventory(profile) as inv:
        verdict = inv.verify_ledger()
    _VERDICTS[profile.name] = (stamp, verdict)  # as it was before: a write since is seen next time
    return verdict
