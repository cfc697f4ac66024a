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
    from backup.errors import ProfileError, ProfileNotFound
    from backup.profile.load import available, load, locate

    selected = None
    try:
        selected = locate(args.profile)
    except ProfileNotFound:
        if args.profile:
            raise
    rows = []
    for path in available():
        entry: dict[str, object] = {"name": path.stem, "file": str(path), "selected": path == selected}
        try:
            p = load(str(path))
            entry.update(account=p.account.name, handle=p.account.handle, valid=True)
        except ProfileError as exc:
            entry.update(valid=False, error=str(exc))
        rows.append(entry)
    if args.json:
        emit_json({"profiles": rows})
        return 0
    if not rows:
        out("No profiles yet. Create one with: backup init NAME --account ... --handle ... --source DIR")
    for r in rows:
        mark = "*" if r["selected"] else " "
        detail = f"{r.get('account')} (@{r.get('handle')})" if r["valid"] else f"INVALID: {r.get('error')}"
        out(f"{mark} {r['name']:<20} {detail}  {r['file']}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from backup.app.workspace import state_summary
    from backup.profile.load import load

    profile = load(args.profile)
    doc = {
        "profile": profile.name,
        "file": str(profile.file),
        **state_summary(profile),
        "settings": profile.as_dict(),
    }
    if args.json:
        emit_json(doc)
        return 0
    out(f"Profile {profile.name} ({profile.file})")
    out(f"  account:   {profile.account.name} (@{profile.account.handle})")
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
    from backup.errors import ProfileError
    from backup.profile.load import load, locate
    from backup.profile.validate import check_on_disk

    path = locate(args.profile)
    try:
        profile = load(str(path))
    except ProfileError as exc:
        if args.json:
            emit_json(
                {
                    "ok": False,
                    "file": exc.file,
                    "problems": [p.as_dict() for p in exc.problems],
                    "warnings": [],
                }
            )
        for p in exc.problems:
            warn(f"profile error: {p.line(exc.file)}")
        return EXIT_CANNOT_START
    errors, warnings = check_on_disk(profile)
    if args.json:
        emit_json(
            {
                "ok": not errors,
                "file": str(path),
                "problems": [p.as_dict() for p in errors],
                "warnings": [p.as_dict() for p in warnings],
            }
        )
    for p in errors:
        warn(f"profile error: {p.line(str(path))}")
    for p in warnings:
        warn(f"warning: {p.line(str(path))}")
    if errors:
        return EXIT_CANNOT_START
    if not args.json:
        out(f"{path}: OK ({len(profile.sources.folders)} source folders, {len(profile.targets)} targets)")
    return 0
