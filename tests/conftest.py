"""Shared fixtures: an isolated Keepmark home, a way to run the CLI as a user does, and
real media made on the spot (Pillow, pillow-heif, the bundled ffmpeg)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

# Real servers on 127.0.0.1 for the backup targets: S3 (moto's server) and rclone's remotes.
pytest_plugins = ["tests.kit.s3", "tests.kit.rclone", "tests.kit.tsa"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run the slow tests (CI does)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every thread a test starts must be stopped and joined by the end of the test."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for t in leaked:
        t.join(timeout=5)
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"threads left running: {still}"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private KEEPMARK_HOME for this test (and for the CLI processes it starts)."""
    h = tmp_path / "keepmark-home"
    monkeypatch.setenv("KEEPMARK_HOME", str(h))
    monkeypatch.delenv("KEEPMARK_PROFILE", raising=False)
    return h


class Result:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"<exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}>"


def run_backup(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> Result:
    """Run ``backup ARGS...`` in a new process, as a user would."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "backup", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )
    return Result(proc)


@pytest.fixture
def cli() -> Any:
    return run_backup


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "Shoots"
    folder.mkdir()
    return folder


@pytest.fixture
def profile(home: Path, sources: Path) -> str:
    """A profile named ``lily`` over the ``sources`` folder."""
    result = run_backup(
        "init", "lily", "--account", "Lily Chen", "--handle", "lily.shoots", "--source", str(sources)
    )
    assert result.code == 0, result
    return "lily"
