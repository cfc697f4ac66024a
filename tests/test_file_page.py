"""A file's page: everything known of one photo or video (its hashes, when it was first recorded
and how that is proven, its ledger entries, stamped copies, publications, where it is on each
target and in which snapshots), "show in folder", the video itself; and the library's filters
"on every target" and "published". Over the use case, the API and a real browser."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from backup.app.library import library
from backup.app.picture import picture, reveal_command
from backup.app.publish import add
from backup.app.status import status
from backup.errors import NothingFound, UsageError
from backup.humanize import when
from backup.profile.load import load
from tests.backupkit import write_profile
from tests.kit.hashing import file_sha256
from tests.kit.media import jpeg, video


@pytest.fixture
def studio(home: Path, tmp_path: Path, cli: Any) -> dict[str, Path]:
    """Four photos and a video recorded, stamped and backed up to a drive (one photo published);
    then a fifth photo recorded but not yet backed up."""
    shoots = tmp_path / "Shoots"
    files = {f"p{i}": jpeg(shoots / "May" / f"IMG_{i:03d}.jpg", (480, 320), seed=i) for i in range(4)}
    files["v"] = video(shoots / "clips" / "clip.mp4", seconds=1.0)
    drive = tmp_path / "drive"
    write_profile(home, [shoots], [{"name": "drive", "type": "local", "path": str(drive)}])
    assert cli("stamp", "-p", "lily").code == 0
    assert cli("full", "-p", "lily").code == 0
    files["new"] = jpeg(shoots / "May" / "IMG_NEW.jpg", (480, 320), seed=9)
    assert cli("inventory", "scan", "-p", "lily").code == 0
    files["drive"] = drive
    return files


def test_everything_known_of_one_photo(studio: dict[str, Path]) -> None:
    profile = load("lily")
    sha = file_sha256(studio["p1"])
    add(profile, sha, platform="Xiaohongshu", url="https://www.xiaohongshu.com/explore/1", when="2026-05-20")
    doc = picture(profile, sha).as_dict()
    assert doc["sha256"] == sha and doc["kind"] == "image" and doc["phash"] and doc["dhash"]
    assert doc["present"] == [str(studio["p1"])]
    first = doc["first_recorded"]
    recorded = next(e for e in doc["ledger"] if e["type"] == "original")
    assert first["seq"] == recorded["seq"] and first["time"] == recorded["time"]
    assert first["signed"] is not None and first["signed"]["entries"] >= first["seq"]
    assert first["timestamp"] is None  # this profile names no timestamp authority
    assert [d["path"] for d in doc["derivatives"]] and all(
        Path(d["path"]).is_file() for d in doc["derivatives"]
    )
    assert [(p["platform"], p["url"], p["date"]) for p in doc["publications"]] == [
        ("Xiaohongshu", "https://www.xiaohongshu.com/explore/1", "2026-05-20")
    ]
    [drive] = doc["targets"]
    assert drive["name"] == "drive" and drive["kind"] == "local"
    [copy] = drive["copies"]
    assert copy == {
        "key": "originals/Shoots/May/IMG_001.jpg",
        "kind": "original",
        "path": "Shoots/May/IMG_001.jpg",
    }
    assert (studio["drive"] / "lily" / copy["key"]).read_bytes() == studio["p1"].read_bytes()
    [snap] = drive["snapshots"]
    assert (
        snap["path"] == "Shoots/May/IMG_001.jpg"
        and snap["kind"] == "full"
        and (studio["drive"] / "lily" / "snapshots" / f"{snap['id']}.json").is_file()
    )

    new = picture(profile, file_sha256(studio["new"])).as_dict()  # recorded after the backup
    assert new["targets"][0]["copies"] == [] and new["targets"][0]["snapshots"] == []
    with pytest.raises(NothingFound):
        picture(profile, "0" * 64)
    with pytest.raises(UsageError):
        picture(profile, "../../etc/passwd")


def test_the_library_filters_on_every_target_and_published(studio: dict[str, Path]) -> None:
    profile = load("lily")
    published = file_sha256(studio["p2"])
    add(profile, published, platform="Instagram", url="https://instagram.com/p/abc")
    everything = {i["sha256"] for i in library(profile).items}
    assert len(everything) == 6
    on_every = library(profile, backed_up=True, total=True)
    assert on_every.total == 5 and file_sha256(studio["new"]) not in {i["sha256"] for i in on_every.items}
    assert [i["sha256"] for i in library(profile, backed_up=False).items] == [file_sha256(studio["new"])]
    assert [i["sha256"] for i in library(profile, published=True).items] == [published]
    assert published not in {i["sha256"] for i in library(profile, published=False).items}
    assert library(profile, published=False, total=True).total == 5
    assert library(profile, published=True, backed_up=False).items == []


def test_held_in_a_snapshot_only_while_a_file_held_it(studio: dict[str, Path], cli: Any) -> None:
    """A photo edited after a backup: its first content is in the first snapshot only (kept as an
    earlier version on the drive), its new content in the second only."""
    before = file_sha256(studio["p3"])
    jpeg(studio["p3"], (480, 320), seed=33)
    os.utime(studio["p3"], (1_900_000_000, 1_900_000_000))
    assert cli("full", "-p", "lily").code == 0
    profile = load("lily")
    old, new = picture(profile, before).as_dict(), picture(profile, file_sha256(studio["p3"])).as_dict()
    [first_snap] = old["targets"][0]["snapshots"]
    [second_snap] = new["targets"][0]["snapshots"]
    assert first_snap["time"] < second_snap["time"]
    assert first_snap["path"] == second_snap["path"] == "Shoots/May/IMG_003.jpg"
    assert old["present"] == [] and new["present"] == [str(studio["p3"])]


def test_show_in_folder_commands() -> None:
    assert reveal_command("/Users/lily/Shoots/a.jpg", "darwin") == ["open", "-R", "/Users/lily/Shoots/a.jpg"]
    assert reveal_command(r"C:\Shoots\a.jpg", "win32") == ["explorer", r"/select,C:\Shoots\a.jpg"]
    assert reveal_command("/home/lily/Shoots/a.jpg", "linux") == ["xdg-open", "/home/lily/Shoots"]


def fake_file_manager(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An ``xdg-open`` first on PATH that writes what it was asked to open (the desktop's file
    manager, as the app calls it on Linux)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    said = tmp_path / "opened.txt"
    tool = bin_dir / "xdg-open"
    tool.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{said}"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, said


def wait_for(path: Path) -> str:
    import time

    for _ in range(600):
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} was never written")


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix" or os.uname().sysname != "Linux", reason="xdg-open is Linux's")
def test_the_file_api(studio: dict[str, Path], home: Path, tmp_path: Path) -> None:
    from tests.webkit import running_ui

    env, opened = fake_file_manager(tmp_path)
    sha, clip = file_sha256(studio["p0"]), file_sha256(studio["v"])
    with running_ui(home, env=env) as ui:
        doc = ui.bearer(f"/api/library/{sha}").json()
        assert doc["sha256"] == sha and doc["targets"][0]["copies"][0]["kind"] == "original"
        body = '{"platform": "Weibo", "url": "https://weibo.com/1/2", "date": "2026-06-01"}'
        added = ui.bearer(
            f"/api/library/{sha}/publications",
            "POST",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        assert added.status == 200 and added.json()["entry"]["data"]["platform"] == "Weibo"
        assert [p["url"] for p in ui.bearer(f"/api/library/{sha}").json()["publications"]] == [
            "https://weibo.com/1/2"
        ]
        bad = ui.bearer(
            f"/api/library/{sha}/publications", "POST", body='{"platform": "Weibo", "url": "weibo"}'
        )
        assert bad.status == 400 and "web address" in bad.json()["error"]

        played = ui.bearer(f"/api/originals/{clip}", headers={"Range": "bytes=0-99"})
        assert played.status == 206 and played.body == studio["v"].read_bytes()[:100]
        assert played.header("content-type") == "video/mp4"

        shown = ui.bearer(f"/api/library/{sha}/reveal", "POST", body="")
        assert shown.status == 200 and shown.json()["path"] == str(studio["p0"])
        assert wait_for(opened).splitlines() == [str(studio["p0"].parent)]

        assert ui.bearer("/api/library/" + "0" * 64).status == 404
        assert ui.bearer("/api/originals/..%2F..%2Fetc%2Fpasswd").status in (400, 404)
        assert ui.bearer("/api/library/xyz").status == 400
        assert ui.request("POST", f"/api/library/{sha}/reveal").status == 401  # no session, no token


@pytest.mark.slow
def test_the_file_page_and_the_library_filters_in_a_browser(
    studio: dict[str, Path], home: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from tests.browserkit import chromium, shot, ui_server

    env, opened = fake_file_manager(tmp_path)
    with chromium() as browser, ui_server(home, env=env) as ui:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(ui.url)
        # the overview's targets: the full backup read its copies back, and says when
        row = page.get_by_role("region", name="Targets").get_by_role("row").nth(1)
        read_back = status(load("lily")).as_dict()["targets"][0]["last_read_back"]["when"]
        expect(row.get_by_role("cell").nth(3)).to_have_text(when(read_back))
        page.get_by_role("navigation", name="Pages").get_by_role("link", name="Library").click()
        grid = page.get_by_role("list", name="Photos and videos")
        expect(grid.get_by_role("listitem")).to_have_count(6)

        page.get_by_label("On every target").select_option("no")
        page.get_by_role("button", name="Show").click()
        expect(grid.get_by_role("img")).to_have_attribute("alt", "IMG_NEW.jpg")
        page.get_by_label("On every target").select_option("")
        page.get_by_label("File name").fill("img_00")
        page.get_by_role("button", name="Show").click()
        expect(grid.get_by_role("listitem")).to_have_count(4)

        grid.get_by_role("link", name="IMG_001.jpg").click()
        expect(page.get_by_role("heading", name="IMG_001.jpg", level=1)).to_be_visible()
        sha = file_sha256(studio["p1"])
        expect(page.get_by_text(sha)).to_be_visible()
        expect(page.get_by_role("img", name="IMG_001.jpg")).to_be_visible()
        page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        restore = page.get_by_role("link", name="Restore this version to…")
        href = restore.get_attribute("href") or ""
        where = urlsplit(href)
        assert where.path.startswith("/backups/drive/") and where.path.endswith("-full-" + where.path[-4:])
        asked = parse_qs(where.query)
        assert asked["select"] == ["Shoots/May/IMG_001.jpg"] and asked["path"] == ["Shoots/May"]
        restore.click()  # the snapshot's folder, this file chosen for restoring
        expect(page.get_by_role("checkbox", name="Restore IMG_001.jpg")).to_be_checked()
        expect(page.get_by_role("checkbox", name="Restore IMG_002.jpg")).not_to_be_checked()
        page.go_back()

        page.get_by_label("Platform").fill("Xiaohongshu")
        page.get_by_label("Link").fill("https://www.xiaohongshu.com/explore/42")
        page.get_by_label("Date").fill("2026-05-21")
        page.get_by_role("button", name="Add a publication").click()
        expect(page.get_by_role("status")).to_have_text("Publication recorded and signed.")
        expect(page.get_by_role("link", name="https://www.xiaohongshu.com/explore/42")).to_be_visible()
        shot(page, "file")
        published = library(load("lily"), published=True).items
        assert [i["sha256"] for i in published] == [sha]

        page.get_by_role("button", name="Show in folder").click()
        expect(page.get_by_role("status")).to_have_text("Opened in the file manager.")
        assert wait_for(opened).splitlines() == [str(studio["p1"].parent)]

        page.get_by_role("navigation", name="Pages").get_by_role("link", name="Library").click()
        page.get_by_label("Published").select_option("yes")
        page.get_by_role("button", name="Show").click()
        expect(grid.get_by_role("listitem")).to_have_count(1)

        # a phone: nothing wider than the screen, the filters and the links reachable
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{ui.base}/library")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for label in ("File name", "Kind", "Folder", "Month", "Stamped", "On every target", "Published"):
            page.get_by_label(label).scroll_into_view_if_needed()
            box = page.get_by_label(label).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, label
        grid.get_by_role("link").first.click()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_role("button", name="Add a publication").scroll_into_view_if_needed()
        expect(page.get_by_role("button", name="Add a publication")).to_be_in_viewport()

        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_label("Language").select_option("zh-CN")
        expect(page.get_by_role("heading", name="所有权证明")).to_be_visible()
        expect(page.get_by_role("heading", name="drive 文件夹或硬盘")).to_be_visible()  # the type in Chinese
        shot(page, "file-zh")

        clip = file_sha256(studio["v"])
        page.goto(f"{ui.base}/library/{clip}")
        video_el = page.locator("video")
        expect(video_el).to_have_attribute("src", f"/api/originals/{clip}?profile=lily")
        page.wait_for_function("() => document.querySelector('video').readyState >= 1")
        assert page.evaluate("document.querySelector('video').duration") == pytest.approx(1.0, abs=0.2)
        context.close()
