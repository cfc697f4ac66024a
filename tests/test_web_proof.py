"""The proof page of ``backup ui`` in a real browser (the system's Chromium, driven by
Playwright): a profile recorded over real photos, a resized and recompressed repost dropped on
the page (through the file chooser, and through a real drop), the verdict naming the right
original with the matching points drawn, the evidence zip downloaded, unzipped and verified; a
photo never recorded claiming nothing; the creator's status and notes kept on disk.

Screenshots: tests/screenshots/proof-*.png, proof-case-*.png, proof-zh-*.png, proof-case-zh-*.png."""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browserkit import chromium, shot, ui_server
from tests.kit.tsa import LocalTSA
from tests.test_cases import Studio, make_studio, unzip_and_verify
from tests.webkit import Ui

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow

WAIT = 30_000  # ms
PROVE_WAIT = 120_000  # ms: matching a photo and writing its evidence on a loaded machine


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    root = tmp_path_factory.mktemp("proof")
    tsa = LocalTSA(root / "tsa") if shutil.which("openssl") else None
    try:
        yield make_studio(root, tsa)
    finally:
        if tsa is not None:
            tsa.close()


@pytest.fixture(scope="module")
def ui(studio: Studio, browser: Browser) -> Iterator[Ui]:
    with ui_server(studio.home, env=studio.env) as running:
        yield running


@pytest.fixture(scope="module")
def page(browser: Browser, ui: Ui) -> Iterator[Page]:
    """One signed-in page in English for the module (the app's link is good once)."""
    context = browser.new_context(
        locale="en-US", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(WAIT)
    p = context.new_page()
    p.goto(ui.url)
    yield p
    context.close()


def open_proof(page: Page, ui: Ui) -> None:
    from playwright.sync_api import expect

    page.goto(f"{ui.base}/proof")
    expect(page.get_by_role("heading", name="Find the original behind a repost")).to_be_visible()


def on_case_page(page: Page, ui: Ui) -> str:
    """Wait for the case page the drop leads to; its case id."""
    page.wait_for_url(re.compile(r"/proof/cases/\d{8}-\d{6}-[0-9a-f]{6}"), timeout=PROVE_WAIT)
    return page.url.split("/proof/cases/", 1)[1].split("?", 1)[0]


def drop(page: Page, path: Path) -> None:
    """A real drop on the drop zone: a DataTransfer holding the file, dispatched as a drop."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    transfer = page.evaluate_handle(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: "image/jpeg" }));
            return dt;
        }""",
        [path.name, data],
    )
    zone = page.locator("[data-drop]")
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    zone.dispatch_event("drop", {"dataTransfer": transfer})


