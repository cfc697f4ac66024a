"""The Watermark page in a real browser (the system's Chromium, driven by Playwright) against a
real ``backup ui``: the form, the live preview drawn by the stamping code (its pixels measured
with Pillow as the page fetched them), the errors next to their fields, saving into the profile
file, a logo upload, "Stamp what is new" as a job with a live bar, and the page in Chinese.

Screenshots: tests/screenshots/watermark-*.png and watermark-zh-*.png."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageChops, ImageStat

from backup.app.designer import fields_of
from backup.app.stamp import style_of
from backup.profile.load import load
from tests.browserkit import chromium, shot, ui_server
from tests.test_designer import Studio, logo_png, make_studio
from watermark.mark import render_mark

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

pytestmark = pytest.mark.slow

WAIT = 30_000  # ms
JOB_WAIT = 120_000  # ms: stamping the library in the app


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    base = tmp_path_factory.mktemp("web-designer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KEEPMARK_HOME", str(base / "keepmark-home"))
        mp.delenv("KEEPMARK_PROFILE", raising=False)
        yield make_studio(base)


@pytest.fixture(scope="module")
def page(browser: Browser, studio: Studio) -> Iterator[Page]:
    """One signed-in tab on the Watermark page of one ``backup ui`` for the whole module (the
    link's token signs in once)."""
    with ui_server(studio.home, "lily") as ui:
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(WAIT)
        tab = context.new_page()
        tab.goto(ui.url)
        tab.get_by_role("link", name="Watermark").click()
        tab.wait_for_url(re.compile(r"/watermark$"))
        yield tab
        context.close()


def preview_after(page: Page, change: Callable[[], None], opacity: float) -> bytes:
    """Make ``change`` on the page; once the page shows the preview it fetched for ``opacity``,
    that picture's pixels as the page has them (drawn on a canvas, read back as a PNG)."""
    from playwright.sync_api import expect

    def drawn_with(response: Response) -> bool:
        if "/api/watermark/preview" not in response.url or response.status != 200:
            return False
        return bool(response.request.post_data_json["form"]["opacity"] == opacity)

    with page.expect_response(drawn_with) as answer:
        change()
    assert answer.value.headers["content-type"] == "image/jpeg"
    img = page.locator("#wm-preview")
    expect(img).to_have_attribute("data-opacity", str(opacity))
    expect(img).to_have_attribute("data-state", "ready")
    url = page.evaluate(
        """() => {
          const img = document.getElementById("wm-preview");
          const canvas = document.createElement("canvas");
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          canvas.getContext("2d").drawImage(img, 0, 0);
          return canvas.toDataURL("image/png");
        }"""
    )
    return base64.b64decode(url.split(",", 1)[1])


def rgb(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")


def mean_diff(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.crop(box), b.crop(box))).mean) / 3


def test_the_form_shows_the_profile_and_a_live_preview(page: Page) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Watermark", level=1)).to_be_visible()
    expect(page.get_by_label("Text", exact=True)).to_have_value("© {name} · @{handle}")
    expect(page.get_by_label("Opacity in percent")).to_have_value("40")
    expect(page.get_by_label("Bottom right")).to_be_checked()
    expect(page.get_by_label("Font")).to_have_value("")
    expect(page.get_by_label("Show your account card at the start and end of videos")).not_to_be_checked()
    expect(page.get_by_label("At the start, seconds")).to_be_disabled()
    samples = page.get_by_role("radiogroup", name="Preview on")
    for name in ("Landscape", "Portrait", "Dark", "Video", "Video credits"):
        expect(samples.get_by_label(name, exact=True)).to_be_visible()
    img = page.locator("#wm-preview")
    expect(img).to_have_attribute("data-state", "ready")
    expect(page.locator("#wm-sample-name")).to_have_text("land.jpg")
    width = page.evaluate("document.getElementById('wm-preview').naturalWidth")
    assert width == 1280
    # switching the sample draws the mark on that picture
    samples.get_by_label("Portrait").check()
    expect(img).to_have_attribute("data-sample", re.compile(r"^portrait:"))
    expect(page.locator("#wm-sample-name")).to_have_text("portrait.jpg")
    samples.get_by_label("Landscape").check()
    expect(img).to_have_attribute("data-sample", re.compile(r"^landscape:"))
    expect(img).to_have_attribute("data-state", "ready")
    shot(page, "watermark")


