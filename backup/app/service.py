"""``backup service install|uninstall|status``: the daemon as a service that starts at login
(a systemd user unit, a launchd agent, or the steps for Windows)."""

from __future__ import annotations

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
    return ServiceOutcome(profile.name, action, plan, detail)
