"""The setup wizard's use cases (backup/app/setup), with real components: folders and real JPEGs
in a fake home, drive areas in temporary folders, targets tried for real (a folder, moto's S3
server, ``rclone serve webdav`` on 127.0.0.1), the AWS credentials file, and rclone remotes made
by the real rclone."""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from backup.app.setup import (
    list_folders,
    mounted_drives,
    new_rclone_remote,
    oauth_remote_steps,
    probe_target,
    save_s3_credentials,
    suggested_folders,
)
from backup.errors import UsageError
from backup.targets.local import MARKER
from tests.kit.media import jpeg, png
from tests.kit.rclone import RcloneRemotes
from tests.kit.s3 import FAKE_KEY, FAKE_SECRET, AwsFiles, S3Server

SMALL = (32, 24)


def one_line_error(exc: pytest.ExceptionInfo[UsageError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# -- folders ------------------------------------------------------------------------------------


@pytest.fixture
def fake_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    pictures = home / "Pictures"
    jpeg(pictures / "a.jpg", SMALL)
    jpeg(pictures / "b.JPG", SMALL, seed=2)
    (pictures / "notes.txt").write_text("not a photo")
    jpeg(pictures / "Trip" / "c.jpg", SMALL, seed=3)
    jpeg(pictures / "Trip" / "deep" / "d.jpg", SMALL, seed=4)  # a third level: not counted
    for n in range(3):
        jpeg(pictures / "Exports" / f"export-{n}.jpg", SMALL, seed=10 + n)
    jpeg(pictures / "Photos Library.photoslibrary" / "x.jpg", SMALL)  # an app's library
    jpeg(pictures / ".thumbs" / "t.jpg", SMALL)  # hidden
    (home / "Movies" / "DaVinci Resolve" / "CacheClip").mkdir(parents=True)  # an app, no media
    (home / "Movies" / "JianyingPro").mkdir()  # an export folder, empty yet
    png(home / "Desktop" / "shot.png")
    return home


def test_suggested_folders_are_the_ones_here_with_their_media_counted(fake_home: Path) -> None:
    found = suggested_folders(fake_home).as_dict()
    assert found["ok"] and found["home"] == str(fake_home)
    rows = {(f["key"], f["path"]): f for f in found["folders"]}
    pics = rows[("pictures", str(fake_home / "Pictures"))]
    # a.jpg, b.JPG, Trip/c.jpg and the three exports; not the deeper, hidden or library ones
    assert (pics["media"], pics["more"], pics["media_text"], pics["within"]) == (6, False, "6", None)
    exports = rows[("exports", str(fake_home / "Pictures" / "Exports"))]
    assert (exports["media"], exports["within"]) == (3, "pictures")
    assert rows[("desktop", str(fake_home / "Desktop"))]["media"] == 1
    assert rows[("movies", str(fake_home / "Movies"))]["media"] == 0
    assert rows[("app:jianying", str(fake_home / "Movies" / "JianyingPro"))]["within"] == "movies"
    keys = [f["key"] for f in found["folders"]]
    # no Videos, Downloads or OneDrive here; Resolve's folder holds no media; no app library
    assert not {"videos", "downloads", "onedrive:pictures", "app:davinci-resolve"} & set(keys)
    assert not any("photoslibrary" in f["path"] for f in found["folders"])


def test_counting_stops_at_1000(tmp_path: Path) -> None:
    pictures = tmp_path / "Pictures"
    pictures.mkdir()
    for n in range(1005):
        (pictures / f"IMG_{n:04}.jpg").touch()
    [row] = suggested_folders(tmp_path).as_dict()["folders"]
    assert (row["media"], row["more"], row["media_text"]) == (1000, True, "1000+")


def test_list_folders_lists_folders_only_sorted_with_links_marked(tmp_path: Path) -> None:
    top = tmp_path / "top"
    for name in ("b", "A", "c", ".hidden", "Lib.photoslibrary"):
        (top / name).mkdir(parents=True)
    (top / "file.txt").write_text("x")
    jpeg(top / "photo.jpg", SMALL)
    (top / "link").symlink_to(top / "A", target_is_directory=True)
    (top / "broken").symlink_to(top / "nowhere")
    (top / "file-link").symlink_to(top / "file.txt")
    listing = list_folders(str(top) + "/", home=tmp_path).as_dict()
    assert listing["path"] == str(top) and listing["parent"] == str(tmp_path)
    assert [f["name"] for f in listing["folders"]] == ["A", "b", "c", "Lib.photoslibrary", "link"]
    flags = {f["name"]: (f["link"], f["package"], f["path"]) for f in listing["folders"]}
    assert flags["link"] == (True, False, str(top / "link"))
    assert flags["A"] == (False, False, str(top / "A"))
    assert flags["Lib.photoslibrary"][1] is True
    roots = listing["roots"]
    assert roots[0] == {"path": str(tmp_path), "label": tmp_path.name, "kind": "home"}
    assert {"path": os.sep, "label": os.sep, "kind": "computer"} in roots
    assert list_folders(os.sep).as_dict()["parent"] is None
    assert list_folders(str(top / "b" / ".." / "c")).as_dict()["path"] == str(top / "c")


def test_list_folders_refuses_in_one_line_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    cases = {
        "Pictures": "a relative path",
        str(tmp_path / "missing"): "no such folder",
        str(tmp_path / "file.txt"): "is a file, not a folder",
        "": "empty",
    }
    for path, why in cases.items():
        with pytest.raises(UsageError) as caught:
            list_folders(path)
        text = one_line_error(caught)
        assert why in text and path in text


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_list_folders_names_a_folder_that_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root reads every folder: the system's refusal, stood in for
        real_scandir = os.scandir

        def refusing(path: Any) -> Any:
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", refusing)
    locked.chmod(0)
    try:
        with pytest.raises(UsageError) as caught:
            list_folders(str(locked))
        assert one_line_error(caught) == f"{locked}: cannot be read: Permission denied"
    finally:
        locked.chmod(0o755)


# -- drives -------------------------------------------------------------------------------------


def test_mounted_drives_are_the_mount_points_of_an_area_with_their_markers(tmp_path: Path) -> None:
    area = tmp_path / "Volumes"
    backup = area / "Backup"
    (backup / "Keepmark" / "lily").mkdir(parents=True)
    (backup / "Keepmark" / MARKER).write_text("{}")
    (backup / "Other").mkdir()
    (area / "Empty").mkdir()
    (area / "Stale").mkdir()  # a mount point whose drive went away
    (area / ".hidden").mkdir()
    (area / "Macintosh HD").symlink_to("/")  # the boot volume
    (area / "a-file").write_text("x")
    mounts = {backup, area / "Empty", area / ".hidden", area / "Macintosh HD", area / "a-file"}
    found = mounted_drives([area], is_mount=lambda p: p in mounts).as_dict()
    assert [d["label"] for d in found["drives"]] == ["Backup", "Empty"]
    drive, empty = found["drives"]
    assert drive["path"] == str(backup) and drive["keepmark"] is True
    assert drive["target_folders"] == [{"path": str(backup / "Keepmark"), "profiles": ["lily"]}]
    assert isinstance(drive["free"], int) and drive["total"] >= drive["free"] > 0
    assert empty["keepmark"] is False and empty["target_folders"] == []
    # the default rule asks the system: none of these folders is a mount point
    assert mounted_drives([area]).as_dict()["drives"] == []


def test_a_marker_on_the_drive_itself_counts(tmp_path: Path) -> None:
    drive = tmp_path / "media" / "USB"
    (drive / "lily").mkdir(parents=True)
    (drive / MARKER).write_text("{}")
    [row] = mounted_drives([tmp_path / "media"], is_mount=lambda p: True).as_dict()["drives"]
    assert row["target_folders"] == [{"path": str(drive), "profiles": ["lily"]}]


def test_real_mount_points_are_found_by_the_default_rule() -> None:
    root = Path(os.sep)
    expected = sorted(
        (
            p
            for p in root.iterdir()
            if not p.name.startswith(".") and not p.is_symlink() and os.path.ismount(p)
        ),
        key=lambda p: p.name.casefold(),
    )
    if not expected:
        pytest.skip("no mount points under /")
    assert [Path(d.path) for d in mounted_drives([root]).drives] == expected


# -- probing targets ----------------------------------------------------------------------------


def test_probe_a_folder_leaves_nothing_and_sees_the_sources_disk(home: Path, tmp_path: Path) -> None:
    shoots = tmp_path / "Shoots"
    shoots.mkdir()
    (tmp_path / "Backup").mkdir()
    spec = str(tmp_path / "Backup" / "Keepmark")  # not there yet: its folder is
    probe = probe_target(spec, sources=[shoots]).as_dict()
    assert probe["ok"] is True and probe["error"] is None
    assert probe["type"] == "local" and probe["name"] == "Keepmark" and "folder" in probe["where"]
    assert probe["same_disk_as_sources"] is True and probe["off_site"] is False
    assert probe["protection"] == "same disk"
    assert list((tmp_path / "Backup").iterdir()) == []  # the folder, marker and object are gone
    assert not (home / "profiles").exists()  # no profile made
    # a folder in use keeps what it has, its marker included
    used = tmp_path / "Used"
    (used / "lily").mkdir(parents=True)
    (used / MARKER).write_text("{}")
    probe = probe_target(str(used)).as_dict()
    assert probe["ok"] and probe["same_disk_as_sources"] is False and probe["protection"] is None
    assert sorted(p.name for p in used.iterdir()) == [MARKER, "lily"]
    # a folder inside a source is on its disk
    assert probe_target(str(shoots / "Backup"), sources=[shoots]).same_disk_as_sources is True


def test_probe_refuses_a_relative_path_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    probe = probe_target("Backups/Keepmark").as_dict()
    assert probe["ok"] is False and probe["type"] is None and probe["protection"] is None
    assert "Backups/Keepmark" in probe["error"] and "relative path" in probe["error"]
    assert "\n" not in probe["error"] and list(tmp_path.iterdir()) == []


def test_probe_a_folder_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    probe = probe_target(str(blocker)).as_dict()
    assert probe["ok"] is False and str(blocker) in probe["error"] and "\n" not in probe["error"]
    probe = probe_target(str(tmp_path / "no" / "such" / "place"))
    assert probe.ok is False and "does not exist" in (probe.error or "")
    checks = {
        "s3://Bad_Bucket": "target s3://Bad_Bucket: bucket: 'Bad_Bucket' is not a valid bucket name",
        "rclone::s3,access_key_id=AK:b": "remote: carries a credential in its connection string",
        "https://example.com/dav": "give a folder path, s3://bucket/prefix or rclone:remote:path",
    }
    for spec, message in checks.items():
        probe = probe_target(spec)
        assert probe.ok is False and probe.type is None and message in (probe.error or ""), probe
    assert "aws_profile is only for S3" in (probe_target(str(tmp_path), aws_profile="x").error or "")


def test_probe_s3_on_moto_and_credentials_saved_for_it(
    s3_server: S3Server, aws_env: AwsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_server.make_bucket()
    spec = f"s3://{bucket}/keepmark"
    probe = probe_target(spec, endpoint=s3_server.endpoint, region="us-east-1").as_dict()
    assert probe["ok"] is True, probe
    assert probe["where"] == f"S3 bucket {bucket} (folder keepmark) at endpoint {s3_server.endpoint}"
    assert probe["off_site"] is True and probe["protection"] == "off-site"
    assert s3_server.object_keys(bucket) == []
    # the keys only in a named section of the credentials file the environment names
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    saved = save_s3_credentials(FAKE_KEY, FAKE_SECRET, aws_profile="keepmark")
    assert saved.file == aws_env.credentials and saved.replaced is False
    probe = probe_target(spec, endpoint=s3_server.endpoint, aws_profile="keepmark").as_dict()
    assert probe["ok"] is True, probe
    missing = probe_target(f"s3://no-such-bucket-{bucket[-6:]}", endpoint=s3_server.endpoint)
    assert missing.ok is False and "s3://no-such-bucket" in (missing.error or "")
    assert "does not exist" in (missing.error or "") and "\n" not in (missing.error or "")


def test_probe_an_rclone_webdav_remote(rclone_remotes: RcloneRemotes) -> None:
    probe = probe_target("webdav:probed").as_dict()
    assert probe["ok"] is True, probe
    assert probe["where"] == "rclone remote webdav (type webdav), folder probed"
    assert probe["type"] == "rclone" and probe["off_site"] is True
    assert list((rclone_remotes.webdav_dir / "probed").iterdir()) == []


def test_probe_a_server_that_is_down(rclone_remotes: RcloneRemotes) -> None:
    start = time.monotonic()
    probe = probe_target("dead:Keepmark").as_dict()
    assert time.monotonic() - start < 30
    assert probe["ok"] is False and probe["where"] == "rclone remote dead, folder Keepmark"
    assert probe["error"].startswith("target dead:Keepmark: cannot be opened: ")
    assert "connection refused" in probe["error"] and "\n" not in probe["error"]


# -- AWS credentials ----------------------------------------------------------------------------


def test_credentials_go_in_a_new_private_file(tmp_path: Path) -> None:
    file = tmp_path / "aws" / "credentials"
    saved = save_s3_credentials(" AKIAEXAMPLE1234 ", "s3cr3t/+KEY", credentials_file=file)
    doc = saved.as_dict()
    assert doc == {
        "ok": True,
        "file": str(file),
        "aws_profile": "keepmark",
        "created": True,
        "replaced": False,
        "access_key_end": "1234",
    }
    assert "s3cr3t" not in repr(doc) and "s3cr3t" not in repr(saved)
    if os.name == "posix":
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    assert (
        file.read_text()
        == "[keepmark]\naws_access_key_id = AKIAEXAMPLE1234\naws_secret_access_key = s3cr3t/+KEY\n"
    )


EXISTING = """\
# my AWS keys, do not share
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret
region = us-east-1

; the old Keepmark keys
[keepmark]
# rotated in May
aws_access_key_id=AKIAOLD
aws_secret_access_key = old-secret
aws_session_token = old-token
  continued-token
output = json

[work]
aws_access_key_id = AKIAWORK
aws_secret_access_key = work-secret"""


def test_an_existing_file_keeps_everything_but_the_section_keys(tmp_path: Path) -> None:
    file = tmp_path / "credentials"
    file.write_text(EXISTING)
    file.chmod(0o644)
    saved = save_s3_credentials("AKIANEW", "new-secret", credentials_file=file)
    assert (saved.created, saved.replaced) == (False, True)
    expected = (
        EXISTING.replace("aws_access_key_id=AKIAOLD", "aws_access_key_id = AKIANEW")
        .replace("old-secret", "new-secret")
        .replace("aws_session_token = old-token\n  continued-token\n", "")
    )
    assert file.read_text() == expected
    if os.name == "posix":
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    # a new section is added at the end; the others stay, comments included
    save_s3_credentials("AKIATHIRD", "third-secret", aws_profile="studio", credentials_file=file)
    text = file.read_text()
    assert (
        text
        == expected + "\n\n[studio]\naws_access_key_id = AKIATHIRD\naws_secret_access_key = third-secret\n"
    )
    parsed = configparser.ConfigParser()
    parsed.read_string(text)
    assert {s: parsed[s]["aws_access_key_id"] for s in parsed.sections()} == {
        "default": "AKIADEFAULT",
        "keepmark": "AKIANEW",
        "work": "AKIAWORK",
        "studio": "AKIATHIRD",
    }
    assert "aws_session_token" not in parsed["keepmark"] and parsed["keepmark"]["output"] == "json"


def test_a_section_without_keys_gets_them_under_its_header(tmp_path: Path) -> None:
    file = tmp_path / "credentials"
    file.write_bytes(b"[keepmark]\r\nregion = auto\r\n")
    save_s3_credentials("AKIAX", "sx", credentials_file=file)
    assert file.read_bytes() == (
        b"[keepmark]\r\naws_access_key_id = AKIAX\r\naws_secret_access_key = sx\r\nregion = auto\r\n"
    )


def test_bad_keys_and_section_names_are_refused_naming_the_field(tmp_path: Path) -> None:
    file = tmp_path / "credentials"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"access_key": "", "secret_key": "s"}, "access_key: empty"),
        ({"access_key": "AK", "secret_key": "  "}, "secret_key: empty"),
        ({"access_key": "AK", "secret_key": "two\nlines"}, "secret_key: holds"),
        ({"access_key": "AK", "secret_key": "s", "aws_profile": "a]b"}, "aws_profile 'a]b'"),
        ({"access_key": "AK", "secret_key": "s", "aws_profile": "a\n[b"}, "aws_profile 'a\\n[b'"),
        ({"access_key": "AK", "secret_key": "s", "aws_profile": ""}, "aws_profile: empty"),
    ]
    for kwargs, message in cases:
        with pytest.raises(UsageError) as caught:
            save_s3_credentials(credentials_file=file, **kwargs)
        assert one_line_error(caught).startswith(message)
        assert "two" not in str(caught.value)
    assert not file.exists()


