"""``backup full|incremental|verify|snapshots|restore|prune`` run as a user runs them, against
local-folder targets: the files on the target, the snapshots, the exit codes, the JSON."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backupkit import make_files, tree, write_profile
from tests.conftest import run_backup
from tests.kit.names import HOSTILE


@pytest.fixture
def studio(home: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    src = tmp_path / "Shoots"
    files = make_files(src, 8)
    (src / "captions").mkdir()
    (src / "captions" / "post 1.txt").write_text("caption ✨")
    files["captions/post 1.txt"] = "caption ✨".encode()
    drive = tmp_path / "drive"
    drive.mkdir()
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(drive / "Keepmark")}])
    return src, drive / "Keepmark" / "lily", files


def test_full_then_incremental(studio: tuple[Path, Path, dict[str, bytes]]) -> None:
    src, root, files = studio
    r = run_backup("full", "--json")
    assert r.code == 0, r
    doc = r.json()
    [t] = doc["targets"]
    assert {k: t[k] for k in ("name", "status", "files", "error")} == {
        "name": "drive",
        "status": "ok",
        "files": 9,
        "error": None,
    }
    assert t["bytes"] == sum(len(d) for d in files.values()) and t["snapshot"]
    assert tree(root / "originals" / "Shoots") == files
    assert (root / "snapshots" / f"{t['snapshot']}.json").is_file()
    assert (root / "inventory" / "inventory.sqlite").is_file()
    assert (root / "inventory" / "profile.toml").is_file()
    # nothing new: nothing uploaded, a complete snapshot all the same
    r = run_backup("incremental", "--json")
    assert r.code == 0, r
    [t2] = r.json()["targets"]
    assert t2["files"] == 0 and t2["total_files"] == 9 and t2["snapshot"] != t["snapshot"]
    snap = json.loads((root / "snapshots" / f"{t2['snapshot']}.json").read_text())
    assert snap["kind"] == "incremental" and len(snap["files"]) == 9
    # human output
    (src / "new.jpg").write_bytes(b"new photo")
    r = run_backup("incremental")
    assert r.code == 0 and "drive: 1 files uploaded" in r.out, r
    assert (root / "originals" / "Shoots" / "new.jpg").read_bytes() == b"new photo"


def test_changed_file_keeps_earlier_version_and_deletion_deletes_nothing(
    studio: tuple[Path, Path, dict[str, bytes]],
) -> None:
    src, root, files = studio
    assert run_backup("full").code == 0
    rel = sorted(files)[0]
    (src / rel).write_bytes(b"retouched")
    gone = sorted(files)[1]
    (src / gone).unlink()
    r = run_backup("incremental", "--json")
    assert r.code == 0, r
    assert (root / "originals" / "Shoots" / rel).read_bytes() == b"retouched"
    assert (root / "originals" / "Shoots" / gone).read_bytes() == files[gone]
    versions = list((root / "versions").rglob("*"))
    [v] = [p for p in versions if p.is_file()]
    assert v.read_bytes() == files[rel] and v.parent.name == Path(rel).parent.name


def test_verify_finds_a_flipped_byte(studio: tuple[Path, Path, dict[str, bytes]]) -> None:
    _src, root, files = studio
    assert run_backup("full").code == 0
    r = run_backup("verify", "--read-data", "--json")
    assert r.code == 0 and r.json()["targets"][0]["read"] == 9, r
    rel = sorted(files)[2]
    target_file = root / "originals" / "Shoots" / rel
    data = bytearray(target_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    target_file.write_bytes(bytes(data))
    assert run_backup("verify").code == 0  # sizes alone cannot see it
    r = run_backup("verify", "--read-data")
    assert r.code == 1 and f"Shoots/{rel}" in r.err and "SHA-256" in r.err, r
    r = run_backup("verify", "--sample", "100", "--json")
    assert r.code == 1 and r.json()["targets"][0]["problems"][0]["path"] == f"Shoots/{rel}"
    # a missing file too
    (root / "originals" / "Shoots" / sorted(files)[3]).unlink()
    r = run_backup("verify")
    assert r.code == 1 and "missing" in r.err
    # and a full run repairs both
    assert run_backup("full").code == 0
    assert run_backup("verify", "--read-data").code == 0


def test_snapshots_and_restore(studio: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    src, _root, files = studio
    assert run_backup("full").code == 0
    first = sorted(files)[0]
    (src / first).write_bytes(b"second version")
    assert run_backup("incremental").code == 0
    r = run_backup("snapshots", "--json")
    assert r.code == 0, r
    snaps = r.json()["targets"][0]["snapshots"]
    assert [s["kind"] for s in snaps] == ["full", "incremental"] and snaps[0]["files"] == 9
    assert "full" in run_backup("snapshots").out
    # everything, from the latest
    out = tmp_path / "restored"
    r = run_backup("restore", "--target", "drive", "--to", str(out))
    assert r.code == 0, r
    assert tree(out / "Shoots") == {**files, first: b"second version"}
    # one folder from the first snapshot, which had the earlier content
    out2 = tmp_path / "restored2"
    folder = str(Path(first).parent.as_posix())
    r = run_backup(
        "restore",
        "--target",
        "drive",
        "--snapshot",
        snaps[0]["id"][:-3],
        "--include",
        f"Shoots/{folder}",
        "--to",
        str(out2),
        "--json",
    )
    assert r.code == 0, r
    got = tree(out2 / "Shoots")
    assert got[first] == files[first] and all(p.startswith(folder + "/") for p in got)
    # existing different files are not replaced without --overwrite
    r = run_backup("restore", "--target", "drive", "--to", str(out2))
    assert r.code == 1 and "--overwrite" in r.err
    assert (out2 / "Shoots" / first).read_bytes() == files[first]
    r = run_backup("restore", "--target", "drive", "--to", str(out2), "--overwrite")
    assert r.code == 0 and (out2 / "Shoots" / first).read_bytes() == b"second version"


def test_restore_needs_a_known_target(studio: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    r = run_backup("restore", "--target", "nope", "--to", str(tmp_path / "x"))
    assert r.code == 2 and "no target named 'nope'" in r.err
    r = run_backup("restore", "--target", "drive", "--to", str(tmp_path / "x"))
    assert r.code == 1 and "no snapshots yet" in r.err


def test_prune(studio: tuple[Path, Path, dict[str, bytes]], home: Path) -> None:
    src, root, files = studio
    # only the newest snapshot is kept, whatever week or month the runs fall in
    write_profile(
        home,
        [src],
        [{"name": "drive", "type": "local", "path": str(root.parent)}],
        retention={"weekly": 0, "monthly": 0},
    )
    assert run_backup("full").code == 0
    rel = sorted(files)[0]
    for i in range(2):
        (src / rel).write_bytes(f"edit {i}".encode() * (i + 1))  # a new size: seen on any clock
        assert run_backup("incremental").code == 0
    assert len(list((root / "snapshots").iterdir())) == 3
    r = run_backup("prune", "--dry-run", "--json")
    assert r.code == 0 and len(r.json()["targets"][0]["removed_snapshots"]) == 2, r
    assert len(list((root / "snapshots").iterdir())) == 3
    r = run_backup("prune", "--json")
    assert r.code == 0, r
    t = r.json()["targets"][0]
    assert len(t["kept"]) == 1 and len(t["removed_versions"]) == 2
    assert len(list((root / "snapshots").iterdir())) == 1
    assert not [p for p in (root / "versions").rglob("*") if p.is_file()]
    assert tree(root / "originals" / "Shoots")[rel] == b"edit 1edit 1"
    assert run_backup("verify", "--read-data").code == 0


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, a real file system that fills up and can be unmounted (needs root)."""
    point = tmp_path / "mnt"
    point.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(point)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    yield point
    subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_full_disk_is_reported_and_other_targets_go_on(home: Path, tmp_path: Path, small_mount: Path) -> None:
    src = tmp_path / "Shoots"
    files = make_files(src, 12, size=150_000)
    big = tmp_path / "big-drive"
    big.mkdir()
    write_profile(
        home,
        [src],
        [
            {"name": "tiny", "type": "local", "path": str(small_mount / "Keepmark")},
            {"name": "big", "type": "local", "path": str(big / "Keepmark")},
        ],
    )
    r = run_backup("full", "--json")
    assert r.code == 1, r
    tiny, bigt = r.json()["targets"]
    assert tiny["status"] == "failed" and "no space" in tiny["error"] and tiny["snapshot"] is None
    assert bigt["status"] == "ok" and bigt["files"] == 12
    assert "tiny" in r.err and "no space" in r.err
    assert tree(big / "Keepmark" / "lily" / "originals" / "Shoots") == files
    # nothing half-written under a final name, no snapshot, no temporaries left
    root = small_mount / "Keepmark" / "lily"
    for p in (root / "originals").rglob("*"):
        if p.is_file():
            assert p.read_bytes() == files[p.relative_to(root / "originals" / "Shoots").as_posix()]
    assert not (root / "snapshots").exists() or not list((root / "snapshots").iterdir())
    assert not list(small_mount.rglob("*keepmark-tmp"))
    # --target limits a run; after making room the full run finishes
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_mount)], check=True)
    r = run_backup("full", "--target", "tiny", "--json")
    assert r.code == 0, r
    assert [t["name"] for t in r.json()["targets"]] == ["tiny"]
    assert tree(root / "originals" / "Shoots") == files
    assert run_backup("verify", "--read-data", "--target", "tiny").code == 0