def test_a_chosen_repost_names_its_original_and_the_zip_verifies(
    page: Page, ui: Ui, studio: Studio, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    open_proof(page, ui)
    expect(page.get_by_text("No cases yet")).to_be_visible()
    page.get_by_label("Where you found it (optional)").fill("https://www.instagram.com/p/stolen123/")
    page.get_by_label("Choose a file").set_input_files(studio.reposts["chelsea.png"])
    case_id = on_case_page(page, ui)

    verdict = page.get_by_role("region", name="Original found: chelsea.jpg")
    expect(verdict).to_be_visible()
    expect(verdict).to_contain_text(str(studio.originals["chelsea.png"]))
    expect(verdict).to_contain_text(re.compile(r"Confidence \d+%"))
    # side by side, the matching points drawn on both pictures, as many on each
    suspect = page.get_by_role("img", name="The suspect: repost-chelsea.jpg")
    original = page.get_by_role("img", name="Your original: chelsea.jpg")
    expect(suspect).to_be_visible()
    expect(original).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.frame img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    points = page.locator(".side").nth(0).locator("circle")
    assert points.count() > 10
    expect(page.locator(".side").nth(1).locator("circle")).to_have_count(points.count())
    # the overlay covers the shown picture exactly: the points are scaled to its displayed size
    img_box, svg_box = suspect.bounding_box(), page.locator(".side").nth(0).locator("svg").bounding_box()
    assert img_box is not None and svg_box is not None
    assert abs(img_box["width"] - svg_box["width"]) < 1 and abs(img_box["height"] - svg_box["height"]) < 1
    proven = page.get_by_role("region", name="When you first had it, and how that is proven")
    expect(proven).to_contain_text("First recorded")
    if studio.tsa is not None:
        expect(proven).to_contain_text("timestamped")
        expect(proven).to_contain_text("CN=Keepmark Test TSA")
    shot(page, "proof-case")

    with page.expect_download() as got:
        page.get_by_role("link", name="Download the evidence (zip)").click()
    download = got.value
    assert download.suggested_filename == f"evidence-{case_id}.zip"
    saved = tmp_path / "download.zip"
    download.save_as(saved)
    folder, report = unzip_and_verify(saved.read_bytes(), tmp_path / "unzipped")
    assert report.ok, report.problems
    assert json.loads((folder / "evidence.json").read_text())["suspect"]["url"] == (
        "https://www.instagram.com/p/stolen123/"
    )


def test_a_repost_dropped_on_the_page_names_its_original(page: Page, ui: Ui, studio: Studio) -> None:
    from playwright.sync_api import expect

    open_proof(page, ui)
    drop(page, studio.reposts["astronaut.png"])
    on_case_page(page, ui)
    expect(page.get_by_role("region", name="Original found: astronaut.jpg")).to_be_visible()
    expect(page.get_by_role("link", name="Download the evidence (zip)")).to_be_visible()


def test_a_photo_never_recorded_claims_nothing(page: Page, ui: Ui, studio: Studio) -> None:
    from playwright.sync_api import expect

    open_proof(page, ui)
    page.get_by_label("Choose a file").set_input_files(studio.stranger)
    case_id = on_case_page(page, ui)
    expect(page.get_by_role("region", name="No original found")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Download"))).to_have_count(0)
    expect(page.locator("circle")).to_have_count(0)
    assert not (studio.cases() / case_id / "bundle.zip").exists()
    assert not (studio.cases() / case_id / "bundle").exists()
    shot(page, "proof-none")


def test_a_clip_names_its_video_and_the_time_range(page: Page, ui: Ui, studio: Studio) -> None:
    from playwright.sync_api import expect

    open_proof(page, ui)
    page.get_by_label("Choose a file").set_input_files(studio.clip)
    on_case_page(page, ui)
    verdict = page.get_by_role("region", name="Original found: studio-pan.mp4")
    expect(verdict).to_contain_text(re.compile(r"It shows [01]\.\d s to [345]\.\d s of the original video\."))
    expect(page.locator("video")).to_have_count(1)
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    shot(page, "proof-clip")


def test_a_file_that_is_no_photo_gets_one_line(page: Page, ui: Ui, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    text = tmp_path / "caption.txt"
    text.write_text("my caption\n")
    open_proof(page, ui)
    page.get_by_label("Choose a file").set_input_files(text)
    expect(page.get_by_role("alert")).to_have_text(
        "caption.txt: not a photo or a video; choose a photo or a video file"
    )
    assert page.url.endswith("/proof")


def test_past_cases_and_the_follow_up(page: Page, ui: Ui, studio: Studio) -> None:
    from playwright.sync_api import expect

    open_proof(page, ui)
    cases = page.get_by_role("list", name="Past cases").get_by_role("listitem")
    # newest first: the clip, the stranger, the dropped one, the chosen one
    expect(cases).to_have_count(4)
    expect(cases.nth(0)).to_contain_text("Original: studio-pan.mp4")
    expect(cases.nth(1)).to_contain_text("No original found")
    expect(cases.nth(2)).to_contain_text("Original: astronaut.jpg")
    expect(cases.nth(3)).to_contain_text("Original: chelsea.jpg")
    expect(cases.nth(3).get_by_role("link", name="Evidence (zip)")).to_be_visible()
    expect(cases.nth(1).get_by_role("link", name="Evidence (zip)")).to_have_count(0)
    shot(page, "proof")

    cases.nth(3).get_by_role("link", name="repost-chelsea.jpg").click()
    expect(page.get_by_role("region", name="Original found: chelsea.jpg")).to_be_visible()
    page.get_by_label("Status").select_option(label="Sent")
    page.get_by_label("Notes").fill("Sent the notice to Instagram, ticket 4471.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Status")).to_have_value("sent")
    expect(page.get_by_label("Notes")).to_have_value("Sent the notice to Instagram, ticket 4471.")
    case_id = page.url.split("/proof/cases/", 1)[1].split("?", 1)[0]
    doc = json.loads((studio.cases() / case_id / "case.json").read_text())
    assert doc["status"] == "sent" and doc["notes"] == "Sent the notice to Instagram, ticket 4471."

    open_proof(page, ui)
    row = page.get_by_role("list", name="Past cases").get_by_role("listitem").nth(3)
    expect(row).to_contain_text("Sent")
    expect(row).to_contain_text("ticket 4471")


def test_the_proof_pages_in_chinese(browser: Browser, ui: Ui, page: Page) -> None:
    from playwright.sync_api import expect

    # the language is the session's: switch it on the signed-in page, then back
    open_proof(page, ui)
    page.get_by_label("Language", exact=True).select_option(label="简体中文")
    expect(page.get_by_role("heading", name="找出转载背后的原图")).to_be_visible()
    expect(page.get_by_text("未找到原图")).to_be_visible()
    shot(page, "proof-zh")
    page.get_by_role("list", name="过往案件").get_by_role("link", name="repost-chelsea.jpg").click()
    expect(page.get_by_role("region", name="找到原图：chelsea.jpg")).to_be_visible()
    expect(page.get_by_role("link", name="下载证据（zip）")).to_be_visible()
    shot(page, "proof-case-zh")
    page.get_by_label("语言", exact=True).select_option(label="English")
    expect(page.get_by_role("heading", name="Original found: chelsea.jpg")).to_be_visible()


def test_a_case_deleted_from_its_page(page: Page, ui: Ui, studio: Studio) -> None:
    """The case of the photo never recorded, deleted: behind "Delete this case…", gone from the
    list and from disk; the file that was checked is where it was."""
    from playwright.sync_api import expect

    open_proof(page, ui)
    cases = page.get_by_role("list", name="Past cases").get_by_role("listitem")
    expect(cases).to_have_count(4)
    cases.filter(has_text="No original found").get_by_role("link", name=studio.stranger.name).click()
    expect(page.get_by_role("region", name="No original found")).to_be_visible()
    case_id = page.url.split("/proof/cases/", 1)[1].split("?", 1)[0]
    delete = page.get_by_role("button", name="Delete the case")
    expect(delete).to_be_hidden()  # not one click away
    page.get_by_text("Delete this case…").click()
    delete.click()
    expect(page.get_by_role("status")).to_have_text("The case was deleted.")
    expect(cases).to_have_count(3)
    expect(page.get_by_text("No original found")).to_have_count(0)
    assert not (studio.cases() / case_id).exists() and studio.stranger.is_file()