# -- rclone remotes -----------------------------------------------------------------------------


@pytest.fixture
def own_config(rclone_remotes: RcloneRemotes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An rclone config of this test's own, empty (the kit's servers keep running)."""
    config = tmp_path / "rclone" / "rclone.conf"
    monkeypatch.setenv("RCLONE_CONFIG", str(config))
    return config


def test_a_webdav_remote_made_here_is_probed_for_real(
    rclone_remotes: RcloneRemotes, own_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []
    real_popen = subprocess.Popen

    class Recorded(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, args: Any, *rest: Any, **kw: Any) -> None:
            commands.append([str(a) for a in args])
            super().__init__(args, *rest, **kw)

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    options = {
        "url": f"http://127.0.0.1:{rclone_remotes.webdav_port}/",
        "vendor": "rclone",
        "user": rclone_remotes.user,
        "pass": rclone_remotes.password,
    }
    made = new_rclone_remote("my nas", "webdav", options).as_dict()
    monkeypatch.setattr(subprocess, "Popen", real_popen)
    assert made == {
        "ok": True,
        "name": "my nas",
        "type": "webdav",
        "config_file": str(own_config),
        "target_spec": "my nas:Keepmark",
    }
    assert commands and not any(rclone_remotes.password in " ".join(c) for c in commands)
    text = own_config.read_text()
    assert "[my nas]" in text and rclone_remotes.password not in text  # obscured
    probe = probe_target("my nas:Keepmark").as_dict()
    assert probe["ok"] is True, probe
    assert probe["where"] == "rclone remote my nas (type webdav), folder Keepmark"
    assert list((rclone_remotes.webdav_dir / "Keepmark").iterdir()) == []
    with pytest.raises(UsageError, match=r"^name 'my nas': a remote with this name exists already"):
        new_rclone_remote("my nas", "webdav", options)


def test_sftp_and_s3_remotes_need_no_browser(own_config: Path) -> None:
    new_rclone_remote("box", "sftp", {"host": "127.0.0.1", "port": "2222", "user": "lily", "pass": "pw"})
    new_rclone_remote(
        "wasabi", "S3", {"provider": "Wasabi", "access_key_id": "AK", "secret_access_key": "SK"}
    )
    new_rclone_remote("chain", "s3", {})
    config = configparser.ConfigParser()
    config.read(own_config)
    assert config["box"]["type"] == "sftp" and config["box"]["pass"] != "pw"
    assert dict(config["wasabi"]) == {
        "type": "s3",
        "provider": "Wasabi",
        "access_key_id": "AK",
        "secret_access_key": "SK",
    }
    assert config["chain"]["env_auth"] == "true" and config["chain"]["provider"] == "Other"


def test_remotes_that_cannot_be_made_here_are_refused(own_config: Path) -> None:
    cases: list[tuple[str, str, dict[str, str], str]] = [
        ("gdrive", "drive", {}, "drive: Google Drive needs a sign-in in the browser"),
        ("box", "dropbox", {}, "dropbox: Dropbox needs"),
        ("x", "ftp", {}, "ftp: not a remote type that can be made here"),
        ("-bad", "webdav", {"url": "http://h/"}, "name '-bad': not an rclone remote name"),
        ("bad!", "webdav", {"url": "http://h/"}, "name 'bad!': not an rclone remote name"),
        ("d", "webdav", {"url": "http://h/"}, "name 'd': a single letter"),
        ("nas", "webdav", {}, "url: missing"),
        ("nas", "webdav", {"url": "ftp://h/"}, "url ftp://h/: not an http(s) URL"),
        ("nas", "webdav", {"url": "http://h/", "token": "t"}, "token: not an option of a webdav remote"),
        ("nas", "webdav", {"url": "http://h/", "user": "a\nb"}, "user: holds a line break"),
        ("nas", "sftp", {"host": "h", "port": "99999"}, "port 99999: not a port number"),
        ("nas", "s3", {"access_key_id": "AK"}, "secret_access_key: missing"),
    ]
    for name, kind, options, message in cases:
        with pytest.raises(UsageError) as caught:
            new_rclone_remote(name, kind, options)
        assert one_line_error(caught).startswith(message)
    with pytest.raises(UsageError) as caught:
        new_rclone_remote("gdrive", "drive", {})
    assert " config` in a terminal" in str(caught.value) and "OneDrive and Dropbox" in str(caught.value)
    assert not own_config.exists()


def test_oauth_steps_are_sentences_for_the_terminal() -> None:
    steps = oauth_remote_steps("drive")
    assert all(isinstance(s, str) and s.endswith(".") for s in steps[:1])
    assert any(s.endswith(" config") and "rclone" in s for s in steps)
    assert any("gdrive" in s for s in steps) and "gdrive:Keepmark" in steps[-1]
    assert any("client_id" in s for s in steps)
    onedrive = oauth_remote_steps("onedrive", name="work")
    assert "work:Keepmark" in onedrive[-1] and any("OneDrive Personal" in s for s in onedrive)
    assert "dropbox:Keepmark" in oauth_remote_steps("Dropbox")[-1]
    with pytest.raises(UsageError, match=r"^webdav: not a type that needs a browser sign-in"):
        oauth_remote_steps("webdav")