def test_unmounted_drive_is_never_recreated(home: Path, tmp_path: Path, small_mount: Path) -> None:
    src = tmp_path / "Shoots"
    make_files(src, 3)
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(small_mount / "Keepmark")}])
    assert run_backup("full").code == 0
    subprocess.run(["umount", str(small_mount)], check=True)
    r = run_backup("incremental", "--json")
    assert r.code == 1, r
    [t] = r.json()["targets"]
    assert t["status"] == "failed" and "mounted" in t["error"]
    assert list(small_mount.iterdir()) == []  # not recreated on the laptop's own disk
    r = run_backup("verify")
    assert r.code == 1 and "mounted" in r.err


def test_target_folder_whose_parent_is_missing(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    make_files(src, 2)
    write_profile(
        home, [src], [{"name": "usb", "type": "local", "path": str(tmp_path / "NoDrive" / "Keepmark")}]
    )
    r = run_backup("full")
    assert r.code == 1 and "usb" in r.err and "does not exist" in r.err, r
    assert not (tmp_path / "NoDrive").exists()


def test_no_targets_and_unknown_target(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    write_profile(home, [src], [])
    r = run_backup("full")
    assert r.code == 2 and "no backup targets" in r.err
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(tmp_path / "d")}])
    r = run_backup("incremental", "--target", "cloud")
    assert r.code == 2 and "no target named 'cloud'" in r.err and "drive" in r.err


