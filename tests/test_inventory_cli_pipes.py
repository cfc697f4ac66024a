"""``backup inventory show|list|export ... | head``: a reader that goes away early ends the
command quietly, with no BrokenPipe traceback, whether the pipe closes while Keepmark writes or
before it wrote a byte (then only Python's flush at exit would have met it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backup.errors import EXIT_FAILED

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a shell pipe")

COMMANDS = {
    "show": ["inventory", "show", "SHOWN"],
    "show-small": ["inventory", "show", "ONE"],  # all of it still in the buffer at exit
    "list": ["inventory", "list"],
    "export": ["inventory", "export"],
    "export-json": ["inventory", "export", "--json"],
}


def _env() -> dict[str, str]:
    # As a user's shell has it: stdout to a pipe is block-buffered, so what is left in the
    # buffer is written at exit.
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


@pytest.fixture
def recorded(home: Path, profile: str, sources: Path) -> Path:
    for i in range(400):
        (sources / f"note-{i:04d}.txt").write_text(f"caption {i}", encoding="utf-8")
    for i in range(200):  # one content at 200 paths: `show` prints 200 path lines
        (sources / f"same-{i:03d}.txt").write_text("the same words", encoding="utf-8")
    scan = subprocess.run([sys.executable, "-m", "backup", "inventory", "scan"], capture_output=True)
    assert scan.returncode == 0, scan
    return sources / "same-000.txt"


def _argv(name: str, shown: Path) -> list[str]:
    one = shown.parent / "note-0000.txt"
    return [{"SHOWN": str(shown), "ONE": str(one)}.get(a, a) for a in COMMANDS[name]]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_head_takes_one_line_and_backup_ends_quietly(recorded: Path, tmp_path: Path, name: str) -> None:
    err = tmp_path / "stderr.txt"
    words = " ".join(f"'{w}'" for w in _argv(name, recorded))
    r = subprocess.run(
        f"{sys.executable} -m backup {words} 2>'{err}' | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert r.returncode == 0 and r.stdout.count("\n") == 1, r
    assert err.read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_pipe_closed_before_the_first_byte(recorded: Path, name: str) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before backup writes anything
    try:
        r = subprocess.run(
            [sys.executable, "-m", "backup", *_argv(name, recorded)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert r.stderr == "" and r.returncode == EXIT_FAILED, r.stderr
