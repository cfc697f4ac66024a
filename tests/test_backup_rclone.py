"""Backup runs to rclone remotes as a user runs them: the CLI, the real rclone binary, and the
SFTP and WebDAV servers ``rclone serve`` runs on 127.0.0.1 (from the creator's rclone.conf)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.backupkit import kill_when, make_files, tree, write_profile
from tests.conftest import run_backup
from tests.kit import names

SHELLY = names.FEW


@pytest.mark.parametrize("kind", ["sftp", "webdav"])
def test_full_incremental_verify_restore(
    kind: str, home: Path, tmp_path: Path, rclone_remotes: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    remotes = rclone_remotes
    src = tmp_path / "Shoots"
    files = make_files(src, 4)
    for i, name in enumerate(SHELLY):
        (src / name).write_bytes(f"odd {i}".encode())
        files[name] = f"odd {i}".encode()
    remote = remotes.fresh(kind)  # type: ignore[attr-defined]
    write_profile(home, [src], [{"name": "drive-in-the-cloud", "type": "rclone", "remote": remote}])
    monkeypatch.chdir(tmp_path)
    r = run_backup("full", "--json", cwd=tmp_path)
    assert r.code == 0, r
    [t] = r.json()["targets"]
    assert t["status"] == "ok" and t["files"] == len(files)
    root = remotes.folder(remote) / "lily"  # type: ignore[attr-defined]
    assert tree(root / "originals" / "Shoots") == files
    assert not list(tmp_path.rglob("pwned*")) and not list(root.rglob("pwned*"))
    # a changed file: the earlier content goes to versions/
    first = sorted(files)[0]
    (src / first).write_bytes(b"edited on the laptop")
    r = run_backup("incremental", "--json")
    assert r.code == 0 and r.json()["targets"][0]["files"] == 1, r
    assert [p.read_bytes() for p in (root / "versions").rglob("*") if p.is_file()] == [files[first]]
    assert run_backup("verify", "--read-data").code == 0
    # corruption on the remote (written through the server, as another client would) is
    # found by path
    name = sorted(files)[1]
    bad = tmp_path / "bad"
    bad.write_bytes(bytes([files[name][0] ^ 0xFF]) + files[name][1:])  # one byte differs
    rclone = str(remotes.rclone)  # type: ignore[attr-defined]
    subprocess.run([rclone, "copyto", "--", str(bad), f"{remote}/lily/originals/Shoots/{name}"], check=True)
    r = run_backup("verify", "--read-data")
    assert r.code == 1 and f"Shoots/{name}" in r.err, r
    r = run_backup("full", "--json")  # and a full run repairs it
    assert r.code == 0 and r.json()["targets"][0]["files"] == 1, r
    assert run_backup("verify", "--read-data").code == 0
    out = tmp_path / "restored"
    r = run_backup("restore", "--target", "drive-in-the-cloud", "--to", str(out))
    assert r.code == 0, r.err
    assert tree(out / "Shoots") == {**files, first: b"edited on the laptop"}
    assert not list(tmp_path.rglob("pwned*"))


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_kill_9_mid_run_to_sftp_then_rerun(home: Path, tmp_path: Path, rclone_remotes: object) -> None:
    remotes = rclone_remotes
    src = tmp_path / "Shoots"
    files = make_files(src, 40, size=200_000)
    remote = remotes.fresh("sftp")  # type: ignore[attr-defined]
    write_profile(home, [src], [{"name": "cloud", "type": "rclone", "remote": remote}])
    root = remotes.folder(remote) / "lily"  # type: ignore[attr-defined]

    def stored() -> int:
        folder = root / "originals"
        return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0

    killed = kill_when(["full"], lambda: stored() >= 5, env={"KEEPMARK_UPLOADS": "1"})
    assert killed, "the run finished before it could be killed"
    assert not (root / "snapshots").exists() or not list((root / "snapshots").iterdir())
    for p in (root / "originals").rglob("*"):  # whatever has a final name is whole
        if p.is_file() and not p.name.endswith(".keepmark-tmp"):
            assert p.read_bytes() == files[p.relative_to(root / "originals" / "Shoots").as_posix()]
    r = run_backup("incremental", "--json")
    assert r.code == 0, r
    final = {k: v for k, v in tree(root / "originals" / "Shoots").items() if not k.endswith(".keepmark-tmp")}
    assert final == files
    assert run_backup("verify", "--read-data").code == 0
