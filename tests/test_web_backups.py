"""The backups pages in a real browser (the system's Chromium through Playwright): a real
``backup full`` to a drive folder first, then the snapshot browsed as folders, a folder restored
into a new folder (byte for byte), restored again with one file changed there (the conflict is
listed and the file kept; with "Replace" ticked it is replaced), a verify reading every byte with
its live progress, and prune's preview.

Screenshots (desktop and phone): backups, snapshot, and the Chinese backups-zh and snapshot-zh."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.backupkit import tree, write_profile
from tests.browserkit import chromium, shot, ui_server
from tests.conftest import run_backup
from tests.kit.photos import photo_paths
from tests.webkit import Ui

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.slow

WAIT = 30_000  # ms
JOB_WAIT = 120_000  # ms


class Studio:
    def __init__(self, home: Path, src: Path, drive: Path, work: Path) -> None:
        self.home, self.src, self.drive, self.work = home, src, drive, work


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Studio:
    """Profile lily over real photos in a few folders (one with a name that is a glob), backed
    up once by ``backup full`` to a drive folder."""
    base = tmp_path_factory.mktemp("backups-web")
    home, src, drive = base / "keepmark-home", base / "Shoots", base / "drive"
    photos = photo_paths()
    for i, photo in enumerate(photos):
        folder = src / "2026" / ("March" if i % 2 else "April")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, folder / photo.name)
    (src / "Exports").mkdir()
    shutil.copyfile(photos[0], src / "Exports" / "[1].jpg")
    (src / "Exports" / "caption.txt").write_text("A morning at the harbour.\n", encoding="utf-8")
    drive.mkdir()
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(drive)}])
    done = run_backup("full", "-p", "lily", "--json", env={"KEEPMARK_HOME": str(home)})
    assert done.code == 0, done
    return Studio(home, src, drive, base)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def ui(studio: Studio) -> Iterator[Ui]:
    with ui_server(studio.home, "lily") as server:
        yield server


@pytest.fixture(scope="module")
def signed_in(browser: Browser, ui: Ui) -> Iterator[BrowserContext]:
    """A browser signed in with the printed URL (its token is good once per server)."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.goto(ui.url)
    page.close()
    yield context
    context.close()


def open_page(context: BrowserContext) -> Page:
    """A new tab of the signed-in browser."""
    return context.new_page()


def latest(studio: Studio) -> str:
    return sorted(p.stem for p in (studio.drive / "lily" / "snapshots").glob("*.json"))[-1]


def test_restore_a_folder_then_a_conflict_kept_then_replaced(
    signed_in: BrowserContext, ui: Ui, studio: Studio
) -> None:
    from playwright.sync_api import expect

    page = open_page(signed_in)
    page.goto(f"{ui.base}/backups")
    expect(page.get_by_role("heading", name="Backups", exact=True)).to_be_visible()
    card = page.locator("section.target-card")
    expect(card.get_by_role("heading", name=re.compile(r"^drive"))).to_be_visible()
    snapshots = card.get_by_role("table", name="Snapshots, newest first")
    expect(snapshots.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile(r"^Repair"))).to_have_count(0)  # nothing damaged
    shot(page, "backups")

    # browse the snapshot: the top, then Shoots, then 2026
    snapshots.get_by_role("link", name="Browse").click()
    expect(page).to_have_url(re.compile(rf"/backups/drive/{re.escape(latest(studio))}$"))
    page.get_by_role("link", name="Shoots/").click()
    page.get_by_role("link", name="2026/").click()
    expect(page.get_by_role("heading", name="2026", exact=True)).to_be_visible()
    crumbs = page.get_by_role("navigation", name="Where you are")
    expect(crumbs.get_by_role("link", name="Shoots")).to_be_visible()
    march = page.locator("table.tree tr", has=page.get_by_role("link", name="March/"))
    expect(march).to_contain_text(f"{len(list((studio.src / '2026' / 'March').iterdir()))} files")

    # restore the folder March into a folder that does not exist yet
    to = studio.work / "Restored"
    march.get_by_role("checkbox").check()
    page.get_by_label("Restore into folder").fill(str(to))
    page.get_by_role("button", name="Check", exact=True).click()
    plan = page.locator("#restore-plan")
    expect(plan).to_contain_text("it will be created")
    expect(plan.locator("h3.write")).to_contain_text(
        f"To write: {len(list((studio.src / '2026' / 'March').iterdir()))}"
    )
    expect(plan.locator("h3.conflicts")).to_have_count(0)
    assert not to.exists()  # checking writes nothing
    shot(page, "snapshot")
    page.get_by_role("button", name="Restore", exact=True).click()
    result = page.locator("#restore-result")
    expect(result).to_contain_text("Restored:", timeout=JOB_WAIT)
    expect(result).to_contain_text("The folder was created.")
    want = {f"Shoots/2026/March/{rel}": data for rel, data in tree(studio.src / "2026" / "March").items()}
    assert tree(to) == want  # byte-identical

    # one file changed at the destination: the plan lists the conflict; without consent it stays
    changed_name = sorted(want)[0]
    changed = to / changed_name
    changed.write_bytes(b"an edit made after the backup")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(plan.locator("h3.conflicts")).to_contain_text("Conflicts: a different file is there already: 1")
    expect(plan).to_contain_text(changed_name)
    expect(plan).to_contain_text("kept: tick")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(result.locator("h3.conflicts")).to_contain_text("kept, not overwritten: 1", timeout=JOB_WAIT)
    expect(result).to_contain_text(changed_name)
    assert changed.read_bytes() == b"an edit made after the backup"

    # with consent it is replaced
    page.get_by_label("Replace existing files that differ").check()
    expect(page.get_by_role("button", name="Restore", exact=True)).to_be_disabled()  # check again first
    page.get_by_role("button", name="Check", exact=True).click()
    expect(plan).to_contain_text("will be replaced")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(result).to_contain_text("Restored: 1 files", timeout=JOB_WAIT)
    assert tree(to) == want
    page.close()


def test_a_file_preselected_then_restored_by_its_exact_name(
    signed_in: BrowserContext, ui: Ui, studio: Studio
) -> None:
    from playwright.sync_api import expect

    page = open_page(signed_in)
    sid = latest(studio)
    page.goto(f"{ui.base}/backups/drive/{sid}?select=Shoots/Exports/%5B1%5D.jpg")
    expect(page.get_by_role("heading", name="Exports", exact=True)).to_be_visible()
    expect(page.get_by_role("checkbox", name="Restore [1].jpg")).to_be_checked()
    expect(page.locator("#restore-what")).to_have_text("Shoots/Exports/[1].jpg")
    # the destination chosen with the picker: home, then a folder made for it
    dest = studio.work / "Picked"
    dest.mkdir()
    page.get_by_label("Restore into folder").fill(str(studio.work))
    page.get_by_role("button", name="Choose…").click()
    picker = page.locator("#restore-picker")
    picker.get_by_role("button", name="Picked/").click()
    expect(picker.locator("#picker-path")).to_have_text(str(dest))
    picker.get_by_role("button", name="Use this folder").click()
    expect(page.get_by_label("Restore into folder")).to_have_value(str(dest))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#restore-plan h3.write")).to_contain_text("To write: 1")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.locator("#restore-result")).to_contain_text("Restored: 1 files", timeout=JOB_WAIT)
    assert tree(dest) == {"Shoots/Exports/[1].jpg": (studio.src / "Exports" / "[1].jpg").read_bytes()}

    # a destination inside the target is refused, in one line
    page.get_by_label("Restore into folder").fill(str(studio.drive / "lily" / "x"))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("inside target drive")
    page.close()


def test_a_job_that_ends_before_its_answer_still_shows_its_result(
    signed_in: BrowserContext, ui: Ui, studio: Studio
) -> None:
    """The stream can tell the page a short job has ended before the POST that started it
    answers: the page holds the answer back until the app lists the job as done, so the order
    is always that one, and the result must show all the same."""
    from playwright.sync_api import Route, expect

    page = open_page(signed_in)
    held: list[str] = []

    def answer_late(route: Route) -> None:
        answer = route.fetch()
        job = answer.json()
        for _ in range(600):
            listed = {j["id"]: j for j in page.request.get(f"{ui.base}/api/jobs").json()["jobs"]}
            if listed[job["id"]]["state"] != "running":
                break
            page.wait_for_timeout(100)
        held.append(listed[job["id"]]["state"])
        route.fulfill(response=answer)

    page.route(re.compile(r"/api/restore(\?.*)?$"), answer_late)
    page.goto(f"{ui.base}/backups/drive/{latest(studio)}?select=Shoots/Exports/caption.txt")
    expect(page.get_by_role("checkbox", name="Restore caption.txt")).to_be_checked()
    dest = studio.work / "Late"
    page.get_by_label("Restore into folder").fill(str(dest))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#restore-plan h3.write")).to_contain_text("To write: 1")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.locator("#restore-result")).to_contain_text("Restored: 1 files", timeout=JOB_WAIT)
    assert held == ["done"]  # the answer (still saying "running") came after the job had ended
    assert tree(dest) == {"Shoots/Exports/caption.txt": (studio.src / "Exports" / "caption.txt").read_bytes()}
    page.close()


