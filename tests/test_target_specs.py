"""Targets typed as people type them: ``backup init --target gdrive:Keepmark`` (a configured rclone
remote, without the ``rclone:`` prefix) once made a folder named ``gdrive:Keepmark`` in the
working directory, ``profile check`` said OK and ``backup full`` "uploaded" to the laptop's own
disk. Here with the real rclone and its remotes served on 127.0.0.1 (tests/kit/rclone.py), and
moto's S3 server for the S3-compatible flags."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

from backup.errors import UsageError
from backup.profile.specs import Lookups, Remotes, target_table
from tests.backupkit import make_files, tree, write_profile
from tests.conftest import run_backup
from tests.kit.rclone import RcloneRemotes
from tests.kit.s3 import S3Server

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ACCOUNT = ("--account", "Lily Chen", "--handle", "lily.shoots")


def targets_of(home: Path, name: str = "lily") -> list[dict[str, Any]]:
    doc = tomllib.loads((home / "profiles" / f"{name}.toml").read_text(encoding="utf-8"))
    return list(doc.get("targets", []))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The terminal's working directory: nothing may appear in it."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


# -- rclone remotes typed without the rclone: prefix ----------------------------------------------


def test_a_configured_remote_typed_without_prefix_is_that_remote(
    home: Path, sources: Path, work: Path, rclone_remotes: RcloneRemotes
) -> None:
    remote = rclone_remotes.fresh("webdav")  # "webdav:t-...", a remote in RCLONE_CONFIG
    files = make_files(sources, 3)
    r = run_backup("init", "lily", *ACCOUNT, "--source", str(sources), "--target", remote, cwd=work)
    assert r.code == 0, r
    [t] = targets_of(home)
    assert t == {"name": "webdav", "type": "rclone", "remote": remote}
    # exactly what rclone:REMOTE:PATH gives
    r = run_backup(
        "init", "same", *ACCOUNT, "--source", str(sources), "--target", f"rclone:{remote}", cwd=work
    )
    assert r.code == 0, r
    assert targets_of(home, "same") == [t]
    (home / "profiles" / "same.toml").unlink()

    assert run_backup("profile", "check", "-p", "lily", cwd=work).code == 0
    r = run_backup("full", "--json", "-p", "lily", cwd=work)
    assert r.code == 0, r
    [done] = r.json()["targets"]
    assert done["status"] == "ok" and done["files"] == len(files), done
    assert tree(rclone_remotes.folder(remote) / "lily" / "originals" / sources.name) == files
    assert os.listdir(work) == []  # no folder named after the spec on the laptop's disk


def test_a_name_that_is_no_remote_and_relative_paths_are_refused(
    home: Path, sources: Path, work: Path, rclone_remotes: RcloneRemotes
) -> None:
    cases = {
        "gdrive:Keepmark": ("'gdrive' is not a remote in rclone's config", "webdav"),
        "Backup": ("a relative path", "absolute"),
        "./Backup/Keepmark": ("a relative path", "absolute"),
        "../Backup": ("a relative path", "absolute"),
    }
    for spec, words in cases.items():
        r = run_backup("init", "lily", *ACCOUNT, "--source", str(sources), "--target", spec, cwd=work)
        assert r.code == 2, (spec, r)
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and f"--target {spec}: " in lines[0], (spec, r)
        assert all(w in lines[0] for w in words), (spec, r)
        assert not (home / "profiles" / "lily.toml").exists()
    assert os.listdir(work) == [] and sorted(os.listdir(work.parent)) == ["Shoots", "work"]


def test_with_no_rclone_config_a_remote_spec_is_refused_not_made_a_folder(
    home: Path, sources: Path, work: Path, tmp_path: Path
) -> None:
    env = {"RCLONE_CONFIG": str(tmp_path / "no-rclone.conf")}
    r = run_backup(
        "init", "lily", *ACCOUNT, "--source", str(sources), "--target", "gdrive:Keepmark", cwd=work, env=env
    )
    assert r.code == 2 and "--target gdrive:Keepmark: 'gdrive' is not a remote" in r.err, r
    assert "remotes there: none" in r.err
    assert os.listdir(work) == [] and not (home / "profiles" / "lily.toml").exists()


def test_windows_drive_paths_are_never_taken_for_remotes() -> None:
    asked: list[int] = []

    def remotes() -> Remotes:
        asked.append(1)
        return Remotes(("C", "D", "E"))

    lookups = Lookups(remotes=remotes)
    for spec in ("C:\\Backup\\Keepmark", "D:/Keepmark", "E:"):
        if os.name == "nt":  # pragma: no cover - on Windows, a drive path is a local target
            assert target_table(spec, lookups=lookups)["type"] == "local"
        else:
            with pytest.raises(
                UsageError, match=r"a Windows drive path, which is not a folder on this system"
            ):
                target_table(spec, lookups=lookups)
    assert asked == []
    # while a longer name is asked about, and becomes the remote
    assert target_table("CD:Keepmark", lookups=Lookups(remotes=lambda: Remotes(("CD",))))["type"] == "rclone"


def test_a_local_target_exists_or_its_drive_is_away(
    home: Path, sources: Path, work: Path, tmp_path: Path
) -> None:
    def init(spec: str) -> Any:
        return run_backup(
            "init", "lily", "--force", *ACCOUNT, "--source", str(sources), "--target", spec, cwd=work
        )

    gone = tmp_path / "no-such" / "folder" / "Keepmark"
    r = init(str(gone))
    assert r.code == 2 and f"--target {gone}: no such folder" in r.err and "connect the drive" in r.err, r
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    r = init(str(a_file))
    assert r.code == 2 and "is a file, not a folder" in r.err, r
    assert not (home / "profiles" / "lily.toml").exists()

    # a new folder in an existing one: the first backup makes it
    r = init(str(tmp_path / "Backup Drive" / ".." / "New"))
    assert r.code == 0, r
    assert targets_of(home) == [{"name": "New", "type": "local", "path": str(tmp_path / "New")}]
    # a drive that is not plugged in now (a mount point under /mnt that is not mounted)
    away = Path("/mnt") / f"keepmark-unplugged-{secrets.token_hex(4)}" / "Keepmark"
    r = init(str(away))
    assert r.code == 0, r
    assert targets_of(home)[0]["path"] == str(away)
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 0 and "connect the drive" in r.err, r
    assert not away.parent.exists() and os.listdir(work) == []


def test_a_profile_file_with_a_relative_local_path_is_refused(home: Path, sources: Path, work: Path) -> None:
    write_profile(home, [sources], [{"name": "gd", "type": "local", "path": "gdrive:Keepmark"}])
    r = run_backup("profile", "check", "-p", "lily", cwd=work)
    assert r.code == 2, r
    [line] = [x for x in r.err.splitlines() if "targets[1].path:" in x]
    assert "'gdrive:Keepmark' is a relative path" in line
    assert """write type = "rclone" and remote = 'gdrive:Keepmark'""" in line
    make_files(sources, 1)
    r = run_backup("full", "-p", "lily", cwd=work)
    assert r.code == 2 and "targets[1].path" in r.err, r
    write_profile(home, [sources], [{"name": "usb", "type": "local", "path": "Backup"}])
    r = run_backup("profile", "check", "-p", "lily", cwd=work)
    assert r.code == 2 and "targets[1].path: 'Backup' is a relative path" in r.err, r
    assert os.listdir(work) == []


# -- what S3-compatible services need --------------------------------------------------------------


def test_init_takes_endpoint_region_and_addressing_and_backs_up_there(
    home: Path, sources: Path, work: Path, s3_server: S3Server
) -> None:
    bucket = s3_server.make_bucket()
    files = make_files(sources, 3)
    r = run_backup(
        "init", "lily", *ACCOUNT, "--source", str(sources), "--target", f"s3://{bucket}/keepmark",
        "--endpoint", s3_server.endpoint + "/", "--region", s3_server.region, "--addressing", "path", cwd=work,
    )  # fmt: skip
    assert r.code == 0, r
    assert targets_of(home) == [
        {
            "name": bucket,
            "type": "s3",
            "bucket": bucket,
            "prefix": "keepmark",
            "endpoint_url": s3_server.endpoint,
            "region": s3_server.region,
            "addressing_style": "path",
        }
    ]
    assert run_backup("profile", "check", "-p", "lily").code == 0
    r = run_backup("full", "--json", "-p", "lily", cwd=work)
    assert r.code == 0, r
    assert r.json()["targets"][0]["status"] == "ok"
    keys = set(s3_server.object_keys(bucket))
    assert {f"keepmark/lily/originals/{sources.name}/{k}" for k in files} <= keys
    assert os.listdir(work) == []


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--endpoint", "ftp://files.example.com"), "--endpoint ftp://files.example.com: not an http(s) URL"),
        (("--endpoint", "https://s3.example.com/lily-backups"), "ends in the bucket 'lily-backups'"),
        (("--endpoint", "https://lily-backups.s3.example.com"), "starts with the bucket's name"),
        (("--endpoint", "https://key:secret@s3.example.com"), "credentials never go in a profile"),
        (("--endpoint", "https://s3.example.com:port"), "the port is not a number"),
        (("--region", "us east 1"), "--region us east 1: not a region name"),
        (("--addressing", "sideways"), "argument --addressing: invalid choice: 'sideways'"),
    ],
)
def test_s3_flags_are_checked_and_name_the_flag(
    home: Path, sources: Path, work: Path, flags: tuple[str, str], words: str
) -> None:
    r = run_backup(
        "init",
        "lily",
        *ACCOUNT,
        "--source",
        str(sources),
        "--target",
        "s3://lily-backups/k",
        *flags,
        cwd=work,
    )
    assert r.code == 2 and words in r.err, r
    assert not (home / "profiles" / "lily.toml").exists()


def test_s3_flags_without_an_s3_target_are_refused(home: Path, sources: Path, work: Path) -> None:
    r = run_backup(
        "init", "lily", *ACCOUNT, "--source", str(sources), "--target", str(work.parent),
        "--endpoint", "https://s3.example.com", "--region", "auto", cwd=work,
    )  # fmt: skip
    assert r.code == 2 and "--endpoint: only for S3 targets" in r.err, r
    assert not (home / "profiles" / "lily.toml").exists()


def test_virtual_addressing_for_services_that_need_it(
    home: Path, sources: Path, work: Path, s3_server: S3Server
) -> None:
    """Aliyun OSS answers bucket-in-host addresses only: its endpoint gets virtual addressing
    unless --addressing says otherwise, and the target then addresses BUCKET.HOST."""
    from backup.app.profiles import load
    from backup.targets.s3 import S3Target

    oss = "https://oss-cn-hangzhou.aliyuncs.com"
    args = ("init", "lily", "--force", *ACCOUNT, "--source", str(sources), "--target", "s3://lily-oss/km")
    r = run_backup(*args, "--endpoint", oss, "--region", "cn-hangzhou", cwd=work)
    assert r.code == 0, r
    assert targets_of(home)[0]["addressing_style"] == "virtual"
    [t] = load("lily").targets
    target = S3Target.from_profile(t, "lily", None)
    try:
        url = target._s3().generate_presigned_url("get_object", Params={"Bucket": "lily-oss", "Key": "km/x"})
    finally:
        target.close()
    assert url.startswith("https://lily-oss.oss-cn-hangzhou.aliyuncs.com/km/x?"), url
    r = run_backup(*args, "--endpoint", oss, "--addressing", "path", cwd=work)
    assert r.code == 0 and targets_of(home)[0]["addressing_style"] == "path", r
    r = run_backup(*args, "--endpoint", s3_server.endpoint, cwd=work)  # MinIO and the like: path
    assert r.code == 0 and "addressing_style" not in targets_of(home)[0], r
    # and in a profile file, a wrong style is named by its key
    write_profile(home, [sources], [{**s3_server.target_entry("lily-oss"), "addressing_style": "sideways"}])
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 2 and "targets[1].addressing_style: 'sideways' is not one of path, virtual" in r.err, r


# -- a local target on the same disk as a source ---------------------------------------------------


def test_a_local_target_on_the_sources_disk_is_warned_and_graded(
    home: Path, sources: Path, tmp_path: Path
) -> None:
    (sources / "a.txt").write_text("caption", encoding="utf-8")
    same = tmp_path / "Backup"  # a folder on the laptop's own disk, as a mistyped spec made
    write_profile(home, [sources], [{"name": "drive", "type": "local", "path": str(same)}])
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 0, r
    [line] = [x for x in r.err.splitlines() if "same disk" in x]
    assert "warning: " in line and "target drive.path" in line and str(sources) in line
    assert "protects against deletion, not against losing" in line
    doc = run_backup("profile", "check", "-p", "lily", "--json").json()
    assert [w["key"] for w in doc["warnings"] if "same disk" in w["message"]] == ["target drive.path"]

    r = run_backup("check", "--json", "-p", "lily")
    found = [f for f in r.json()["findings"] if f["check"] == "same disk"]
    assert len(found) == 1 and found[0]["severity"] == "medium" and str(same) in found[0]["problem"], r
    assert "protects against deletion, not against losing" in found[0]["problem"]
    text = run_backup("check", "-p", "lily")
    assert "same disk as the source folder" in text.out, text

    # a drive that is away is not judged by the folder it would be mounted on
    away = Path("/mnt") / f"keepmark-unplugged-{secrets.token_hex(4)}" / "Keepmark"
    write_profile(home, [sources], [{"name": "drive", "type": "local", "path": str(away)}])
    assert "same disk" not in run_backup("profile", "check", "-p", "lily").err
    assert "same disk" not in {f["check"] for f in run_backup("check", "--json").json()["findings"]}


def test_a_local_target_on_another_disk_is_not_warned(home: Path, sources: Path) -> None:
    other = Path("/dev/shm")
    if not other.is_dir() or os.stat(other).st_dev == os.stat(sources).st_dev:
        pytest.skip("no folder on another file system here")
    drive = other / f"keepmark-test-{secrets.token_hex(4)}"
    write_profile(home, [sources], [{"name": "drive", "type": "local", "path": str(drive / "Keepmark")}])
    drive.mkdir()
    try:
        r = run_backup("profile", "check", "-p", "lily")
        assert r.code == 0 and "same disk" not in r.err, r
        findings = run_backup("check", "--json").json()["findings"]
        assert "same disk" not in {f["check"] for f in findings}
    finally:
        drive.rmdir()


def test_a_folder_an_earlier_init_named_after_a_remote_is_pointed_out(
    home: Path, sources: Path, work: Path, rclone_remotes: RcloneRemotes
) -> None:
    """What ``backup init --target webdav:Keepmark`` wrote before it knew remotes: a local
    target at ``<working dir>/webdav:Keepmark``. ``profile check`` no longer says only OK."""
    wrong = work / "webdav:Keepmark"
    write_profile(home, [sources], [{"name": "webdav-Keepmark", "type": "local", "path": str(wrong)}])
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 0, r
    [line] = [x for x in r.err.splitlines() if "named like the rclone remote" in x]
    assert "target webdav-Keepmark.path" in line and "'webdav'" in line
    assert 'write type = "rclone" and remote = "webdav:Keepmark"' in line
    write_profile(home, [sources], [{"name": "k", "type": "local", "path": str(work / "gdrive:Keepmark")}])
    assert "named like the rclone remote" not in run_backup("profile", "check", "-p", "lily").err