def test_a_higher_opacity_moves_the_marks_pixels_further_from_the_photo(page: Page) -> None:
    opacity = page.get_by_label("Opacity in percent")
    faint = rgb(preview_after(page, lambda: opacity.fill("20"), 0.2))
    strong = rgb(preview_after(page, lambda: opacity.fill("90"), 0.9))
    # the photo itself at the same size: the library's picture the preview is drawn on
    sha = (page.locator("#wm-preview").get_attribute("data-sample") or "").split(":", 1)[1]
    origin = re.sub(r"^(https?://[^/]+).*$", r"\1", page.url)
    answer = page.request.get(f"{origin}/api/thumbnails/{sha}?size=1280&profile=lily")
    assert answer.ok, answer.status
    photo = rgb(answer.body())
    profile = load("lily")
    [layer] = render_mark(style_of(profile.watermark), photo.size, fields_of(profile)).layers
    further, nearer = mean_diff(strong, photo, layer.box), mean_diff(faint, photo, layer.box)
    assert further > nearer * 2 and further > 10, (further, nearer)
    # and away from the mark, the photo is left as it was
    left = (0, 0, photo.width // 2, photo.height // 2)
    assert mean_diff(strong, photo, left) < 2 and mean_diff(faint, photo, left) < 2


def test_a_bad_value_is_named_by_its_field_and_a_good_one_is_saved(page: Page, studio: Studio) -> None:
    from playwright.sync_api import expect

    before = studio.profile_file.read_bytes()
    page.get_by_label("Opacity in percent").fill("150")
    error = page.locator("#wm-opacity-error")
    expect(error).to_contain_text("watermark.opacity: 1.5 is out of range 0.0-1.0")
    page.get_by_role("button", name="Save to the profile").click()
    expect(page.get_by_role("status")).to_have_text("Fix the fields marked in red.")
    expect(page.get_by_label("Opacity in percent")).to_have_attribute("aria-invalid", "true")
    assert studio.profile_file.read_bytes() == before

    page.get_by_label("Opacity in percent").fill("35")
    expect(error).to_be_empty()
    page.get_by_label("Top left").check()
    page.get_by_label("Text", exact=True).fill("© {name}")
    page.get_by_role("button", name="Insert {handle}").click()
    expect(page.get_by_label("Text", exact=True)).to_have_value("© {name}{handle}")
    page.get_by_label("Text", exact=True).fill("© {name} @{handle}")
    page.get_by_label("Show your account card at the start and end of videos").check()
    expect(page.get_by_label("At the start, seconds")).to_have_value("3")
    page.get_by_label("At the end, seconds").fill("2")

    logo = studio.home.parent / "brand.png"
    logo.write_bytes(logo_png())
    page.get_by_label("Upload a logo (PNG with transparency, at most 5 MB)").set_input_files(str(logo))
    expect(page.locator("#wm-logo-name")).to_have_text("brand.png")
    expect(page.get_by_role("button", name="Remove the logo")).to_be_visible()
    expect(page.locator("#wm-preview")).to_have_attribute("data-state", "ready")

    page.get_by_role("button", name="Save to the profile").click()
    expect(page.get_by_role("status")).to_have_text("Saved to the profile.")
    wm = load("lily").watermark
    assert (wm.opacity, wm.position, wm.text) == (0.35, "top-left", "© {name} @{handle}")
    assert (wm.credits_opening, wm.credits_closing) == (3.0, 2.0)
    assert wm.logo is not None and wm.logo.is_file() and wm.logo.parent.name == "watermark"
    text = studio.profile_file.read_text(encoding="utf-8")
    assert "# the mark on every published copy" in text and "[schedule]" in text
    # the page, loaded again, shows what was saved
    page.reload()
    expect(page.get_by_label("Opacity in percent")).to_have_value("35")
    expect(page.get_by_label("Top left")).to_be_checked()
    expect(page.locator("#wm-logo-name")).to_have_text(wm.logo.name)


def test_stamp_what_is_new_runs_as_a_job_and_writes_the_copies(page: Page, studio: Studio) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Stamp what is new").click()
    job = page.locator("#jobs > li")
    expect(job).to_have_count(1)
    expect(job).to_have_attribute("data-state", "done", timeout=JOB_WAIT)
    expect(job).to_contain_text("Stamp · done")
    expect(job.get_by_role("progressbar")).to_have_attribute("value", "1")
    expect(page.get_by_role("status")).to_have_text("Stamping finished.")
    copies = {p.name: p for p in studio.out.rglob("*") if p.is_file()}
    assert sorted(copies) == ["clip.mp4", "land.jpg", "night.jpg", "portrait.jpg"], sorted(copies)
    with Image.open(copies["land.jpg"]) as im:
        assert im.size == (3000, 2000)


def test_the_page_in_chinese(page: Page) -> None:
    from playwright.sync_api import expect

    with page.expect_response(lambda r: r.request.method == "POST"):
        page.get_by_label("Language", exact=True).select_option(label="简体中文")
    expect(page.get_by_role("heading", name="水印", level=1)).to_be_visible()
    expect(page.get_by_label("不透明度（百分比）")).to_have_value("35")
    expect(page.get_by_role("button", name="为新内容加水印")).to_be_visible()
    expect(page.locator("#wm-preview")).to_have_attribute("data-state", "ready")
    shot(page, "watermark-zh")
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.get_by_label("语言", exact=True).select_option(label="English")
    expect(page.get_by_role("heading", name="Watermark", level=1)).to_be_visible()
