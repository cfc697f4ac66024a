"""The library: the inventory's photos and videos, newest first, filtered and scrolled a page at
a time (each page read from the index, never every row), over the use case, the API and a real
browser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from backup.app.library import library
from backup.errors import UsageError
from backup.profile.load import load
from tests.backupkit import write_profile
from tests.kit.hashing import file_sha256
from tests.kit.media import jpeg, video


@pytest.fixture
def shelf(home: Path, tmp_path: Path, cli: Any) -> dict[str, Path]:
    """Twelve photos taken on different days of two months (one stamped below), a video, and a
    text file, in two source folders."""
    shoots, exports = tmp_path / "Shoots", tmp_path / "Exports"
    files = {}
    for i in range(12):
        month = 5 if i < 7 else 6
        files[f"p{i}"] = jpeg(
            shoots / f"IMG_{i:03d}.jpg", (320, 240), seed=i, taken=f"2026:{month:02d}:{i + 1:02d} 10:00:00"
        )
    files["v"] = video(exports / "clip.mp4", seconds=1.0)
    (exports / "caption.txt").write_text("words")
    write_profile(home, [shoots, exports], [])
    assert cli("inventory", "scan", "-p", "lily").code == 0
    return files


def test_newest_first_filtered_and_scrolled_to_the_end(shelf: dict[str, Path]) -> None:
    profile = load("lily")
    first = library(profile, limit=5, total=True)
    assert first.total == 13 and first.more and len(first.items) == 5
    photos = [i for i in first.items if i["kind"] == "image"]
    assert [p["path"] for p in photos[:2]] == [str(shelf["p11"]), str(shelf["p10"])]  # newest taken first
    seen, page = [i["sha256"] for i in first.items], first
    while page.more:
        page = library(profile, limit=5, after=page.as_dict()["next"])
        seen += [i["sha256"] for i in page.items]
    assert len(seen) == len(set(seen)) == 13  # every one once, text files never
    assert {i["kind"] for i in library(profile, kind="video").items} == {"video"}
    may = library(profile, month="2026-05", total=True)
    assert may.total == 7 and all(i["capture_time"].startswith("2026-05") for i in may.items)
    named = library(profile, name="img_01", total=True)  # any case, within the file's path
    assert {Path(i["path"]).name for i in named.items} == {"IMG_010.jpg", "IMG_011.jpg"}
    exports = str(shelf["v"].parent)
    assert [i["path"] for i in library(profile, source=exports).items] == [str(shelf["v"])]
    assert library(profile, stamped=True).items == []
    for bad in (
        {"month": "2026-13"},
        {"kind": "text"},
        {"limit": 0},
        {"source": "/elsewhere"},
        {"after": "x|y"},
    ):
        with pytest.raises(UsageError):
            library(profile, **bad)


@pytest.mark.slow
def test_the_library_page_in_a_browser(shelf: dict[str, Path], home: Path) -> None:
    from playwright.sync_api import expect

    from tests.browserkit import chromium, shot, ui_server

    with chromium() as browser, ui_server(home) as ui:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(30_000)
        page.goto(ui.url)
        page.get_by_role("link", name="Library").click()
        grid = page.get_by_role("list", name="Photos and videos")
        expect(grid.get_by_role("listitem")).to_have_count(13)
        first = grid.get_by_role("img").first
        expect(first).to_have_attribute("alt", "IMG_011.jpg")
        page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        shot(page, "library")
        page.get_by_label("File name").fill("IMG_00")
        page.get_by_label("Kind").select_option("image")
        page.get_by_role("button", name="Show").click()
        expect(grid.get_by_role("listitem")).to_have_count(10)
        assert "name=IMG_00" in page.url
        page.get_by_label("Kind").select_option("video")
        page.get_by_label("File name").fill("")
        page.get_by_role("button", name="Show").click()
        expect(grid.get_by_role("img")).to_have_attribute("alt", "clip.mp4")
        src = grid.get_by_role("img").get_attribute("src") or ""
        assert file_sha256(shelf["v"]) in src
        page.context.close()
    assert os.path.isdir(home / "state" / "lily" / "thumbs")  # made on demand, kept in the state folder


@pytest.mark.slow
def test_the_library_api(shelf: dict[str, Path], home: Path) -> None:
    from tests.webkit import running_ui

    with running_ui(home) as ui:
        doc = ui.bearer("/api/library?limit=4&total=1").json()
        assert doc["total"] == 13 and doc["count"] == 4 and doc["more"] and doc["next"]
        rest = ui.bearer(f"/api/library?limit=20&after={quote(doc['next'])}").json()
        assert rest["count"] == 9 and not rest["more"] and rest["next"] is None
        assert {i["sha256"] for i in doc["items"]} & {i["sha256"] for i in rest["items"]} == set()
        videos = ui.bearer("/api/library?kind=video").json()
        assert [i["sha256"] for i in videos["items"]] == [file_sha256(shelf["v"])]
        assert ui.bearer("/api/library?stamped=yes").json()["items"] == []
        for bad in ("kind=text", "month=26-5", "limit=1000", "stamped=maybe", "source=%2Fetc"):
            answer = ui.bearer(f"/api/library?{bad}")
            assert answer.status == 400 and answer.json()["ok"] is False, bad
