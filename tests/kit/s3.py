"""pytest plugin: an S3 service on 127.0.0.1 (moto's server, run as a separate process) and S3
targets on it.

Fixtures:

- ``aws_env``: fake AWS credentials in the environment of the test and of the processes it
  starts; the shared credentials and config files point at files in the test's temporary
  folder (the real ``~/.aws`` is never read), and the instance metadata service is off.
- ``s3_server``: the server (``.endpoint``, ``.client``, ``.make_bucket(...)``,
  ``.target(...)``, and for profiles ``.profile_target(...)`` and ``.target_entry(...)``); its
  buckets are wiped after each test.
- ``s3_target``: an ``S3Target`` on a fresh bucket, session open, closed after the test. It
  uses multipart uploads from 8 MiB, in 5 MiB parts.
- ``s3_auth_server``: a second server that checks credentials, with a bucket and two users:
  ``admin`` (may do anything) and ``noperm`` (may do nothing).
- ``fast_retries``: botocore's retry backoff scaled down, for tests that inject faults.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from backup.profile import model
from backup.targets.s3 import MiB, S3Target
from tests.kit.ports import answers_http, start_on_free_port

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"
FAKE_KEY = "AKIAKEEPMARKTESTING0"
FAKE_SECRET = "keepmark-testing-secret-not-a-real-key"
_AWS_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_REGION",
)


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=FAKE_KEY,
        AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
        AWS_DEFAULT_REGION=REGION,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_CONFIG_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


@dataclass
class MotoProcess:
    """moto's server in its own process, on 127.0.0.1."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, path: str, body: bytes = b"") -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", path, body=body)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start_moto(folder: Path, env: dict[str, str] | None = None) -> MotoProcess:
    """Start ``python -m moto.server`` on a free port and wait until it answers."""
    folder.mkdir(parents=True, exist_ok=True)

    def start(port: int) -> MotoProcess:
        log = folder / f"moto-{port}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_clean_env(env or {}),
            )
        return MotoProcess(port, proc, log)

    return start_on_free_port(start, answers_http("GET", "/moto-api/data.json", 200), "moto server")


def admin_client(endpoint: str, key: str = FAKE_KEY, secret: str = FAKE_SECRET, service: str = "s3") -> Any:
    """A boto3 client with explicit test keys, for setting up and checking the server."""
    return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret).client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


@dataclass
class AwsFiles:
    """The fake AWS credentials and config files of one test."""

    credentials: Path
    config: Path
    profiles: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add_profile(self, name: str, key: str, secret: str) -> None:
        """Add a named profile with these keys to the credentials file."""
        self.profiles[name] = (key, secret)
        self.credentials.write_text(
            "".join(
                f"[{n}]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n\n"
                for n, (k, s) in self.profiles.items()
            )
        )


@pytest.fixture
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsFiles:
    folder = tmp_path / "aws-config"
    folder.mkdir()
    files = AwsFiles(folder / "credentials", folder / "config")
    files.add_profile("default", FAKE_KEY, FAKE_SECRET)
    files.config.write_text(f"[default]\nregion = {REGION}\n")
    for name in _AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(files.credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(files.config))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("BOTO_CONFIG", str(folder / "boto-none"))
    return files


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoProcess]:
    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


class S3Server:
    """The S3 server of a test: makes buckets and targets on it."""

    region = REGION

    def __init__(self, process: MotoProcess, tmp: Path) -> None:
        self.process = process
        self.endpoint = process.endpoint
        self.client: S3Client = admin_client(self.endpoint)
        self.tmp = tmp
        self._targets: list[S3Target] = []

    def make_bucket(
        self, name: str | None = None, *, object_lock: bool = False, versioning: bool = False
    ) -> str:
        """Create a bucket (a fresh name unless given); Object Lock turns versioning on."""
        bucket = name or f"km-{uuid.uuid4().hex[:16]}"
        self.client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=object_lock)
        if versioning and not object_lock:
            self.client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        return bucket

    def target(
        self, bucket: str | None = None, *, name: str = "cloud", profile: str = "lily", **kw: Any
    ) -> S3Target:
        """An S3Target on this server (a fresh bucket unless given), closed after the test."""
        kw.setdefault("endpoint_url", self.endpoint)
        kw.setdefault("region", REGION)
        kw.setdefault("resume_dir", self.tmp / "s3-uploads")
        t = S3Target(name, bucket=bucket or self.make_bucket(), profile=profile, **kw)
        self._targets.append(t)
        return t

    def profile_target(self, bucket: str | None = None, *, name: str = "cloud", **kw: Any) -> model.Target:
        """A profile's [[targets]] entry for a bucket on this server."""
        return model.Target(
            name=name,
            type="s3",
            bucket=bucket or self.make_bucket(),
            endpoint_url=self.endpoint,
            region=REGION,
            **kw,
        )

    def target_entry(self, bucket: str | None = None, *, name: str = "cloud", **kw: Any) -> dict[str, Any]:
        """The same, as a profile file's [[targets]] table."""
        return {
            k: v
            for k, v in self.profile_target(bucket, name=name, **kw)._asdict().items()
            if v not in (None, "")
        }

    def object_keys(self, bucket: str) -> list[str]:
        """Every key in the bucket, as stored."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def close(self) -> None:
        for t in self._targets:
            t.close()
        self.client.close()
        self.process.post("/moto-api/reset")


@pytest.fixture
def s3_server(moto_server: MotoProcess, aws_env: AwsFiles, tmp_path: Path) -> Iterator[S3Server]:
    server = S3Server(moto_server, tmp_path)
    yield server
    server.close()


@pytest.fixture
def s3_target(s3_server: S3Server) -> Iterator[S3Target]:
    t = s3_server.target(
        name="s3", prefix="keepmark", multipart_threshold=8 * MiB, part_size=5 * MiB, max_concurrency=4
    )
    t.open_session()
    yield t
    t.close()


@dataclass
class AuthServer:
    """A server that checks credentials: ``bucket`` exists; ``users`` maps a user name
    (``admin``, ``noperm``) to its (access key id, secret key)."""

    process: MotoProcess
    bucket: str
    users: dict[str, tuple[str, str]]

    @property
    def endpoint(self) -> str:
        return self.process.endpoint


@pytest.fixture(scope="session")
def s3_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    # moto checks no credentials until told to: the setup below goes through unchecked (retries
    # included), then every request is checked.
    process = start_moto(tmp_path_factory.mktemp("moto-auth"))
    try:
        bucket = "km-auth-bucket"
        s3 = admin_client(process.endpoint)
        s3.create_bucket(Bucket=bucket)
        iam = admin_client(process.endpoint, service="iam")
        users: dict[str, tuple[str, str]] = {}
        iam.create_user(UserName="noperm")
        iam.create_user(UserName="admin")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="admin", PolicyName="everything", PolicyDocument=json.dumps(policy))
        for user in ("noperm", "admin"):
            k = iam.create_access_key(UserName=user)["AccessKey"]
            users[user] = (k["AccessKeyId"], k["SecretAccessKey"])
        s3.close()
        iam.close()
        assert process.post("/moto-api/reset-auth", b"0") == 200  # no more requests unchecked
        yield AuthServer(process, bucket, users)
    finally:
        process.stop()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scale botocore's retry backoff down (throttling waits up to 1 s, 2 s, 4 s... otherwise)."""
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(
        ExponentialBackoff,
        "_DEFAULT_BACKOFF_CONFIG",
        {"throttling_base_scale": 0.02, "non_throttling_base_scale": 0.01},
    )
