"""``backup service install|uninstall|status``."""

from __future__ import annotations

import argparse
from typing import Any

from backup.cli.common import emit_json, group, leaf, out, warn

DESCRIPTION = """\
Run `backup watch` for a profile at log-in, under the platform's service manager: a systemd
user unit on Linux (~/.config/systemd/user/keepmark-NAME.service), a launchd agent on macOS
(~/Library/LaunchAgents/com.keepmark.NAME.plist); on Windows the Task Scheduler steps are
printed. --dry-run prints the file instead of writing and loading it.
"""


INSTALL = """\
Write the service file that runs `backup watch` for the profile at log-in, and load it: a
systemd user unit on Linux (enabled and started with systemctl --user), a launchd agent on macOS
(launchctl bootstrap). On Windows, print the Task Scheduler steps. --dry-run prints the file and
the commands instead. The daemon restarts if it fails, not when it is stopped.

The service does not get your shell's environment: an S3 target whose AWS credentials come
from environment variables (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...) is named in a note, with what
to do instead: keep them in the AWS credentials file (`aws configure`), and name a profile of
it with aws_profile in the target.
"""
UNINSTALL = """\
Stop the daemon's service and remove its file (systemctl --user disable --now; launchctl
bootout). Nothing of the profile, its inventory or its backups is touched.
"""
STATUS = """\
Whether the profile's service file is installed and the service manager has it loaded (for the
daemon itself, and its queue and runs, see `backup status`).
"""


def register(sub: Any) -> None:
    commands = group(
        sub, "service", "run the daemon at log-in (systemd, launchd, Task Scheduler)", DESCRIPTION
    )
    for name, summary, more in (
        ("install", "write the service file and start the daemon", INSTALL),
        ("uninstall", "stop the daemon and remove the service file", UNINSTALL),
        ("status", "whether the service is installed and loaded", STATUS),
    ):
        p = leaf(commands, name, summary, more, run)
        p.add_argument(
            "--platform",
            choices=("linux", "macos", "windows"),
            help="the platform's service (default: this one)",
        )
        if name != "status":
            p.add_argument("--dry-run", action="store_true", help="print what would be written and run")
        p.set_defaults(action=name)


def run(args: argparse.Namespace) -> int:
    from backup.app.profiles import load
    from backup.app.service import service

    done = service(
        load(args.profile), args.action, platform=args.platform, dry_run=getattr(args, "dry_run", False)
    )
    doc, plan = done.as_dict(), done.plan
    if args.json:
        emit_json(doc)
        return 0
    if args.action == "status":
        state = (
            "not installed"
            if not doc["installed"]
            else ("loaded" if doc["loaded"] else "installed, not loaded")
        )
        out(f"{plan.name}: {state}" + (f" ({doc['file']})" if doc["file"] else ""))
    elif doc.get("dry_run"):
        if plan.path is not None:
            out(f"# {plan.path}")
        out(plan.text.rstrip("\n"))
        for c in doc["commands"]:
            out(f"# then: {c}")
    else:
        verb = "installed and started" if args.action == "install" else "removed"
        out(f"{plan.name} {verb}: {plan.path}")
    for note in doc.get("notes", []):
        warn(f"note: {note}")
    return 0
