"""``new_rclone_remote``: an rclone remote of a type that needs no browser sign-in (WebDAV,
SFTP, S3-compatible), made by the real rclone in the config it reads; ``oauth_remote_steps``:
the steps in a terminal for one that does (Google Drive, OneDrive, Dropbox).

The remote is made through rclone's remote control (``rcd``), so that no password is ever on a
command line (see ``rcd``); rclone obscures password fields (``pass``) as it writes them, as
``rclone config`` does. Options are checked first: only the ones listed per type, no line break
in any value (a value is one line of rclone.conf), and the name must be new and one rclone takes.
A remote rclone could not finish without asking a question is removed again.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from backup.app.setup.rcd import RcError, RcServer
from backup.errors import UsageError
from backup.targets.base import TargetError
from backup.targets.rclone import find_rclone

# The options each type takes here (the first ones are required).
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "webdav": (("url",), ("url", "vendor", "user", "pass")),
    "sftp": (("host",), ("host", "port", "user", "pass", "key_file")),
    "s3": ((), ("provider", "endpoint", "access_key_id", "secret_access_key", "region")),
}
OAUTH_KINDS = {"drive": "Google Drive", "onedrive": "OneDrive", "dropbox": "Dropbox"}
# rclone's rule for a remote's name (letters, digits, '_', '-', '.', '+', '@' and spaces, not
# starting with '-' or a space, not ending with a space).
_NAME = re.compile(r"^[\w.+@](?:[\w .+@-]*[\w.+@-])?$")
TARGET_FOLDER = "Keepmark"


@dataclass
class NewRemote:
    name: str
    type: str
    config_file: str | None

    ok = True

    @property
    def target_spec(self) -> str:
        """The spec of a target in the new remote (a folder named Keepmark)."""
        return f"{self.name}:{TARGET_FOLDER}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "name": self.name,
            "type": self.type,
            "config_file": self.config_file,
            "target_spec": self.target_spec,
        }


def rclone_command(binary: Path | None = None) -> str:
    """How to type the rclone Keepmark runs in a terminal: ``rclone`` when that is the one on
    PATH, else its whole path (quoted for the shell)."""
    if binary is None:
        try:
            binary = find_rclone()
        except TargetError:
            return "rclone"
    on_path = shutil.which("rclone")
    try:
        if on_path and os.path.samefile(on_path, binary):
            return "rclone"
    except OSError:
        pass
    text = str(binary)
    if os.name == "nt":
        return f'& "{text}"' if " " in text else text
    return shlex.quote(text)


def _kind(kind: str) -> str:
    low = kind.strip().lower()
    if low in KINDS:
        return low
    if low in OAUTH_KINDS:
        raise UsageError(
            f"{kind}: {OAUTH_KINDS[low]} needs a sign-in in the browser that only rclone's own setup "
            f"does (Google Drive, OneDrive and Dropbox all do): run `{rclone_command()} config` in a "
            "terminal and follow the steps"
        )
    raise UsageError(
        f"{kind}: not a remote type that can be made here (webdav, sftp or s3); for others run "
        f"`{rclone_command()} config` in a terminal (Google Drive, OneDrive and Dropbox need it)"
    )


def _name(name: str) -> str:
    if not name:
        raise UsageError("name: empty; give the new remote a name such as nas")
    if not _NAME.match(name):
        raise UsageError(
            f"name {name!r}: not an rclone remote name; use letters, digits, '_', '-', '.', '+', '@' "
            "and spaces (not first or last)"
        )
    if len(name) == 1 and name.isascii() and name.isalpha():
        raise UsageError(f"name {name!r}: a single letter reads as a Windows drive; use a longer name")
    return name


def _options(kind: str, options: Mapping[str, str]) -> dict[str, str]:
    required, allowed = KINDS[kind]
    params: dict[str, str] = {}
    for key, value in options.items():
        if key not in allowed:
            raise UsageError(f"{key}: not an option of a {kind} remote here (use {', '.join(allowed)})")
        if not isinstance(value, str):
            raise UsageError(f"{key}: must be text")
        if "\n" in value or "\r" in value or "\x00" in value:
            raise UsageError(f"{key}: holds a line break")
        if value.strip():
            params[key] = value if key in ("pass", "secret_access_key") else value.strip()
    for key in required:
        if key not in params:
            raise UsageError(f"{key}: missing; a {kind} remote needs it")
    if kind == "webdav":
        parts = urlsplit(params["url"])
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"url {params['url']}: not an http(s) URL; give the server's WebDAV address")
    port = params.get("port", "1") if kind == "sftp" else "1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"port {params['port']}: not a port number (1 to 65535)")
    if kind == "sftp" and "key_file" in params:
        key_file = Path(os.path.expanduser(params["key_file"]))
        if not key_file.is_file():
            raise UsageError(f"key_file {params['key_file']}: no such file")
        params["key_file"] = str(key_file)
    if kind == "s3":
        keys = [k for k in ("access_key_id", "secret_access_key") if k in params]
        if len(keys) == 1:
            other = "secret_access_key" if keys[0] == "access_key_id" else "access_key_id"
            raise UsageError(f"{other}: missing; give both keys, or neither to use the AWS credential chain")
        params.setdefault("provider", "Other")
        if not keys:
            params["env_auth"] = "true"
    return params


def new_rclone_remote(name: str, kind: str, options: Mapping[str, str]) -> NewRemote:
    """Make the rclone remote ``name`` of type ``kind`` (webdav: url, vendor, user, pass; sftp:
    host, port, user, pass or key_file; s3: provider, endpoint, access_key_id,
    secret_access_key, region) in the rclone config rclone reads. ``UsageError`` naming the
    field for a bad name or option, a name that exists, or a type that needs a browser sign-in."""
    kind = _kind(kind)
    name = _name(name)
    params = _options(kind, options)
    binary = find_rclone()
    with RcServer(binary) as rc:
        existing = rc.call("config/listremotes", {}).get("remotes") or []
        if name in existing:
            raise UsageError(f"name {name!r}: a remote with this name exists already; choose another name")
        request = {
            "name": name,
            "type": kind,
            "parameters": params,
            "opt": {"obscure": True, "nonInteractive": True},
        }
        try:
            answer = rc.call("config/create", request)
        except RcError as exc:
            _forget(rc, name)
            raise UsageError(f"{kind} remote {name}: rclone refused it: {exc}") from None
        asked = answer.get("Option") or {}
        if answer.get("State") or answer.get("Error"):
            _forget(rc, name)
            question = asked.get("Name") or "a question"
            why = f" ({answer['Error']})" if answer.get("Error") else ""
            raise UsageError(
                f"{kind} remote {name}: rclone needs an answer to {question}{why}; "
                f"run `{rclone_command(binary)} config` in a terminal"
            )
        config = rc.call("config/paths", {}).get("config")
    return NewRemote(name, kind, str(config) if config else None)


def _forget(rc: RcServer, name: str) -> None:
    try:
        rc.call("config/delete", {"name": name})
    except (RcError, TargetError):
        pass


def oauth_remote_steps(kind: str, *, name: str | None = None) -> list[str]:
    """The steps to make a Google Drive (``drive``), OneDrive or Dropbox remote with
    ``rclone config`` in a terminal, as plain sentences; ``UsageError`` for another type."""
    low = kind.strip().lower()
    if low not in OAUTH_KINDS:
        raise UsageError(f"{kind}: not a type that needs a browser sign-in (drive, onedrive, dropbox)")
    label = OAUTH_KINDS[low]
    remote = _name(name) if name is not None else {"drive": "gdrive"}.get(low, low)
    steps = [
        "Open a terminal: Terminal on a Mac, PowerShell on Windows, a terminal window on Linux.",
        f"Type this command and press Enter: {rclone_command()} config",
        "Type n (for a new remote) and press Enter.",
        f"Type the name {remote} and press Enter.",
        f"Type {low} (the storage type for {label}) and press Enter.",
        "For each question that follows, press Enter to keep the answer rclone suggests.",
    ]
    if low == "drive":
        steps.append(
            "If rclone warns that its shared Google Drive client_id is being retired and asks "
            "whether to continue, type y and press Enter."
        )
    steps.append(
        "When rclone asks whether to use a web browser to sign in, type y and press Enter: a "
        f"browser window opens; sign in to {label} and allow rclone access, then go back to the "
        "terminal."
    )
    if low == "drive":
        steps.append("When rclone asks whether to use a Shared Drive, press Enter (no).")
    if low == "onedrive":
        steps.append(
            "When rclone asks which kind of drive, type 1 (OneDrive Personal or Business) and "
            "press Enter, choose your drive from the list, and type y to confirm it."
        )
    steps += [
        "When rclone shows the new remote's settings, type y and press Enter, then type q and "
        "press Enter to leave rclone.",
        f"Back here, use {remote}:{TARGET_FOLDER} as the backup target: a folder named "
        f"{TARGET_FOLDER} in your {label}.",
    ]
    return steps
