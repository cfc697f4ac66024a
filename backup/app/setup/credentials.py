"""``save_s3_credentials``: an access key into the AWS shared credentials file, where S3 targets
find it (``aws_profile = "NAME"`` in a target, or ``AWS_PROFILE``).

The file is ``AWS_SHARED_CREDENTIALS_FILE`` when that is set, else ``~/.aws/credentials``. It is
edited as text, not through configparser (which drops comments): only the named section changes,
and in it only the two key lines (replaced where they stand, added under the header when
missing) and a session token (``aws_session_token``, which belonged to the keys replaced and
would spoil the new ones); every other section, comment and blank line stays as it was, line
endings included. The new file is written whole or not at all (``inventory.atomic``), with mode
0600 (its folder, when made, 0700). The secret is never returned nor put in a message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backup.errors import UsageError
from inventory.atomic import write_atomic

_HEADER = re.compile(r"^\s*\[(.+)\]")
_KEY = re.compile(r"^\s*([^\s=:#;\[][^=:]*?)\s*[=:]")
_PROFILE = re.compile(r"^[\w.+@-]+$")
_DROPPED = ("aws_session_token", "aws_security_token")


@dataclass
class SavedCredentials:
    file: Path
    aws_profile: str
    created: bool  # the file did not exist
    replaced: bool  # the section was there, its keys replaced
    access_key_end: str  # the access key ID's last four characters, to recognise it by

    ok = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "file": str(self.file),
            "aws_profile": self.aws_profile,
            "created": self.created,
            "replaced": self.replaced,
            "access_key_end": self.access_key_end,
        }


def credentials_path(given: Path | None = None) -> Path:
    """The shared credentials file: ``given``, ``AWS_SHARED_CREDENTIALS_FILE``, or
    ``~/.aws/credentials``."""
    if given is not None:
        return Path(os.path.expanduser(given))
    env = os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
    if env:
        return Path(os.path.expanduser(env))
    return Path.home() / ".aws" / "credentials"


def _key(value: str, field: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError(f"{field}: empty; give the {what}")
    if any(c.isspace() for c in value) or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UsageError(f"{field}: holds a space or a line break; paste the {what} alone")
    return value


def _profile(name: str) -> str:
    if not name.strip():
        raise UsageError("aws_profile: empty; give a section name such as keepmark")
    if not _PROFILE.match(name):
        raise UsageError(
            f"aws_profile {name!r}: not usable as a section name; use letters, digits, '.', '_', '-', "
            "'+' and '@' (no brackets, spaces or line breaks)"
        )
    return name


def _ending(line: str, default: str) -> str:
    stripped = line.rstrip("\r\n")
    return line[len(stripped) :] or default


def edited(text: str, profile: str, values: dict[str, str]) -> tuple[str, bool]:
    """``text`` with section ``profile`` holding ``values`` (see the module docstring); and
    whether the section was there."""
    nl = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _section(line) == profile), None)
    if start is None:
        if text and not text.endswith(("\n", "\r")):
            text += nl
        gap = nl if text.strip() else ""
        return text + gap + f"[{profile}]{nl}" + "".join(f"{k} = {v}{nl}" for k, v in values.items()), False
    end = next((i for i in range(start + 1, len(lines)) if _section(lines[i]) is not None), len(lines))
    body: list[str] = []
    done: set[str] = set()
    skipping = False  # the indented continuation lines of a value replaced or dropped
    for line in lines[start + 1 : end]:
        if skipping and line[:1] in (" ", "\t") and line.strip():
            continue
        skipping = False
        m = _KEY.match(line)
        name = m.group(1).strip().lower() if m else ""
        if name in values:
            skipping = True
            if name not in done:
                done.add(name)
                body.append(f"{name} = {values[name]}{_ending(line, nl)}")
            continue
        if name in _DROPPED:
            skipping = True
            continue
        body.append(line)
    header = lines[start] if lines[start].endswith(("\n", "\r")) else lines[start] + nl
    missing = [f"{k} = {v}{nl}" for k, v in values.items() if k not in done]
    return "".join([*lines[:start], header, *missing, *body, *lines[end:]]), True


def _section(line: str) -> str | None:
    m = _HEADER.match(line)
    return m.group(1) if m else None


def save_s3_credentials(
    access_key: str,
    secret_key: str,
    *,
    aws_profile: str = "keepmark",
    credentials_file: Path | None = None,
) -> SavedCredentials:
    """Write (or update) the section ``aws_profile`` of the AWS shared credentials file with
    these keys; ``UsageError`` naming the field for an empty key, one holding a space or line
    break, or a section name with brackets or line breaks."""
    access = _key(access_key, "access_key", "access key ID")
    secret = _key(secret_key, "secret_key", "secret access key")
    profile = _profile(aws_profile)
    path = credentials_path(credentials_file)
    if path.is_symlink():
        path = Path(os.path.realpath(path))  # edit the file, keep the link
    try:
        raw = path.read_bytes()
        created = False
    except FileNotFoundError:
        raw, created = b"", True
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    text, replaced = edited(
        raw.decode("utf-8", "surrogateescape"),
        profile,
        {"aws_access_key_id": access, "aws_secret_access_key": secret},
    )
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8", "surrogateescape"), mode=0o600)
    except OSError as exc:
        raise UsageError(f"{path}: cannot be written: {exc.strerror or exc}") from None
    return SavedCredentials(path, profile, created, replaced, access[-4:])
