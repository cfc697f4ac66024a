"""Backup runs as a user runs them (the CLI), for behaviours every kind of target shares. Each
kind is a real one: a local folder, moto's S3 server on 127.0.0.1, rclone remotes from the
test's rclone.conf (``rclone serve`` on 127.0.0.1, and one whose server nobody runs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.backupkit import make_files, tree, write_profile
from tests.conftest import run_backup
from tests.kit.s3 import S3Server


@dataclass
class Dead:
    """Targets of one kind that cannot be used, as [[targets]] tables, and for each the words
    its error must hold (None: any error)."""

    entries: list[dict[str, Any]]
    reasons: list[str | None]


def _dead_local(request: pytest.FixtureRequest, tmp_path: Path) -> Dead:
    # a drive that is not there: the folder it would be in does not exist
    return Dead(
        [{"name": "usb", "type": "local", "path": str(tmp_path / "NoDrive" / "Keepmark")}],
        ["does not exist"],
    )


def _dead_s3(request: pytest.FixtureRequest, tmp_path: Path) -> Dead:
    s3: S3Server = request.getfixturevalue("s3_server")
    return Dead([s3.target_entry("no-such-bucket-here", name="cloud")], ["no-such-bucket-here"])


def _dead_rclone(request: pytest.FixtureRequest, tmp_path: Path) -> Dead:
    request.getfixturevalue("rclone_remotes")  # RCLONE_CONFIG: the kit's rclone.conf
    return Dead(
        [
            {"name": "gone", "type": "rclone", "remote": "dead:Keepmark"},  # a server nobody runs
            {"name": "nowhere", "type": "rclone", "remote": "not-in-rclone-conf:Keepmark"},
        ],
        [None, "rclone config"],
    )


DEAD: dict[str, Callable[[pytest.FixtureRequest, Path], Dead]] = {
    "local": _dead_local,
    "s3": _dead_s3,
    "rclone": _dead_rclone,
}


@pytest.mark.parametrize("kind", sorted(DEAD))
def test_a_dead_target_fails_and_the_others_go_on(
    kind: str, home: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    dead = DEAD[kind](request, tmp_path)
    src = tmp_path / "Shoots"
    files = make_files(src, 3)
    drive = tmp_path / "drive"
    drive.mkdir()
    # the dead targets come first: the first target is opened while the scan runs
    write_profile(home, [src], [*dead.entries, {"name": "drive", "type": "local", "path": str(drive / "K")}])
    r = run_backup("full", "--json", timeout=600)
    assert r.code == 1, r
    *failed, local = r.json()["targets"]
    assert [t["name"] for t in failed] == [e["name"] for e in dead.entries], r
    for t, reason in zip(failed, dead.reasons, strict=True):
        assert t["status"] == "failed" and t["snapshot"] is None and t["error"], t
        if reason is not None:
            assert reason in t["error"], t
        assert t["name"] in r.err, r  # each failure is named on stderr too
    assert local["status"] == "ok" and local["files"] == 3 and local["snapshot"], local
    assert tree(drive / "K" / "lily" / "originals" / "Shoots") == files
    assert not (tmp_path / "NoDrive").exists()  # a missing drive is never made on the laptop


def test_prune_removes_what_killed_runs_left_on_a_folder(home: Path, tmp_path: Path) -> None:
    # a folder is the one target that cleans up a killed upload's temporary (base.Temporaries):
    # S3 never shows an upload before it is complete, and rclone's partial files are only
    # hidden from listings
    src = tmp_path / "Shoots"
    files = make_files(src, 2)
    drive = tmp_path / "drive"
    drive.mkdir()
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(drive / "K")}])
    assert run_backup("full").code == 0
    root = drive / "K" / "lily"
    left = [root / "originals" / "Shoots" / ".km-0badf00d.keepmark-tmp", root / ".km-12345678.keepmark-tmp"]
    for p in left:
        p.write_bytes(b"half an upload")
    r = run_backup("prune", "--dry-run", "--json")
    assert r.code == 0 and r.json()["targets"][0]["temporaries"] == 0, r
    assert all(p.exists() for p in left)  # a dry run removes nothing
    r = run_backup("prune", "--json")
    assert r.code == 0 and r.json()["targets"][0]["temporaries"] == 2, r
    assert not any(p.exists() for p in left)
    assert tree(root / "originals" / "Shoots") == files