def test_odd_names_and_symlinks(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    names = HOSTILE
    for i, n in enumerate(names):
        (src / n).write_bytes(f"data {i}".encode())
    elsewhere = tmp_path / "Elsewhere"
    elsewhere.mkdir()
    (elsewhere / "linked.jpg").write_bytes(b"through a link")
    (src / "link.jpg").symlink_to(elsewhere / "linked.jpg")
    drive = tmp_path / "drive"
    drive.mkdir()
    targets = [{"name": "drive", "type": "local", "path": str(drive / "K")}]
    write_profile(home, [src], targets)
    r = run_backup("full", cwd=tmp_path)
    assert r.code == 0, r
    got = tree(drive / "K" / "lily" / "originals" / "Shoots")
    assert got == {n: f"data {i}".encode() for i, n in enumerate(names)}  # links not followed
    assert not (tmp_path / "pwned").exists()
    text = (home / "profiles" / "lily.toml").read_text()
    (home / "profiles" / "lily.toml").write_text(
        text.replace("[sources]\n", "[sources]\nfollow_symlinks = true\n")
    )
    assert run_backup("incremental").code == 0
    assert (drive / "K" / "lily" / "originals" / "Shoots" / "link.jpg").read_bytes() == b"through a link"
    out = tmp_path / "restored"
    assert run_backup("restore", "--target", "drive", "--to", str(out)).code == 0
    assert (out / "Shoots" / names[0]).read_bytes() == b"data 0"
    assert not (out / "Shoots" / "link.jpg").is_symlink()


def test_help_reads_well(home: Path) -> None:
    for cmd in ("incremental", "full", "verify", "snapshots", "restore", "prune"):
        r = run_backup(cmd, "--help")
        assert r.code == 0 and "exit codes" in r.out and "--target" in r.out, cmd
