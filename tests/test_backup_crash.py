"""kill -9 in the middle of a backup run, then run again: every file ends up on the target,
nothing half-written is visible under a final name, and ``verify --read-data`` passes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.backupkit import kill_when, make_files, tree, write_profile
from tests.conftest import run_backup

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name == "nt", reason="SIGKILL")]


def count_files(folder: Path) -> int:
    return sum(len(files) for _d, _s, files in os.walk(folder))


def test_kill_9_mid_full_to_local_then_rerun(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    files = make_files(src, 150, size=400_000)
    drive = tmp_path / "drive"
    drive.mkdir()
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(drive / "Keepmark")}])
    root = drive / "Keepmark" / "lily"
    kills = 0
    for threshold in (1, 50, 100):
        if kill_when(["full"], lambda t=threshold: count_files(root / "originals") >= t):  # type: ignore[misc]
            kills += 1
            # after each kill: whatever has a final name is whole
            for p in (root / "originals").rglob("*"):
                if p.is_file() and not p.name.endswith(".keepmark-tmp"):
                    rel = p.relative_to(root / "originals" / "Shoots").as_posix()
                    assert p.read_bytes() == files[rel], rel
            # a snapshot is written only after every upload: if the kill came that late (a
            # starved test process), every file is there
            if (root / "snapshots").exists() and list((root / "snapshots").iterdir()):
                assert count_files(root / "originals") >= len(files)
    assert kills >= 2, "the run finished before it could be killed: make the data set bigger"
    # a kill while the run is past its uploads (copying the inventory, writing the snapshot)
    kill_when(
        ["incremental"], lambda: (root / "inventory").exists() and count_files(root / "originals") >= 150
    )
    r = run_backup("incremental", "--json")
    assert r.code == 0, r
    final = {k: v for k, v in tree(root / "originals" / "Shoots").items() if not k.endswith(".keepmark-tmp")}
    assert final == files
    r = run_backup("verify", "--read-data", "--json")
    assert r.code == 0 and r.json()["targets"][0]["read"] == 150, r
    r = run_backup("full", "--json")  # also clears the hidden temporaries the kills left
    assert r.code == 0 and r.json()["targets"][0]["files"] == 0, r
    assert not list(root.rglob("*.keepmark-tmp"))
    assert tree(root / "originals" / "Shoots") == files
