"""Account profiles: init, finding them, list/show/check, and every validation error."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from backup.profile.load import read_toml
from backup.profile.validate import parse
from tests.conftest import REPO, run_backup

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def write(home: Path, name: str, text: str) -> Path:
    path = home / "profiles" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def valid(sources: Path, extra: str = "") -> str:
    return f"""
[account]
name = "Lily Chen"
handle = "lily.shoots"

[sources]
folders = ["{sources.as_posix()}"]
{extra}
"""


def test_init_writes_a_valid_profile_with_all_target_kinds(home: Path, sources: Path, tmp_path: Path) -> None:
    drive = tmp_path / "Backup Drive"
    (sources / "Important").mkdir()
    r = run_backup(
        "init", "lily", "--account", "Lily Chen", "--handle", "@lily.shoots", "--source", str(sources),
        "--target", str(drive), "--target", "s3://lily-backups/keepmark/photos", "--target", "rclone:gdrive:Keepmark",
        "--important", str(sources / "Important"), "--ignore", "*.lrcat-wal", "--json",
    )  # fmt: skip
    assert r.code == 0, r
    path = home / "profiles" / "lily.toml"
    assert r.json()["file"] == str(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["account"] == {"name": "Lily Chen", "handle": "lily.shoots"}
    assert data["sources"]["folders"] == [str(sources)]
    assert data["sources"]["important"] == [str(sources / "Important")]
    assert data["sources"]["ignore"] == ["*.lrcat-wal"]
    assert [t["type"] for t in data["targets"]] == ["local", "s3", "rclone"]
    assert data["targets"][0]["path"] == str(drive)
    assert (
        data["targets"][1]["bucket"] == "lily-backups" and data["targets"][1]["prefix"] == "keepmark/photos"
    )
    assert data["targets"][2]["remote"] == "gdrive:Keepmark"
    assert len({t["name"] for t in data["targets"]}) == 3
    assert "schedule" in data and "retention" in data and "watermark" in data
    check = run_backup("profile", "check", "-p", "lily")
    assert check.code == 0, check


def test_init_refuses_to_overwrite_and_bad_names(home: Path, sources: Path) -> None:
    args = ("--account", "A", "--handle", "a", "--source", str(sources))
    assert run_backup("init", "lily", *args).code == 0
    before = (home / "profiles" / "lily.toml").read_text()
    r = run_backup("init", "lily", *args[:-1], str(sources), "--account", "B")
    assert r.code == 2 and "already exists" in r.err
    assert (home / "profiles" / "lily.toml").read_text() == before
    assert run_backup("init", "lily", "--force", *args).code == 0
    r = run_backup("init", "../evil", *args)
    assert r.code == 2 and "not a usable profile name" in r.err
    r = run_backup("init", "x", "--account", "A", "--handle", "a", "--source", str(sources / "nope"))
    assert r.code == 2 and "no such folder" in r.err
    assert not (home / "profiles" / "x.toml").exists()
    r = run_backup("init", "y", *args, "--target", "ftp://example.org/x")
    assert r.code == 2 and "--target" in r.err


def test_init_with_chinese_and_emoji_account(home: Path, sources: Path) -> None:
    r = run_backup("init", "mei", "--account", "林美 🌸", "--handle", "林美的相机", "--source", str(sources))
    assert r.code == 0, r
    shown = run_backup("profile", "show", "-p", "mei", "--json").json()
    assert shown["settings"]["account"] == {"name": "林美 🌸", "handle": "林美的相机", "language": "en"}


def test_profile_found_by_name_path_cwd_and_single(home: Path, sources: Path, tmp_path: Path) -> None:
    write(home, "lily", valid(sources))
    # Single profile: --profile may be left out.
    assert run_backup("profile", "show", "--json").json()["profile"] == "lily"
    # By path, anywhere.
    elsewhere = tmp_path / "work" / "studio.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(valid(sources))
    r = run_backup("profile", "show", "-p", str(elsewhere), "--json")
    assert r.code == 0 and r.json()["profile"] == "studio"
    # By name in ./profiles when not in $KEEPMARK_HOME/profiles.
    (tmp_path / "work" / "profiles").mkdir()
    (tmp_path / "work" / "profiles" / "local.toml").write_text(valid(sources))
    r = run_backup("profile", "show", "-p", "local", "--json", cwd=tmp_path / "work")
    assert r.code == 0 and r.json()["file"] == str(tmp_path / "work" / "profiles" / "local.toml")
    # $KEEPMARK_HOME wins over ./profiles.
    (tmp_path / "work" / "profiles" / "lily.toml").write_text(valid(sources).replace("Lily Chen", "Impostor"))
    r = run_backup("profile", "show", "-p", "lily", "--json", cwd=tmp_path / "work")
    assert r.json()["settings"]["account"]["name"] == "Lily Chen"
    r = run_backup("profile", "show", "-p", "nobody")
    assert r.code == 2 and "no profile named 'nobody'" in r.err


def test_profile_list_and_show(home: Path, sources: Path) -> None:
    write(home, "lily", valid(sources))
    write(home, "broken", "[account\n")
    r = run_backup("profile", "list", "--json")
    assert r.code == 0
    rows = {p["name"]: p for p in r.json()["profiles"]}
    assert rows["lily"]["valid"] and rows["lily"]["handle"] == "lily.shoots"
    assert not rows["broken"]["valid"]
    text = run_backup("profile", "list", "-p", "lily")
    assert "* lily" in text.out
    show = run_backup("profile", "show", "-p", "lily", "--json").json()
    assert show["settings"]["watermark"]["opacity"] == 0.4
    assert show["settings"]["schedule"] == {
        "incremental": "weekly sun 03:00",
        "full": "monthly 1 04:00",
        "on_battery": True,
        "read_back_cycle": 12,
    }
    assert show["settings"]["watch"] == {
        "settle_seconds": 1.0,
        "polling": False,
        "poll_interval": 10.0,
        "notify": True,
        "decode_wait_seconds": 300.0,
    }
    assert show["settings"]["retention"] == {"weekly": 8, "monthly": 12}
    assert show["inventory"] == str(home / "state" / "lily" / "inventory.sqlite")


CASES = [
    # (profile text appended/altered, key named, words in the message or fix)
    ("[sources]\nfolders = []\nignor = ['*.tmp']", "sources.ignor", "did you mean 'ignore'"),
    ("[watermark]\nopacity = 1.5", "watermark.opacity", "from 0 (invisible) to 1.0"),
    ("[watermark]\nopacity = -0.01", "watermark.opacity", "0.3-0.5 is recommended"),
    ("[watermark]\nopacity = 'strong'", "watermark.opacity", "must be a number"),
    ("[watermark]\nposition = 'bottom-rigth'", "watermark.position", "did you mean 'bottom-right'"),
    ("[watermark]\ntxt = 'x'", "watermark.txt", "did you mean 'text'"),
    ("[watermark]\ntext = '© {nmae}'", "watermark.text", "{handle}"),
    ("[retention]\nweekly = 'four'", "retention.weekly", "whole number"),
    ("[retention]\nweekly = -1", "retention.weekly", "out of range"),
    ("[schedule]\nincremental = 'sometimes'", "schedule.incremental", "weekly sun 03:00"),
    ("[schedule]\nfull = 'monthly 31 04:00'", "schedule.full", "1 to 28"),
    ("[schedule]\non_battery = 'no'", "schedule.on_battery", "true or false"),
    ("[schedule]\nread_back_cycle = -1", "schedule.read_back_cycle", "out of range"),
    ("[schedule]\nread_back_cycle = 'yearly'", "schedule.read_back_cycle", "whole number"),
    ("[watch]\nsettle_seconds = 0", "watch.settle_seconds", "out of range"),
    ("[watch]\npoling = true", "watch.poling", "did you mean 'polling'"),
    ("[watch]\npoll_interval = 'often'", "watch.poll_interval", "must be a number"),
    ("[watch]\nnotify = 1", "watch.notify", "true or false"),
    (
        "[[targets]]\nname = 'cloud'\ntype = 's3'\nbucket = 'b-1'\naws_secret_access_key = 'abc'",
        "targets[1].aws_secret_access_key",
        "credential chain",
    ),
    (
        "[[targets]]\nname = 'cloud'\ntype = 's3'\nbucket = 'b-1'\naws_access_key_id = 'AKIA'",
        "targets[1].aws_access_key_id",
        "credential",
    ),
    (
        "[[targets]]\nname = 'gd'\ntype = 'rclone'\nremote = 'gd:x'\npassword = 'hunter2'",
        "targets[1].password",
        "rclone.conf",
    ),
    (
        "[[targets]]\nname = 'cloud'\ntype = 's3'\nbucket = 'b-1'\nendpoint_url = 'https://key:secret@s3.example.com'",
        "targets[1].endpoint_url",
        "credential",
    ),
    ("[[targets]]\nname = 'x'\ntype = 'ftp'", "targets[1].type", "local, s3, rclone"),
    ("[[targets]]\nname = 'x'\ntype = 'local'", "targets[1].path", "missing"),
    (
        "[[targets]]\nname = 'x'\ntype = 'local'\npath = '/mnt/x'\nbucket = 'b-1'",
        "targets[1].bucket",
        "s3 targets",
    ),
    ("[[targets]]\nname = 'x'\ntype = 's3'\nbucket = 'Not_Valid'", "targets[1].bucket", "bucket name"),
    (
        "[[targets]]\nname = 'x'\ntype = 's3'\nbucket = 'b-1'\nstorage_class = 'GLACIER_IRR'",
        "targets[1].storage_class",
        "GLACIER_IR",
    ),
    (
        "[[targets]]\nname = 'x'\ntype = 's3'\nbucket = 'b-1'\nobject_lock_days = 'thirty'",
        "targets[1].object_lock_days",
        "whole number",
    ),
    (
        "[[targets]]\nname = 'x'\ntype = 'rclone'\nremote = 'no-colon'",
        "targets[1].remote",
        "remote-name:folder",
    ),
    (
        "[[targets]]\nname = 'a'\ntype = 'local'\npath = '/x'\n[[targets]]\nname = 'a'\ntype = 'local'\npath = '/y'",
        "targets",
        "more than one target",
    ),
    ("[sauces]\nfolders = []", "sauces", "did you mean 'sources'"),
    ("[account]\nfolders = ['x']", "account.folders", "[sources]"),
]


@pytest.mark.parametrize(("extra", "key", "words"), CASES, ids=[c[1] + ":" + c[2][:12] for c in CASES])
def test_check_names_file_key_and_fix(home: Path, sources: Path, extra: str, key: str, words: str) -> None:
    text = valid(sources)
    if extra.startswith("[sources]"):
        text = text.replace("[sources]\n", "[sources]\n" + extra.split("\n", 2)[2] + "\n")
    elif extra.startswith("[account]"):
        text = text.replace("[account]\n", "[account]\n" + extra.split("\n", 1)[1] + "\n")
    else:
        text += "\n" + extra + "\n"
    path = write(home, "lily", text)
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 2, r
    lines = [line for line in r.err.splitlines() if key + ":" in line]
    assert lines, f"no error names {key}: {r.err}"
    assert str(path) in lines[0]
    assert words in r.err
    doc = run_backup("profile", "check", "-p", "lily", "--json").json()
    assert doc["ok"] is False and any(p["key"] == key for p in doc["problems"])
    # Every other command refuses the broken profile too, with exit 2.
    assert run_backup("inventory", "list", "-p", "lily").code == 2


def test_check_finds_missing_source_folder_and_output_inside_sources(
    home: Path, sources: Path, tmp_path: Path
) -> None:
    write(home, "lily", valid(tmp_path / "gone"))
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 2 and "sources.folders" in r.err and "does not exist" in r.err
    write(home, "lily", valid(sources, f'[watermark]\noutput = "{(sources / "stamped").as_posix()}"'))
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 2 and "watermark.output" in r.err


def test_check_reports_every_problem_at_once(home: Path, sources: Path) -> None:
    write(home, "lily", valid(sources, "[watermark]\nopacity = 3\nposition = 'middle'\nsize = 'big'\n"))
    r = run_backup("profile", "check", "-p", "lily", "--json")
    keys = {p["key"] for p in r.json()["problems"]}
    assert {"watermark.opacity", "watermark.position", "watermark.size"} <= keys


def test_syntax_error_names_the_line(home: Path) -> None:
    write(home, "lily", "[account]\nname = = 'x'\nhandle = 'y'\n")
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 2 and "line 2" in r.err and "lily.toml" in r.err


def test_relative_paths_resolve_against_the_profile_file(tmp_path: Path) -> None:
    (tmp_path / "Shoots").mkdir()
    path = tmp_path / "p.toml"
    path.write_text("[account]\nname='A'\nhandle='a'\n[sources]\nfolders=['Shoots', '~/Pictures']\n")
    prof, problems = parse(read_toml(path), path, "p")
    assert not problems and prof is not None
    assert prof.sources.folders[0] == tmp_path / "Shoots"
    assert prof.sources.folders[1] == Path(os.path.expanduser("~/Pictures"))


def test_shipped_example_profile_is_valid_and_has_no_secrets() -> None:
    path = REPO / "profiles" / "example.toml"
    prof, problems = parse(read_toml(path), path, "example")
    assert problems == [] and prof is not None
    assert {t.type for t in prof.targets} == {"local", "s3", "rclone"}
    text = path.read_text(encoding="utf-8").lower()
    assert "aws_secret_access_key =" not in text and "password =" not in text


def test_literal_braces_handle_and_rclone_connection_strings(home: Path, sources: Path) -> None:
    write(home, "lily", valid(sources, "[watermark]\ntext = '{{brand}} © {name}'"))
    assert run_backup("profile", "check", "-p", "lily").code == 0
    text = valid(sources).replace('handle = "lily.shoots"', 'handle = "@"')
    write(home, "lily", text)
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 2 and "account.handle" in r.err
    write(
        home,
        "lily",
        valid(
            sources,
            "[[targets]]\nname = 'x'\ntype = 'rclone'\nremote = ':s3,provider=AWS,secret_access_key=abc:bucket/x'",
        ),
    )
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 2 and "targets[1].remote" in r.err and "credential" in r.err
    write(home, "lily", valid(sources, "[schedule]\nincremental = 'weekly sun 3:5'"))
    assert run_backup("profile", "check", "-p", "lily").code == 2


def test_overlapping_sources_are_found_through_dot_dot(home: Path, sources: Path) -> None:
    (sources / "sub").mkdir()
    text = valid(sources).replace(
        f'folders = ["{sources.as_posix()}"]',
        f'folders = ["{sources.as_posix()}", "{sources.as_posix()}/sub/../sub"]',
    )
    write(home, "lily", text)
    r = run_backup("profile", "check", "-p", "lily")
    assert r.code == 2 and "overlap" in r.err
