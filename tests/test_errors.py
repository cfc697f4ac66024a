"""The CLI edge: every Keepmark error becomes one line and the exit code it carries; anything
unexpected becomes one line naming the error log that holds its traceback; a closed pipe ends
quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backup.errors import EXIT_CANNOT_START, EXIT_FAILED, KeepmarkError
from backup.targets.base import ObjectError, TargetError
from inventory.errors import Ambiguous, DatabaseError, InventoryError, NotFound
from watermark.errors import WatermarkError

# A real `backup` process whose `stamp` command raises an error Keepmark did not expect.
BROKEN = """
import sys
import backup.cli.stamp_cmd as stamp_cmd
from backup.cli.main import main

def broken(args):
    raise ZeroDivisionError("a bug deep inside")

stamp_cmd.run = broken
main(sys.argv[1:])
"""


def run_broken(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full = {k: v for k, v in os.environ.items() if k != "KEEPMARK_DEBUG"}
    full.update({"KEEPMARK_HOME": str(home), **(env or {})})
    return subprocess.run(
        [sys.executable, "-c", BROKEN, *args], capture_output=True, text=True, env=full, timeout=60
    )


def test_every_error_carries_its_exit_code() -> None:
    assert issubclass(InventoryError, KeepmarkError) and issubclass(WatermarkError, KeepmarkError)
    assert issubclass(TargetError, KeepmarkError) and issubclass(ObjectError, KeepmarkError)
    assert NotFound.exit_code == EXIT_FAILED and TargetError.exit_code == EXIT_FAILED
    assert Ambiguous.exit_code == EXIT_CANNOT_START and DatabaseError.exit_code == EXIT_CANNOT_START
    assert WatermarkError.exit_code == EXIT_CANNOT_START


def test_an_unexpected_error_is_one_line_naming_the_log(tmp_path: Path) -> None:
    home = tmp_path / "home"
    r = run_broken(home, "stamp", "-p", "nobody")
    assert r.returncode == EXIT_FAILED, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    log = home / "logs" / "errors.log"
    assert "internal error: ZeroDivisionError: a bug deep inside" in lines[0]
    assert str(log) in lines[0]
    assert "Traceback" not in r.stderr
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "a bug deep inside" in text
    assert "backup stamp -p nobody" in text
    again = run_broken(home, "stamp")
    assert again.returncode == EXIT_FAILED
    assert log.read_text(encoding="utf-8").count("Traceback") == 2  # appended, not replaced


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    r = run_broken(tmp_path / "home", "stamp", env={"KEEPMARK_DEBUG": "1"})
    assert r.returncode == EXIT_FAILED
    assert "Traceback (most recent call last)" in r.stderr and "ZeroDivisionError" in r.stderr


def test_json_gets_a_document_too(tmp_path: Path) -> None:
    import json

    r = run_broken(tmp_path / "home", "stamp", "--json")
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["exit_code"] == EXIT_FAILED
    assert doc["log"].endswith("errors.log") and "ZeroDivisionError" in doc["error"]


def test_an_unwritable_home_still_gets_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("a file where the home folder should be")
    r = run_broken(home, "stamp")
    assert r.returncode == EXIT_FAILED
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" in lines[0], r.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="a shell pipe")
def test_a_closed_pipe_ends_quietly(home: Path, profile: str, sources: Path) -> None:
    for i in range(3000):
        (sources / f"note-{i:04d}.txt").write_text(str(i))
    scan = subprocess.run([sys.executable, "-m", "backup", "inventory", "scan"], capture_output=True)
    assert scan.returncode == 0
    r = subprocess.run(
        f"{sys.executable} -m backup inventory list | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0
    assert r.stdout.count("\n") == 1
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr
