"""``backup ui`` in a real browser (the system's Chromium, driven by Playwright), end to end: a
real ``backup ui`` subprocess on a temporary Keepmark home, controls found by their role and label
as a person finds them, and each step checked by what it really did (the cookie the browser
holds, the files on the drive, the daemon's own log line arriving on the open page).

Screenshots of the dashboard, in both languages at desktop and phone widths, are written to
tests/screenshots/ for a person to look at."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from backup.humanize import when
from tests.backupkit import make_files, tree, write_profile
from tests.browserkit import chromium, shot, ui_server
from tests.conftest import run_backup
from tests.daemonkit import Watch, daemon_profile
from tests.kit.media import jpeg
from tests.webkit import Ui

if TYPE_CHECKING:  # Playwright itself is imported in the tests, once the fixture found it
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.slow

WAIT = 30_000  # ms: generous, for a loaded CI machine (no test asserts how long anything takes)
JOB_WAIT = 120_000  # ms: a backup run in the app


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def new_context(browser: Browser, locale: str = "en-US") -> BrowserContext:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT)
    return context


def open_app(browser: Browser, ui: Ui, locale: str = "en-US") -> Page:
    """A new browser context signed in with the printed URL, on the dashboard."""
    page = new_context(browser, locale).new_page()
    page.goto(ui.url)
    return page


def studio(home: Path, tmp_path: Path, count: int = 6) -> tuple[Path, dict[str, bytes]]:
    """Profile ``lily`` over a Shoots folder of ``count`` files, with a local drive target; the
    drive's folder for lily, and the files."""
    src = tmp_path / "Shoots"
    files = make_files(src, count)
    drive = tmp_path / "drive"
    drive.mkdir()
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(drive / "Keepmark")}])
    return drive / "Keepmark" / "lily", files


def choose(page: Page, label: str, option: str) -> None:
    """Choose ``option`` (its visible text) in the select labelled ``label``: the page sends its
    form (with its Origin, which the guard checks, and its CSRF field) and loads the answer."""
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_label(label, exact=True).select_option(label=option)
    response = sent.value
    assert response.status == 303, (response.status, response.url)