def test_verify_with_progress_and_prune_preview(signed_in: BrowserContext, ui: Ui, studio: Studio) -> None:
    from playwright.sync_api import expect

    # a second snapshot, so that prune has something to say
    (studio.src / "Exports" / "caption.txt").write_text(
        "A morning at the harbour, at dawn.\n", encoding="utf-8"
    )
    done = run_backup("full", "-p", "lily", env={"KEEPMARK_HOME": str(studio.home)})
    assert done.code == 0, done

    page = open_page(signed_in)
    page.goto(f"{ui.base}/backups")
    expect(page.locator("section.target-card tbody tr")).to_have_count(2)
    verify = page.get_by_role("region", name="Verify now")
    verify.get_by_label("Every byte").check()
    seen: list[dict[str, Any]] = []
    page.expose_function("sawJob", lambda job: seen.append(job))
    page.evaluate("document.addEventListener('keepmark:job', e => window.sawJob(e.detail))")
    verify.get_by_role("button", name="Verify", exact=True).click()
    job = page.locator("#jobs > li").first
    expect(job).to_have_attribute("data-state", "done", timeout=JOB_WAIT)
    expect(job).to_contain_text("Verify · done")
    expect(verify.locator("#verify-outcome")).to_contain_text("Verify finished")
    expect(verify.locator("#verify-outcome")).to_contain_text("drive: ok")
    files = sum(1 for p in studio.src.rglob("*") if p.is_file())
    final = [j for j in seen if j["kind"] == "verify" and j["state"] == "done"]
    assert final and final[-1]["stage"] == "verify" and final[-1]["files_done"] == files, seen
    assert final[-1]["done"] == final[-1]["total"] > 0  # every byte read, reported as it went

    # prune: the preview first (nothing removed), then the confirm button
    prune = page.get_by_role("region", name="Prune old snapshots")
    prune.get_by_role("button", name="Preview what would go").click()
    outcome = prune.locator("#prune-outcome")
    snapshots = sorted(p.stem for p in (studio.drive / "lily" / "snapshots").glob("*.json"))
    # the default retention keeps one a week: both snapshots are this week's, the older goes
    expect(outcome).to_contain_text("Snapshots that would be removed: 1")
    expect(outcome).to_contain_text(snapshots[0])
    expect(prune.get_by_role("button", name="Prune now")).to_be_visible()
    assert sorted(p.stem for p in (studio.drive / "lily" / "snapshots").glob("*.json")) == snapshots
    shot(page, "backups-prune")
    prune.get_by_role("button", name="Prune now").click()
    expect(outcome).to_contain_text("Prune finished", timeout=JOB_WAIT)
    assert sorted(p.stem for p in (studio.drive / "lily" / "snapshots").glob("*.json")) == snapshots[1:]

    # a copy damaged on the drive: verify finds it, the target offers a repair, which replaces it
    copy = studio.drive / "lily" / "originals" / "Shoots" / "Exports" / "caption.txt"
    copy.chmod(0o644)
    copy.write_bytes(b"bit rot")
    verify.get_by_role("button", name="Verify", exact=True).click()
    expect(verify.locator("#verify-outcome")).to_contain_text("drive: damaged", timeout=JOB_WAIT)
    expect(verify.locator("#verify-outcome")).to_contain_text("Shoots/Exports/caption.txt")
    page.reload()
    damage = page.locator("section.target-card .damage")
    expect(damage).to_contain_text("Damaged copies (1)")
    expect(damage).to_contain_text("Shoots/Exports/caption.txt")
    damage.get_by_role("button", name="Repair drive").click()
    expect(damage.locator(".outcome")).to_contain_text("Repair finished", timeout=JOB_WAIT)
    expect(damage.locator(".outcome")).to_contain_text("drive: ok · Replaced 1")
    assert copy.read_bytes() == (studio.src / "Exports" / "caption.txt").read_bytes()
    page.reload()
    expect(page.get_by_role("button", name=re.compile(r"^Repair"))).to_have_count(0)
    page.close()


def test_in_chinese(signed_in: BrowserContext, ui: Ui, studio: Studio) -> None:
    from playwright.sync_api import expect

    page = open_page(signed_in)
    page.goto(f"{ui.base}/backups")
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.get_by_label("Language", exact=True).select_option("zh-CN")
    try:
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.get_by_role("heading", name="备份", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="清理旧快照")).to_be_visible()
        shot(page, "backups-zh")
        page.locator("section.target-card").get_by_role("link", name="浏览").first.click()
        page.get_by_role("link", name="Shoots/").click()
        expect(page.get_by_role("heading", name="恢复", exact=True)).to_be_visible()
        page.get_by_role("link", name="Exports/").click()
        page.get_by_role("checkbox", name="恢复 [1].jpg").check()
        page.get_by_label("恢复到文件夹").fill(str(studio.work / "还原"))
        page.get_by_role("button", name="检查", exact=True).click()
        expect(page.locator("#restore-plan")).to_contain_text("将自动创建")
        shot(page, "snapshot-zh")
    finally:  # the session's language back to English for any test after this one
        page.get_by_label("语言", exact=True).select_option("en")
        # the page loaded again in English before it is closed (a page closed while it
        # navigates can leave Playwright waiting for good)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.close()
