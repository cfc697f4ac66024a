"""The service reaches S3 without the shell's environment. A systemd user unit gets HOME, PATH
and its own Environment= lines, not the variables a shell exported: AWS keys exported in
~/.bashrc reach `backup full` typed in that shell, never the daemon. `backup service install`
says so, naming the target and the variables; keys in the AWS credentials file, with
aws_profile in the target, are what the unit's daemon reaches S3 with."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from tests.backupkit import make_files, write_profile
from tests.conftest import Result, run_backup
from tests.kit.s3 import FAKE_KEY, FAKE_SECRET, S3Server


def _unit_environment(unit: str, user_home: Path) -> dict[str, str]:
    """What systemd gives the unit's process: HOME and PATH, and the unit's Environment=."""
    env = {"HOME": str(user_home), "PATH": os.environ["PATH"]}
    if "PYTHONPATH" in os.environ:  # how this test run finds the package
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # no instance metadata service here to wait for
    for line in unit.splitlines():
        if line.startswith("Environment="):
            key, _, value = shlex.split(line[len("Environment=") :])[0].partition("=")
            env[key] = value
    return env


def _run(env: dict[str, str], *args: str) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "backup", *args], capture_output=True, text=True, env=env, timeout=300
    )
    return Result(proc)


def test_the_service_reaches_s3_with_a_credentials_file(
    home: Path, tmp_path: Path, s3_server: S3Server
) -> None:
    src = tmp_path / "Shoots"
    make_files(src, 3)
    bucket = s3_server.make_bucket()
    entry = s3_server.target_entry(bucket, name="cloud")
    profile = write_profile(home, [src], [entry])
    user = tmp_path / "user"  # the user's home folder, with no ~/.aws yet
    user.mkdir()

    # Keys exported in the shell (the test's environment has them, as a user's shell would).
    plan = run_backup("service", "install", "--platform", "linux", "--dry-run", "--json")
    assert plan.code == 0, plan
    [note] = plan.json()["notes"]
    assert note.startswith("target cloud: its AWS credentials come from this shell's environment")
    assert "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" in note and "aws configure" in note
    text = run_backup("service", "install", "--platform", "linux", "--dry-run")
    assert text.code == 0 and f"backup: note: {note}" in text.err.splitlines(), text

    # What the unit's daemon meets: no credentials at all.
    unit = _unit_environment(plan.json()["text"], user)
    assert unit["KEEPMARK_HOME"] == str(home)
    cut_off = _run(unit, "full", "-p", str(profile))
    assert cut_off.code == 1 and "no AWS credentials" in cut_off.err, cut_off
    assert not any(k.startswith("lily/") for k in s3_server.object_keys(bucket))

    # The documented way: the keys in the AWS credentials file, its profile named in the target.
    (user / ".aws").mkdir()
    (user / ".aws" / "credentials").write_text(
        f"[keepmark]\naws_access_key_id = {FAKE_KEY}\naws_secret_access_key = {FAKE_SECRET}\n"
    )
    # A shell that still exports the profile's name: the note says to write it in the target.
    no_aws = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    shell = {**no_aws, "HOME": str(user), "AWS_PROFILE": "keepmark", "AWS_EC2_METADATA_DISABLED": "true"}
    named = _run(shell, "service", "install", "--platform", "linux", "--dry-run", "--json")
    assert named.code == 0, named
    [note] = named.json()["notes"]
    assert "(AWS_PROFILE)" in note and 'write aws_profile = "keepmark" in the target' in note

    profile.write_text(
        tomli_w.dumps(
            {
                **tomllib.loads(profile.read_text(encoding="utf-8")),
                "targets": [{**entry, "aws_profile": "keepmark"}],
            }
        ),
        encoding="utf-8",
    )
    quiet = _run(
        {**shell, "AWS_PROFILE": ""}, "service", "install", "--platform", "linux", "--dry-run", "--json"
    )
    assert quiet.code == 0 and quiet.json()["notes"] == [], quiet
    reached = _run(unit, "full", "-p", str(profile))
    assert reached.code == 0, reached
    assert any(k.startswith("lily/originals/Shoots/") for k in s3_server.object_keys(bucket))
