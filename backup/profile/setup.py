"""Creating a profile from ``backup init``'s answers."""

from __future__ import annotations

from collections.abc import Sequence

from backup.errors import Problem, ProfileError, UsageError
from backup.home import profiles_dir
from backup.profile.load import toml_loads
from backup.profile.model import Profile
from backup.profile.specs import (
    NO_LOOKUPS,
    NO_S3_OPTIONS,
    Lookups,
    S3Options,
    s3_settings,
    target_table,
    unique_name,
)
from backup.profile.validate import NAME_RE, parse
from backup.profile.write import Schedule, render, write_profile


def create_profile(
    name: str,
    *,
    account: str,
    handle: str,
    sources: Sequence[str],
    targets: Sequence[str] = (),
    important: Sequence[str] = (),
    ignore: Sequence[str] = (),
    output: str | None = None,
    overwrite: bool = False,
    s3: S3Options = NO_S3_OPTIONS,
    lookups: Lookups = NO_LOOKUPS,
    schedule: Schedule | None = None,
) -> Profile:
    """Write ``$KEEPMARK_HOME/profiles/NAME.toml`` and return it, validated. ``targets`` are
    specs as typed (``backup.profile.specs``); ``s3`` applies to every S3 target among them."""
    if not NAME_RE.match(name):
        raise UsageError(f"{name!r} is not a usable profile name: use letters, digits, '.', '_' and '-'")
    if not account.strip() or not handle.strip():
        raise UsageError("--account and --handle must not be empty")
    taken: set[str] = set()
    tables = [unique_name(target_table(t, lookups=lookups), taken) for t in targets]
    buckets = [t["bucket"] for t in tables if t["type"] == "s3"]
    extra = s3_settings(s3, buckets)
    tables = [{**t, **extra} if t["type"] == "s3" else t for t in tables]
    text = render(
        account=account,
        handle=handle,
        sources=sources,
        targets=tables,
        important=important,
        ignore=ignore,
        output=output,
        schedule=schedule,
    )
    path = profiles_dir() / f"{name}.toml"
    # Validate before writing, so a bad answer never leaves a broken profile behind.
    profile, problems = parse(toml_loads(text), path, name)
    if profile is None:
        raise ProfileError(str(path), problems or [Problem("(profile)", "invalid")])
    missing = [str(f) for f in profile.sources.folders if not f.is_dir()]
    if missing:
        raise UsageError(f"--source {missing[0]}: no such folder (create it or connect its drive first)")
    write_profile(path, text, overwrite=overwrite)
    return profile
