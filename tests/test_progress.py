"""On a terminal, long work shows a progress bar (rich) on stderr; piped, nothing but the summary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_backup

pytestmark = pytest.mark.skipif(os.name == "nt", reason="pseudo-terminals are POSIX")


def test_scan_draws_a_progress_bar_on_a_terminal(home: Path, sources: Path, profile: str) -> None:
    import pty

    for i in range(40):
        (sources / f"export-{i:02d}.bin").write_bytes(os.urandom(256 * 1024))
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "backup", "inventory", "scan", "-p", profile],
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate(timeout=120)
    os.close(leader)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "Scanning" in terminal and "files" in terminal
    assert "Scanned 40 files" in out.decode()


def test_no_progress_bar_when_piped(home: Path, sources: Path, profile: str) -> None:
    (sources / "a.txt").write_text("a")
    r = run_backup("inventory", "scan", "-p", profile)
    assert r.code == 0 and r.err == "" and r.out.startswith("Scanned 1 file ")
