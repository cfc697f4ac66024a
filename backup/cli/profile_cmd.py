"""``backup profile list|show|check``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, group, leaf, out, warn
from backup.errors import EXIT_CANNOT_START


def register(sub: Any) -> None:
    inner = group(
        sub, "profile", "list, show and check account profiles", "List, show and check account profiles."
    )
    leaf(
        inner,
        "list",
        "list the profiles",
        "List the profiles in $KEEPMARK_HOME/profiles (the selected one marked *).",
        run_list,
    )
    leaf(
        inner,
        "show",
        "show a profile with its defaults filled in",
        "Show a profile with every default filled in, and where its state lives.",
        run_show,
    )
    leaf(
        inner,
        "check",
        "validate a profile (no network needed)",
        "Validate a profile without the network: unknown keys (with a did-you-mean), wrong types,\n"
        "values out of range, source folders that do not exist, and credentials, which never\n"
        "belong in a profile. Each problem names the file, the key and the fix; exit 2 if any.",
        run_check,
    )


def run_list(args: argparse.Namespace) -> int:
    from backup.app.profiles import list_profiles

    listed = list_profiles(args.profile)
    if args.json:
        emit_json(listed.as_dict())
        return 0
    rows = listed.profiles
    if not rows:
        out("No profiles yet. Create one with: backup init NAME --account ... --handle ... --source DIR")
    for r in rows:
        mark = "*" if r["selected"] else " "
        detail = f"{r.get('account')} (@{r.get('handle')})" if r["valid"] else f"INVALID: {r.get('error')}"
        out(f"{mark} {r['name']:<20} {detail}  {r['file']}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from backup.app.profiles import load, show

    shown = show(load(args.profile))
    doc = shown.as_dict()
    if args.json:
        emit_json(doc)
        return 0
    profile = shown.profile
    out(f"Profile {profile.name} ({profile.file})")
    out(f"  account:   {profile.account.name} (@{profile.account.handle})")
    out(f"  language:  {profile.account.language} (of the evidence and the appeal kit)")
    for f in profile.sources.folders:
        out(f"  source:    {f}")
    for i in profile.sources.important:
        out(f"  important: {i}")
    if profile.sources.ignore:
        out(f"  ignore:    {', '.join(profile.sources.ignore)}")
    wm = profile.watermark
    out(f"  watermark: {wm.text!r} at {wm.position}, opacity {wm.opacity}, size {wm.size}")
    for t in profile.targets:
        out(f"  target:    {t.name} ({t.type}) {t.describe()}")
    out(f"  schedule:  incremental {profile.schedule.incremental}, full {profile.schedule.full}")
    out(f"  retention: {profile.retention.weekly} weekly, {profile.retention.monthly} monthly")
    out(f"  state:     {doc['state_dir']}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from backup.app.profiles import check

    checked = check(args.profile)
    if args.json:
        emit_json(checked.as_dict())
    for p in checked.problems:
        warn(f"profile error: {p.line(str(checked.file))}")
    for p in checked.warnings:
        warn(f"warning: {p.line(str(checked.file))}")
    if not checked.ok:
        return EXIT_CANNOT_START
    if not args.json and checked.profile is not None:
        profile = checked.profile
        out(
            f"{checked.file}: OK ({len(profile.sources.folders)} source folders, "
            f"{len(profile.targets)} targets)"
        )
    return 0
