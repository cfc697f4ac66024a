"""What of the AWS credential chain lives only in this shell's environment, and so is not there
for a process the service manager starts at log-in (a systemd user unit or a launchd agent gets
no shell's variables). ``backup service install`` names it; the remedy is a credentials file
(``aws configure``), with ``aws_profile`` in the target for a named profile of it."""

from __future__ import annotations

import os

KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
PROFILE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
FILES = ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")


def shell_only(aws_profile: str | None) -> list[str]:
    """The environment variables that the credentials an S3 target with ``aws_profile`` would
    use come from, in the order of ``KEYS``, ``PROFILE``, ``FILES``: the keys themselves when
    botocore takes them from the environment, the profile's name when it is not in the target,
    and a credentials or config file away from its usual place. Empty when the chain needs
    nothing from the environment (or finds no credentials at all: a run says that)."""
    set_here = [k for k in (*KEYS, *PROFILE, *FILES) if os.environ.get(k)]
    if not set_here:
        return []  # nothing to miss (and no reason to ask the instance metadata service)
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        credentials = boto3.session.Session(profile_name=aws_profile).get_credentials()
    except BotoCoreError:
        return []
    if credentials is None:
        return []
    found: list[str] = []
    if credentials.method == "env":
        found += [k for k in KEYS if os.environ.get(k)]
    else:
        if aws_profile is None:
            found += [k for k in PROFILE if os.environ.get(k)]
        found += [k for k in FILES if os.environ.get(k)]
    return found