def test_the_link_signs_in_once_with_a_strict_httponly_cookie(
    browser: Browser, home: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    studio(home, tmp_path)
    with ui_server(home) as ui:
        assert ui.url.startswith(f"{ui.base}/?token=") and ui.pid == ui.proc.pid
        page = open_app(browser, ui)
        # the token leaves the address bar; the page is the dashboard
        expect(page).to_have_url(f"{ui.base}/")
        assert "token" not in page.url
        expect(page.get_by_role("heading", name=re.compile(r"^Health"))).to_be_visible()
        expect(page.get_by_role("heading", name="Lily Chen")).to_be_visible()
        [cookie] = [c for c in page.context.cookies() if c["name"] == "keepmark_session"]
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict", cookie
        assert cookie["domain"] == "127.0.0.1" and cookie["path"] == "/", cookie
        assert "keepmark_session" not in page.evaluate("document.cookie")  # no script can read it
        # the session holds across a reload (the token is no longer in the URL)
        page.reload()
        expect(page.get_by_role("heading", name=re.compile(r"^Health"))).to_be_visible()

        # the same link, opened again in another browser: the token was used up
        other = new_context(browser).new_page()
        response = other.goto(ui.url)
        assert response is not None and response.status == 401
        expect(other.get_by_role("heading", name="Open Keepmark with its link")).to_be_visible()
        shot(other, "locked")
        expect(other.get_by_role("heading", name=re.compile(r"^Health"))).to_have_count(0)
        assert not [c for c in other.context.cookies() if c["name"] == "keepmark_session"]
        # and its API answers nothing without a session
        api = other.request.get(f"{ui.base}/api/status")
        assert api.status == 401
        other.context.close()
        page.context.close()


def test_the_language_follows_the_browser_then_the_choice(
    browser: Browser, home: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    studio(home, tmp_path)
    with ui_server(home) as ui:
        page = open_app(browser, ui, locale="zh-CN")
        expect(page.get_by_role("heading", name=re.compile(r"^健康状况"))).to_be_visible()
        expect(page.get_by_role("heading", name="最近动态")).to_be_visible()
        expect(page.get_by_role("region", name="任务").get_by_role("button", name="立即校验")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.get_by_label("语言", exact=True)).to_have_value("zh-CN")

        choose(page, "语言", "English")
        expect(page.get_by_role("heading", name=re.compile(r"^Health"))).to_be_visible()
        expect(page.get_by_role("heading", name="Recent activity")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_label("Language", exact=True)).to_have_value("en")
        expect(page.get_by_text("健康状况")).to_have_count(0)

        # the choice sticks: across a reload, and in a new tab, though the browser asks for Chinese
        page.reload()
        expect(page.get_by_role("heading", name=re.compile(r"^Health"))).to_be_visible()
        tab = page.context.new_page()
        tab.goto(f"{ui.base}/")
        expect(tab.get_by_role("heading", name=re.compile(r"^Health"))).to_be_visible()

        # and back to Chinese
        choose(page, "Language", "简体中文")
        expect(page.get_by_role("heading", name=re.compile(r"^健康状况"))).to_be_visible()
        page.context.close()


def test_the_account_switcher_shows_the_other_profile(browser: Browser, home: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    src = tmp_path / "Shoots"
    src.mkdir()
    write_profile(home, [src], [])
    mei_src = tmp_path / "Mei"
    mei_src.mkdir()
    write_profile(home, [mei_src], [], name="mei", account={"name": "Mei Wong", "handle": "mei.makes"})
    with ui_server(home, profile="mei") as ui:  # -p: the page opens on that profile
        page = open_app(browser, ui)
        account = page.get_by_role("heading", level=1)
        expect(account).to_contain_text("Mei Wong")
        expect(page.get_by_label("Account", exact=True)).to_have_value("mei")

        choose(page, "Account", "lily")
        expect(account).to_contain_text("Lily Chen")
        expect(account).to_contain_text("lily.shoots")
        expect(page.get_by_label("Account", exact=True)).to_have_value("lily")
        page.reload()  # the session keeps the choice
        expect(account).to_contain_text("Lily Chen")

        choose(page, "Account", "mei")
        expect(account).to_contain_text("Mei Wong")
        page.context.close()


def test_back_up_now_puts_the_files_on_the_drive(browser: Browser, home: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    root, files = studio(home, tmp_path)
    with ui_server(home) as ui:
        page = open_app(browser, ui)
        drive_row = page.get_by_role("region", name="Targets").get_by_role("row", name=re.compile(r"^drive"))
        expect(drive_row.get_by_role("cell").nth(1)).to_have_text("none yet")

        page.get_by_role("region", name="Jobs").get_by_role("button", name="Back up now").click()
        job = page.locator("#jobs > li")
        expect(job).to_have_count(1)
        expect(job).to_have_attribute("data-state", "done", timeout=JOB_WAIT)
        expect(job).to_contain_text("Incremental · done")
        expect(job.get_by_role("progressbar")).to_have_attribute("value", "1")
        expect(job.locator(".error")).to_have_count(0)

        # really on the drive, byte for byte, with a snapshot
        assert tree(root / "originals" / "Shoots") == files
        [snapshot] = (root / "snapshots").glob("*.json")
        status = run_backup("status", "--json")
        assert status.code == 0, status
        [target] = status.json()["targets"]
        assert target["snapshot"] == snapshot.stem

        # the dashboard, reloaded, shows that snapshot for the drive, and the finished job
        page.reload()
        expect(drive_row.get_by_role("cell").nth(1)).to_have_text(when(target["snapshot_time"]))
        expect(page.locator("#jobs > li")).to_have_attribute("data-state", "done")
        page.context.close()


@pytest.mark.skipif(os.name == "nt", reason="the daemon's signals: POSIX")
def test_the_daemons_news_arrives_on_the_open_page(browser: Browser, home: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src])
    with ui_server(home) as ui:
        page = open_app(browser, ui)
        state = page.locator("#daemon-state")
        activity = page.locator("#activity")
        expect(state).to_have_attribute("data-running", "no")
        expect(activity.locator("li")).to_have_count(0)

        with Watch(home) as watch:
            # no reload from here on: the news comes through the page's event stream
            expect(state).to_have_attribute("data-running", "yes", timeout=WAIT)
            jpeg(src / "2026" / "IMG_LIVE_0001.jpg", (320, 240), seed=7)
            expect(activity).to_contain_text("IMG_LIVE_0001.jpg", timeout=WAIT)
            item = activity.locator("li", has_text="IMG_LIVE_0001.jpg").first
            clock, message = item.locator("time").inner_text(), item.locator(".message").inner_text()
            logged = [
                line for line in watch_lines(home) if f" {clock}," in line and line.endswith(" " + message)
            ]
            assert logged, (clock, message)  # the daemon's own log line: its time (local) and message
            assert watch.terminate() == 0, watch.text()
        expect(state).to_have_attribute("data-running", "no", timeout=WAIT)
        page.context.close()


def watch_lines(home: Path) -> list[str]:
    return (home / "state" / "lily" / "daemon.log").read_text(encoding="utf-8").splitlines()


def test_dashboard_screenshots(browser: Browser, home: Path, tmp_path: Path) -> None:
    """The dashboard with something in every part (a snapshot, a finished job, the running
    daemon's news, two accounts) in English and Chinese, at desktop and phone widths."""
    from playwright.sync_api import expect

    src = tmp_path / "Shoots"
    make_files(src, 4)
    drive = tmp_path / "drive"
    drive.mkdir()
    daemon_profile(home, [src], [{"name": "drive", "type": "local", "path": str(drive / "Keepmark")}])
    write_profile(home, [src], [], name="mei", account={"name": "Mei Wong", "handle": "mei.makes"})
    assert run_backup("full", "-p", "lily").code == 0
    with ui_server(home, profile="lily") as ui, Watch(home) as watch:
        page = open_app(browser, ui)
        expect(page.locator("#daemon-state")).to_have_attribute("data-running", "yes")
        page.get_by_role("region", name="Jobs").get_by_role("button", name="Verify now").click()
        expect(page.locator("#jobs > li")).to_have_attribute("data-state", "done", timeout=JOB_WAIT)
        jpeg(src / "2026" / "IMG_SHOT_0001.jpg", (320, 240), seed=9)
        expect(page.locator("#activity")).to_contain_text("IMG_SHOT_0001.jpg", timeout=WAIT)
        written = shot(page, "dashboard-en")

        # the same session in a browser that asks for Chinese (the Language select is tested above)
        zh = browser.new_context(
            locale="zh-CN",
            viewport={"width": 1280, "height": 900},
            storage_state=page.context.storage_state(),
        )
        zh.set_default_timeout(WAIT)
        zh_page = zh.new_page()
        zh_page.goto(f"{ui.base}/")
        expect(zh_page.get_by_role("heading", name=re.compile(r"^健康状况"))).to_be_visible()
        expect(zh_page.locator("#jobs > li")).to_have_attribute("data-state", "done")
        jpeg(src / "2026" / "IMG_SHOT_0002.jpg", (320, 240), seed=10)
        expect(zh_page.locator("#activity")).to_contain_text("IMG_SHOT_0002.jpg", timeout=WAIT)
        # the daemon's news in Chinese, its paths exact
        stamped = zh_page.locator("#activity li", has_text="已加水印").filter(has_text="IMG_SHOT_0002.jpg")
        expect(stamped.first).to_contain_text(str(src / "2026" / "IMG_SHOT_0002.jpg") + " → ")
        written += shot(zh_page, "dashboard-zh-CN")
        assert watch.terminate() == 0, watch.text()
        zh.close()
        page.context.close()
    assert [p.name for p in written] == [
        "dashboard-en-desktop.png",
        "dashboard-en-phone.png",
        "dashboard-zh-CN-desktop.png",
        "dashboard-zh-CN-phone.png",
    ]
    assert all(p.stat().st_size > 10_000 for p in written)
