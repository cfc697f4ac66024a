"""Targets as people type them (``backup init --target SPEC``), turned into ``[[targets]]`` tables.

A spec is one of:

- ``s3://bucket/prefix``: an S3 bucket (``--endpoint``, ``--region`` and ``--addressing`` add
  what an S3-compatible service needs);
- ``rclone:remote:path``, or ``remote:path`` where ``remote`` is a remote in the rclone config
  rclone itself reads (``RCLONE_CONFIG`` or its default place), or an on-the-fly
  ``:backend:path``: an rclone remote;
- an absolute folder path (``~`` expanded; ``C:\\...`` and ``D:/...`` are Windows drive paths,
  never remotes): a local target. The folder must exist, or its parent (the first backup makes
  the folder), or it must be on a drive that is away (a mount point under ``/Volumes``,
  ``/media``, ``/mnt`` or ``/run/media`` that is not mounted now).

Anything else is refused with one line naming the spec and why: a relative path would be a
folder in whatever directory the command ran in, on the laptop's own disk.

This module never runs rclone nor looks at mounts itself: the use case hands it the two
look-ups (``remotes``, ``drive_away``), so that the profile layer stays below the targets.
"""

from __future__ import annotations

import ntpath
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from backup.errors import UsageError
from backup.profile.model import ADDRESSING_STYLES

# Services that answer virtual-hosted requests only (or prefer them): their endpoints get
# addressing_style = "virtual" unless --addressing says otherwise.
_VIRTUAL_HOSTS = (".aliyuncs.com", ".myqcloud.com")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:([\\/]|$)")
_REMOTE = re.compile(r"^([\w.+@ -]+):(.*)$", re.UNICODE)
_REGION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


class Remotes(NamedTuple):
    """The rclone remotes configured on this machine, or why they could not be listed."""

    names: tuple[str, ...] = ()
    problem: str | None = None


class Lookups(NamedTuple):
    """What a spec is checked against: the configured rclone remotes (asked only when a spec
    looks like ``name:path``), and the mount point a folder needs when that drive is away."""

    remotes: Callable[[], Remotes] | None = None
    drive_away: Callable[[Path], Path | None] | None = None


NO_LOOKUPS = Lookups()


class S3Options(NamedTuple):
    """``--endpoint``, ``--region``, ``--addressing`` as given (None: not given)."""

    endpoint: str | None = None
    region: str | None = None
    addressing: str | None = None
    aws_profile: str | None = None  # a named profile of the AWS credentials file (the app's setup)

    def given(self) -> list[str]:
        flags = (
            ("--endpoint", self.endpoint),
            ("--region", self.region),
            ("--addressing", self.addressing),
            ("aws_profile", self.aws_profile),
        )
        return [flag for flag, value in flags if value is not None]


NO_S3_OPTIONS = S3Options()


def _clean_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")


def is_windows_drive_path(spec: str) -> bool:
    """``C:\\Backup``, ``D:/x`` or ``E:``: a Windows drive, never an rclone remote."""
    return bool(_WINDOWS_DRIVE.match(spec))


def local_path_is_absolute(path: str) -> bool:
    """Whether ``path`` (``~`` expanded) is absolute on this system: ``/...``; on Windows a
    drive path ``C:\\...`` or a share ``\\\\server\\...``."""
    return _absolute(os.path.expanduser(path))


def _absolute(path: str) -> bool:
    if os.name == "nt":
        return ntpath.isabs(path) and bool(ntpath.splitdrive(path)[0] or path.startswith("\\\\"))
    return os.path.isabs(path)


def _local(spec: str, flag: str, lookups: Lookups, remote_note: str = "") -> dict[str, str]:
    raw = os.path.expanduser(spec)
    if not _absolute(raw):
        if remote_note:
            why = f"{remote_note}, and as a folder it is a relative path"
        elif is_windows_drive_path(spec) and os.name != "nt":
            why = "a Windows drive path, which is not a folder on this system"
        else:
            why = "a relative path"
        raise UsageError(
            f"{flag} {spec}: {why}; a local target is an absolute folder path "
            "(e.g. /Volumes/Backup/Keepmark) that exists, or on a drive that is not connected now; "
            "an rclone remote is written rclone:REMOTE:PATH"
        )
    path = Path(os.path.normpath(raw))
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"{flag} {spec}: is a file, not a folder; give the folder backups go to")
    elif not path.parent.is_dir():
        away = lookups.drive_away(path) if lookups.drive_away else None
        if away is None:
            raise UsageError(
                f"{flag} {spec}: no such folder, and its folder {path.parent} does not exist either; "
                "create it, or connect the drive first"
            )
    base = _clean_name(path.name or "drive")
    return {"name": base or "drive", "type": "local", "path": str(path)}


def _rclone(remote: str) -> dict[str, str]:
    head = remote[1:] if remote.startswith(":") else remote
    name = re.split(r"[:,]", head, maxsplit=1)[0].strip() or "rclone"
    return {"name": name, "type": "rclone", "remote": remote}


