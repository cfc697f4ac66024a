"""``backup service install|uninstall|status``: run ``backup watch`` at login, under the
platform's service manager.

- Linux: a systemd user unit, ``~/.config/systemd/user/keepmark-<profile>.service``
  (``$XDG_CONFIG_HOME`` is honoured), enabled and started with ``systemctl --user``;
- macOS: a launchd agent, ``~/Library/LaunchAgents/com.keepmark.<profile>.plist``, loaded
  with ``launchctl bootstrap gui/<uid>``;
- Windows: the Task Scheduler steps are printed (a task at log-on), nothing is written.

Both service files restart the daemon if it fails, never when it exits cleanly, and stop it
with SIGTERM (it exits 0 within seconds).
"""

from __future__ import annotations

import os
import plistlib
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from backup.errors import KeepmarkError, UsageError
from backup.home import HOME_ENV
from inventory.atomic import atomic_write_text

PLATFORMS = ("linux", "macos", "windows")


class ServiceError(KeepmarkError):
    """The service manager refused (the file is written; the message says what to run)."""

    exit_code = 1


@dataclass
class ServicePlan:
    platform: str
    name: str
    path: Path | None
    text: str
    load: list[list[str]] = field(default_factory=list)
    unload: list[list[str]] = field(default_factory=list)
    query: list[str] = field(default_factory=list)


class Watched(NamedTuple):
    """The profile a service runs ``backup watch`` for: its name, its file and its state folder."""

    name: str
    file: Path
    state_dir: Path


def current_platform() -> str:
    if sys.platform == "darwin":
        return "macos"
    if os.name == "nt":
        return "windows"
    return "linux"


def _command(who: Watched) -> list[str]:
    return [sys.executable, "-m", "backup", "watch", "-p", str(who.file)]


def _environment() -> dict[str, str]:
    home = os.environ.get(HOME_ENV, "").strip()
    return {HOME_ENV: os.path.abspath(os.path.expanduser(home))} if home else {}


def _systemd_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "/._-=:+@," for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def systemd_plan(who: Watched) -> ServicePlan:
    name = f"keepmark-{who.name}.service"
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    env = "".join(f"Environment={_systemd_quote(f'{k}={v}')}\n" for k, v in _environment().items())
    text = (
        "[Unit]\n"
        f"Description=Keepmark: watch, stamp and back up profile {who.name}\n"
        "After=default.target\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={' '.join(_systemd_quote(a) for a in _command(who))}\n"
        f"{env}"
        "Restart=on-failure\n"
        "RestartSec=30\n"
        "KillSignal=SIGTERM\n"
        "TimeoutStopSec=30\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )
    return ServicePlan(
        "linux",
        name,
        config / "systemd" / "user" / name,
        text,
        load=[["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", name]],
        unload=[["systemctl", "--user", "disable", "--now", name], ["systemctl", "--user", "daemon-reload"]],
        query=["systemctl", "--user", "is-active", name],
    )


def launchd_plan(who: Watched) -> ServicePlan:

    label = f"com.keepmark.{who.name}"
    log = str(who.state_dir / "launchd.log")
    doc: dict[str, Any] = {
        "Label": label,
        "ProgramArguments": _command(who),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ProcessType": "Background",
        "StandardOutPath": log,
        "StandardErrorPath": log,
    }
    if _environment():
        doc["EnvironmentVariables"] = _environment()
    path = Path.home() / "Library" / "LaunchAgents" / f"{label}.plist"
    domain = f"gui/{os.getuid() if hasattr(os, 'getuid') else 0}"
    return ServicePlan(
        "macos",
        label,
        path,
        plistlib.dumps(doc).decode("utf-8"),
        load=[["launchctl", "bootstrap", domain, str(path)]],
        unload=[["launchctl", "bootout", f"{domain}/{label}"]],
        query=["launchctl", "print", f"{domain}/{label}"],
    )


def windows_plan(who: Watched) -> ServicePlan:
    name = f"Keepmark {who.name}"
    pythonw = Path(sys.executable).with_name("pythonw.exe")
    exe = str(pythonw) if pythonw.exists() else sys.executable
    action = subprocess.list2cmdline([exe, *_command(who)[1:]])
    env = "".join(f'  setx {k} "{v}"\n' for k, v in _environment().items())
    text = (
        f"Windows has no service file for Keepmark: add a Task Scheduler task that runs at log-on.\n"
        f"{'Set the environment first:' + chr(10) + env if env else ''}"
        "In a Command Prompt:\n"
        f'  schtasks /Create /TN "{name}" /SC ONLOGON /RL LIMITED /F '
        f"/TR {subprocess.list2cmdline([action])}\n"
        f'  schtasks /Run /TN "{name}"\n'
        "Or in Task Scheduler (taskschd.msc): Create Task..., name it "
        f'"{name}"; Triggers: At log on; Actions: Start a program: {exe}, arguments: '
        f"{subprocess.list2cmdline(_command(who)[1:])}; Settings: If the task fails, restart every "
        "1 minute; uncheck Stop the task if it runs longer than.\n"
        f'To remove it: schtasks /Delete /TN "{name}" /F\n'
    )
    return ServicePlan("windows", name, None, text)


def plan_for(who: Watched, platform: str | None = None) -> ServicePlan:
    platform = platform or current_platform()
    if platform == "linux":
        return systemd_plan(who)
    if platform == "macos":
        return launchd_plan(who)
    if platform == "windows":
        return windows_plan(who)
    raise UsageError(f"unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}")


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServiceError(f"{cmd[0]} could not run ({exc}); run it yourself: {shlex.join(cmd)}") from exc


def install(plan: ServicePlan) -> list[str]:
    """Write the service file and load it; the commands that were run."""
    if plan.path is None:
        return []
    atomic_write_text(plan.path, plan.text)
    ran = []
    for cmd in plan.load:
        done = _run(cmd)
        ran.append(shlex.join(cmd))
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()
            raise ServiceError(
                f"wrote {plan.path}, but `{shlex.join(cmd)}` failed: "
                f"{reason[-1] if reason else f'exit {done.returncode}'}"
            )
    return ran


def uninstall(plan: ServicePlan) -> list[str]:
    """Unload the service and remove its file; the commands that were run."""
    if plan.path is None:
        return []
    ran = []
    if plan.path.exists():
        for cmd in plan.unload:
            _run(cmd)  # an agent that is not loaded is not an error here
            ran.append(shlex.join(cmd))
        plan.path.unlink()
    return ran


def service_status(plan: ServicePlan) -> dict[str, Any]:
    installed = plan.path is not None and plan.path.exists()
    active: bool | None = None
    if installed and plan.query:
        try:
            done = subprocess.run(plan.query, capture_output=True, text=True, timeout=30, check=False)
            active = done.returncode == 0
        except (OSError, subprocess.SubprocessError):
            active = None
    return {
        "platform": plan.platform,
        "name": plan.name,
        "file": str(plan.path) if plan.path else None,
        "installed": installed,
        "loaded": active,
    }
