"""``backup service install|uninstall|status``: the daemon as a service that starts at login
(a systemd user unit, a launchd agent, or the steps for Windows)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backup.daemon.service import ServicePlan, Watched, install, plan_for, service_status, uninstall
from backup.errors import UsageError
from backup.home import state_dir
from backup.profile.model import Profile

ACTIONS = ("install", "uninstall", "status")


@dataclass
class ServiceOutcome:
    profile: str
    action: str
    plan: ServicePlan
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "action": self.action,
            "platform": self.plan.platform,
            "file": str(self.plan.path) if self.plan.path else None,
            **self.detail,
        }


def service(
    profile: Profile, action: str, *, platform: str | None = None, dry_run: bool = False
) -> ServiceOutcome:
    """Install, remove or describe the service for ``platform`` (default: this one). With
    ``dry_run`` (and always where the platform has no service file to write), say what would
    be written and run, and do nothing."""
    if action not in ACTIONS:
        raise UsageError(f"unknown service action {action!r}; use one of {', '.join(ACTIONS)}")
    plan = plan_for(Watched(profile.name, Path(profile.file), state_dir(profile.name)), platform)
    detail: dict[str, Any]
    if action == "status":
        detail = service_status(plan)
    elif dry_run or plan.path is None:
        commands = plan.load if action == "install" else plan.unload
        detail = {"dry_run": True, "text": plan.text, "commands": [" ".join(c) for c in commands]}
    elif action == "install":
        detail = {"commands": install(plan)}
    else:
        detail = {"commands": uninstall(plan)}
    if action == "install":
        detail["notes"] = environment_notes(profile)
    return ServiceOutcome(profile.name, action, plan, detail)


def environment_notes(profile: Profile) -> list[str]:
    """For each S3 target whose AWS credentials (or the name of their profile, or the file
    holding them) come from this shell's environment, which a service started at log-in does
    not get: one line saying so and what to do instead."""
    notes = []
    for t in profile.targets:
        if t.type != "s3":
            continue
        from backup.targets.s3.shell import KEYS, shell_only

        names = shell_only(t.aws_profile)
        if not names:
            continue
        where = ", ".join(names)
        if names[0] in KEYS:
            fix = (
                "put them in the AWS credentials file (`aws configure`, or `aws configure --profile "
                'NAME` and aws_profile = "NAME" in the target)'
            )
        else:
            named = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
            fix = f'write aws_profile = "{named}" in the target' if named and t.aws_profile is None else ""
            moved = [n for n in names if n.endswith("_FILE")]
            if moved:
                fix += ("; " if fix else "") + "keep the credentials in ~/.aws/credentials and ~/.aws/config"
        notes.append(
            f"target {t.name}: its AWS credentials come from this shell's environment ({where}), "
            f"which the service does not get: {fix}, so the daemon reaches S3"
        )
    return notes