def target_table(spec: str, *, flag: str = "--target", lookups: Lookups = NO_LOOKUPS) -> dict[str, str]:
    """One spec as a ``[[targets]]`` table (its ``name`` not yet made unique), or ``UsageError``
    naming the spec and why."""
    spec = spec.strip()
    if not spec:
        raise UsageError(f"{flag}: empty; give a folder path, s3://bucket/prefix or rclone:remote:path")
    if spec.startswith("s3://"):
        bucket, _, prefix = spec[5:].partition("/")
        if not bucket:
            raise UsageError(f"{flag} {spec}: no bucket name (write s3://bucket/prefix)")
        table = {"name": bucket, "type": "s3", "bucket": bucket}
        if prefix.strip("/"):
            table["prefix"] = prefix.strip("/")
        return table
    if spec.startswith("rclone:"):
        remote = spec[len("rclone:") :]
        if ":" not in remote or (remote.startswith(":") and remote.count(":") < 2):
            raise UsageError(f"{flag} {spec}: write rclone:REMOTE:PATH, e.g. rclone:gdrive:Keepmark")
        return _rclone(remote)
    if re.match(r"^[a-z][a-z0-9+.-]*://", spec, re.IGNORECASE):
        raise UsageError(f"{flag} {spec}: give a folder path, s3://bucket/prefix or rclone:remote:path")
    if is_windows_drive_path(spec):
        return _local(spec, flag, lookups)
    if spec.startswith(":") and spec.count(":") >= 2:
        return _rclone(spec)  # an rclone on-the-fly backend, :local:/path or :s3,provider=...:bucket
    found = _REMOTE.match(spec)
    if found is None:
        return _local(spec, flag, lookups)
    name = found.group(1)
    remotes = lookups.remotes() if lookups.remotes else Remotes(problem="rclone was not asked")
    if name in remotes.names:
        return _rclone(spec)
    if remotes.problem:
        note = f"rclone's remotes could not be listed ({remotes.problem})"
    else:
        known = ", ".join(remotes.names) or "none"
        note = f"{name!r} is not a remote in rclone's config (remotes there: {known})"
    return _local(spec, flag, lookups, note)


def unique_name(table: dict[str, str], taken: set[str]) -> dict[str, str]:
    """The table with a name no other target of the profile has (``drive``, ``drive-2``...)."""
    name = _clean_name(table["name"]) or "target"
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return {**table, "name": candidate}


def parse_target(spec: str, taken: set[str], lookups: Lookups = NO_LOOKUPS) -> dict[str, str]:
    """``/Volumes/Backup``, ``s3://bucket/prefix``, ``rclone:remote:path`` or ``remote:path`` ->
    a target table with a name unique among ``taken`` (which it joins)."""
    return unique_name(target_table(spec, lookups=lookups), taken)


def s3_settings(options: S3Options, buckets: Sequence[str]) -> dict[str, str]:
    """The keys ``--endpoint``, ``--region`` and ``--addressing`` add to every S3 target, checked;
    ``UsageError`` naming the flag."""
    given = options.given()
    if given and not buckets:
        raise UsageError(f"{given[0]}: only for S3 targets; add a --target s3://bucket/prefix")
    keys: dict[str, str] = {}
    if options.endpoint is not None:
        keys["endpoint_url"] = _endpoint(options.endpoint.strip(), buckets)
    if options.region is not None:
        region = options.region.strip()
        if not _REGION.match(region):
            raise UsageError(
                f"--region {options.region}: not a region name; give the service's region, "
                "e.g. us-east-1, eu-central-003 (B2), auto (R2), oss-cn-hangzhou (OSS), ap-guangzhou (COS)"
            )
        keys["region"] = region
    if options.addressing is not None:
        style = options.addressing.strip().lower()
        if style not in ADDRESSING_STYLES:
            raise UsageError(
                f"--addressing {options.addressing}: use path (https://host/bucket/key) "
                "or virtual (https://bucket.host/key)"
            )
        keys["addressing_style"] = style
    elif "endpoint_url" in keys:
        host = (urlsplit(keys["endpoint_url"]).hostname or "").lower()
        if host.endswith(_VIRTUAL_HOSTS):
            keys["addressing_style"] = "virtual"
    if options.aws_profile is not None:
        name = options.aws_profile.strip()
        if not name or any(c in name for c in "[]\r\n"):
            raise UsageError(
                f"aws_profile {options.aws_profile!r}: give a section name of the AWS credentials file"
            )
        keys["aws_profile"] = name
    return keys


def _endpoint(url: str, buckets: Sequence[str]) -> str:
    fix = "give the service's address, e.g. https://s3.us-west-004.backblazeb2.com"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--endpoint {url}: not an http(s) URL; {fix}")
    if parts.username or parts.password:
        raise UsageError(
            f"--endpoint {url}: holds a user name or password; credentials never go in a profile "
            "(S3 takes them from the AWS credential chain: environment, ~/.aws/credentials)"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"--endpoint {url}: has a query or fragment; {fix}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise UsageError(f"--endpoint {url}: the port is not a number; {fix}") from None
    first = parts.path.strip("/").split("/")[0]
    if first and first in buckets:
        raise UsageError(
            f"--endpoint {url}: ends in the bucket {first!r}; give the service's address without "
            "it (the bucket comes from --target s3://BUCKET/prefix)"
        )
    host = parts.hostname.lower()
    if any(host.startswith(f"{b}.") for b in buckets):
        raise UsageError(
            f"--endpoint {url}: starts with the bucket's name; give the service's address "
            "without it (add --addressing virtual for bucket-in-host addresses)"
        )
    return url.rstrip("/")
