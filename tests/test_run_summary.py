"""``backup full`` / ``backup incremental``: the text summary of a partial backup says that it
is partial and how many files failed, as its JSON does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backup.errors import EXIT_FAILED
from tests.backupkit import write_profile


def test_a_partial_backup_says_so(home: Path, tmp_path: Path, cli: Any) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (src / name).write_text(f"caption {name}", encoding="utf-8")
    drive = tmp_path / "drive"
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(drive)}])
    # On the drive, a folder stands where two originals go: they cannot be written there.
    for name in ("b.txt", "c.txt"):
        (drive / "lily" / "originals" / "Shoots" / name / "in the way").mkdir(parents=True)

    r = cli("full")
    assert r.code == EXIT_FAILED, r
    line = next(x for x in r.out.splitlines() if x.startswith("drive: "))
    assert line.startswith("drive: PARTIAL, 2 files failed; 1 files uploaded"), r.out
    assert "Shoots/b.txt" in r.err and "Shoots/c.txt" in r.err

    doc = cli("incremental", "--json").json()
    [t] = doc["targets"]
    assert t["status"] == "partial" and len(t["failed"]) == 2 and doc["ok"] is False
    again = cli("incremental")
    assert "drive: PARTIAL, 2 files failed; 0 files uploaded" in again.out, again
