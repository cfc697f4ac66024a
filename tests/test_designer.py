"""The watermark designer (``backup.app.designer``): the profile's ``[watermark]`` as a form, its
preview drawn by the code that stamps, the logo upload and saving back into the profile file;
over the use cases and over a real ``backup ui``'s API.

The library is real photographs (tests/kit/photos.py) scaled up to a camera's size, a dark one,
a portrait, and a video, recorded by a real scan; every effect is checked on the disk or in the
pixels."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from backup.app import designer
from backup.app.library import thumbnail
from backup.app.profiles import check
from backup.app.scan import scan
from backup.app.stamp import stamping_for, style_of
from backup.errors import ProfileError, UsageError
from backup.home import state_dir
from backup.profile.edit import rewrite_section
from backup.profile.load import load
from tests.backupkit import write_profile
from tests.kit.media import video
from tests.kit.photos import photo
from tests.webkit import running_ui, session_of
from watermark.image import stamp_image
from watermark.mark import render_mark

COMMENTED = """# Lily's profile, written by hand.
[account]
name = "Lily Chen"
handle = "lily.shoots"

[sources]
# where the shoots land
folders = [
    "{src}",
]

[watermark]
# the mark on every published copy
text = "© {{name}} · @{{handle}}"
position = "bottom-right"  # the corner that crops least
opacity = 0.4
output = "{out}"

[schedule]
incremental = "weekly sun 03:00"
"""


@dataclass
class Studio:
    home: Path
    src: Path
    out: Path
    profile_file: Path
    text: str  # the profile file as written

    def profile(self) -> Any:
        return load("lily")

    def restore(self) -> None:
        self.profile_file.write_text(self.text, encoding="utf-8")


def make_studio(base: Path) -> Studio:
    """A Keepmark home whose profile ``lily`` (commented by hand) has a 6-megapixel landscape, a
    portrait, a dark photo and a video, recorded by a scan (nothing stamped yet)."""
    home, src, out = base / "keepmark-home", base / "Shoots", base / "Stamped"
    src.mkdir(parents=True)
    photo("astronaut.png").resize((3000, 2000), Image.Resampling.BICUBIC).save(src / "land.jpg", quality=90)
    photo("chelsea.png").crop((0, 0, 300, 300)).resize((1200, 1800)).save(src / "portrait.jpg", quality=90)
    photo("hubble_deep_field.jpg").save(src / "night.jpg", quality=90)
    video(src / "clip.mp4", seconds=1.0, size="480x270")
    write_profile(home, [src], [])
    file = home / "profiles" / "lily.toml"
    text = COMMENTED.format(src=src, out=out)
    file.write_text(text, encoding="utf-8")
    scan(load("lily"))
    return Studio(home, src, out, file, text)


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    base = tmp_path_factory.mktemp("designer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KEEPMARK_HOME", str(base / "keepmark-home"))
        mp.delenv("KEEPMARK_PROFILE", raising=False)
        yield make_studio(base)


@pytest.fixture
def lily(studio: Studio) -> Iterator[Any]:
    """The profile, its file as written again after the test."""
    studio.restore()
    yield studio.profile()
    studio.restore()


def sample_of(profile: Any, kind: str) -> dict[str, Any]:
    doc = designer.designer(profile).as_dict()
    return next(s for s in doc["samples"] if s["kind"] == kind)


def picture(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")


def mean_diff(
    a: Image.Image,
    b: Image.Image,
    box: tuple[int, int, int, int] | None = None,
    mask: Image.Image | None = None,
) -> float:
    """The mean difference of two pictures' pixels (0-255): in ``box``, or where ``mask`` is set."""
    if box is not None:
        a, b = a.crop(box), b.crop(box)
    return sum(ImageStat.Stat(ImageChops.difference(a, b), mask).mean) / 3


def mark_box(marked: Image.Image, base: Image.Image, threshold: int = 24) -> tuple[int, int, int, int]:
    """The box around the pixels where ``marked`` differs from ``base`` by more than ``threshold``."""
    diff = ImageChops.difference(marked, base).convert("L").point(lambda v: 255 if v > threshold else 0)
    box = diff.getbbox()
    assert box is not None, "no mark to be seen"
    return box


# -- the form and the samples ----------------------------------------------------------------------


def test_the_form_shows_the_profile_and_samples_of_each_kind(lily: Any) -> None:
    doc = designer.designer(lily).as_dict()
    assert doc["form"] == {
        "text": "© {name} · @{handle}",
        "font": "",
        "position": "bottom-right",
        "opacity": 0.4,
        "size": 0.05,
        "margin": 0.03,
        "logo": "",
        "credits": False,
        "credits_opening": 0.0,
        "credits_closing": 0.0,
    }
    kinds = {s["kind"]: s for s in doc["samples"]}
    assert set(kinds) == {"landscape", "portrait", "dark", "video", "credits"}
    assert kinds["landscape"]["name"] == "land.jpg"
    assert kinds["portrait"]["name"] == "portrait.jpg"
    assert kinds["dark"]["name"] == "night.jpg"
    assert kinds["video"]["name"] == "clip.mp4"
    assert "tiled" in doc["positions"] and len(doc["positions"]) == 10
    assert doc["fonts"] and all(Path(f["value"]).is_file() for f in doc["fonts"])


# -- the preview --------------------------------------------------------------------------------------


def test_the_preview_is_what_stamping_makes_scaled_to_the_screen(lily: Any, tmp_path: Path) -> None:
    form = {**designer.form_of(lily.watermark), "position": "bottom-left", "size": 0.08, "opacity": 0.8}
    saved = designer.save(lily, form)
    profile = load("lily")
    assert saved.form["position"] == "bottom-left"
    land = sample_of(profile, "landscape")
    shown = picture(designer.preview(profile, form, land["id"]))
    assert max(shown.size) == designer.PREVIEW_SIDE
    base = picture(thumbnail(profile, land["sha256"], designer.PREVIEW_SIDE).path.read_bytes())
    # the full-size copy, as `backup stamp` writes it, scaled to the preview's size
    stamping = stamping_for(profile, str(tmp_path / "out"))
    made = stamp_image(
        lily.sources.folders[0] / "land.jpg",
        tmp_path / "land.jpg",
        stamping.style,
        stamping.account,
        stamping.image,
    )
    assert (made.width, made.height) == (3000, 2000)
    with Image.open(made.output) as full:
        copy = full.convert("RGB").resize(shown.size, Image.Resampling.LANCZOS)
    box = mark_box(shown, base)
    assert box[0] < shown.width * 0.2 and box[3] > shown.height * 0.8, box  # bottom left
    # the copy's mark in the same place and of the same size, within a few pixels (text is
    # hinted at each size: its edges may fall a pixel apart)
    band = (0, box[1] - 20, shown.width, shown.height)
    in_copy = mark_box(copy.crop(band), base.crop(band), 40)
    in_copy = (in_copy[0], in_copy[1] + band[1], in_copy[2], in_copy[3] + band[1])
    assert all(abs(a - b) <= 4 for a, b in zip(in_copy, box, strict=True)), (in_copy, box)

    def blocks(im: Image.Image) -> Image.Image:  # compared a dozen pixels at a time
        crop = im.crop(box)
        return crop.resize((max(1, crop.width // 12), max(1, crop.height // 12)), Image.Resampling.BOX)

    same, unmarked = mean_diff(blocks(shown), blocks(copy)), mean_diff(blocks(base), blocks(copy))
    assert unmarked > 15, unmarked  # the mark is there to be seen
    assert same < unmarked / 3, (same, unmarked)  # and the preview shows it as the copy has it
    assert mean_diff(shown, copy) < 4  # and the rest is the same photo (scaled by other filters)


def test_a_higher_opacity_moves_the_marks_pixels_further_from_the_photo(lily: Any) -> None:
    form = designer.form_of(lily.watermark)
    for kind in ("landscape", "portrait", "dark", "video"):
        s = sample_of(lily, kind)
        base = designer.base_of(lily, s["id"])[1]
        faint = picture(designer.preview(lily, {**form, "opacity": 0.2}, s["id"]))
        strong = picture(designer.preview(lily, {**form, "opacity": 0.9}, s["id"]))
        # where the mark goes, as the stamping code places it
        [layer] = render_mark(style_of(lily.watermark), base.size, designer.fields_of(lily)).layers
        further, nearer = mean_diff(strong, base, layer.box), mean_diff(faint, base, layer.box)
        assert further > nearer * 2 and further > 10, (kind, further, nearer)


def test_the_credits_card_and_a_tiled_mark(lily: Any) -> None:
    form = {**designer.form_of(lily.watermark), "credits": True, "credits_opening": 2.0}
    card = picture(designer.preview(lily, form, sample_of(lily, "credits")["id"]))
    assert ImageStat.Stat(card.convert("L")).mean[0] < 60  # a dark card with the name on it
    assert card.convert("L").getextrema()[1] > 200
    land = sample_of(lily, "landscape")
    base = designer.base_of(lily, land["id"])[1]
    tiled = picture(designer.preview(lily, {**form, "position": "tiled"}, land["id"]))
    box = mark_box(tiled, base)
    assert box[2] - box[0] > base.width * 0.8 and box[3] - box[1] > base.height * 0.8


def test_a_preview_of_a_bad_form_names_the_field(lily: Any) -> None:
    s = sample_of(lily, "landscape")
    form = designer.form_of(lily.watermark)
    with pytest.raises(ProfileError) as bad:
        designer.preview(lily, {**form, "opacity": "lots"}, s["id"])
    assert [p.key for p in bad.value.problems] == ["watermark.opacity"]
    with pytest.raises(UsageError, match="sample"):
        designer.preview(lily, form, "../../etc/passwd")


# -- saving ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"opacity": 1.5}, "watermark.opacity"),
        ({"opacity": "half"}, "watermark.opacity"),
        ({"size": 0}, "watermark.size"),
        ({"margin": 0.9}, "watermark.margin"),
        ({"position": "middle"}, "watermark.position"),
        ({"text": "© {nope}"}, "watermark.text"),
        ({"text": "  "}, "watermark.text"),
        ({"font": "/etc/passwd"}, "watermark.font"),
        ({"logo": "../../profiles/lily.toml"}, "watermark.logo"),
        ({"logo": "logo-0123456789abcdef.png"}, "watermark.logo"),
        ({"credits": True, "credits_opening": 45}, "watermark.credits_opening"),
        ({"colour": "red"}, "watermark.colour"),
    ],
)
def test_save_refuses_a_bad_value_naming_the_field_and_leaves_the_file(
    lily: Any, studio: Studio, change: dict[str, Any], key: str
) -> None:
    before = studio.profile_file.read_bytes()
    with pytest.raises(ProfileError) as refused:
        designer.save(lily, {**designer.form_of(lily.watermark), **change})
    assert key in [p.key for p in refused.value.problems], refused.value.problems
    assert key in str(refused.value)
    assert studio.profile_file.read_bytes() == before


def test_save_writes_the_section_in_place_keeping_comments_and_passes_the_check(
    lily: Any, studio: Studio
) -> None:
    form = {
        **designer.form_of(lily.watermark),
        "text": "{name} ✦ @{handle}",
        "position": "tiled",
        "opacity": 0.35,
        "size": 0.04,
        "credits": True,
        "credits_opening": 2.5,
        "credits_closing": 1.0,
    }
    saved = designer.save(lily, form)
    assert saved.as_dict()["ok"] is True
    text = studio.profile_file.read_text(encoding="utf-8")
    for kept in (
        "# Lily's profile, written by hand.",
        "# where the shoots land",
        "# the mark on every published copy",
        'position = "tiled"  # the corner that crops least',
        '[schedule]\nincremental = "weekly sun 03:00"',
    ):
        assert kept in text, text
    wm = load("lily").watermark
    assert (wm.text, wm.position, wm.opacity, wm.size) == ("{name} ✦ @{handle}", "tiled", 0.35, 0.04)
    assert (wm.credits_opening, wm.credits_closing, wm.margin) == (2.5, 1.0, 0.03)
    assert "margin" not in text  # a default the file left out stays out
    assert check("lily").ok
    # credits off writes no length
    designer.save(load("lily"), {**form, "credits": False})
    assert load("lily").watermark.credits_opening == 0.0


def test_a_form_that_leaves_fields_out_changes_only_those_it_gives(lily: Any, studio: Studio) -> None:
    designer.save(lily, {"opacity": 0.3})
    wm = load("lily").watermark
    assert (wm.opacity, wm.position, wm.text) == (0.3, "bottom-right", "© {name} · @{handle}")
    designer.save(load("lily"), {"opacity": None, "position": "top"})  # None: back to the default
    wm = load("lily").watermark
    assert (wm.opacity, wm.position) == (0.4, "top")
    assert "opacity" not in studio.profile_file.read_text(encoding="utf-8")


def test_rewrite_keeps_an_unusual_file_right() -> None:
    want = {"account": {"name": "A"}, "watermark": {"opacity": 0.3}}
    appended = rewrite_section('[account]\nname = "A"', "watermark", {"opacity": 0.3}, want)
    assert appended == '[account]\nname = "A"\n\n[watermark]\nopacity = 0.3\n'
    crlf = rewrite_section(
        '[account]\r\nname = "A"\r\n[watermark]\r\nopacity = 0.5 # hm\r\n',
        "watermark",
        {"opacity": 0.3},
        want,
    )
    assert crlf == '[account]\r\nname = "A"\r\n[watermark]\r\nopacity = 0.3 # hm\r\n'
    # a value over several lines: the file is written whole, its values right
    want = {"watermark": {"text": "x", "opacity": 0.3}}
    multi = rewrite_section(
        '[watermark]\ntext = """\nx"""\nopacity = 0.5\n', "watermark", {"text": "x", "opacity": 0.3}, want
    )
    import tomllib

    assert tomllib.loads(multi) == want


# -- the logo ----------------------------------------------------------------------------------------


def logo_png(transparent: bool = True) -> bytes:
    im = Image.new("RGBA", (400, 200), (0, 0, 0, 0) if transparent else (255, 255, 255, 255))
    for x in range(40, 360):
        for y in range(60, 140):
            im.putpixel((x, y), (230, 40, 90, 255))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def test_a_logo_is_kept_in_the_state_folder_and_marks_the_preview(lily: Any, studio: Studio) -> None:
    stored = designer.store_logo(lily, logo_png(), "brand.png")
    assert stored.path.parent == state_dir("lily") / "watermark"
    assert designer.LOGO_NAME.match(stored.name) and stored.transparent
    with Image.open(stored.path) as im:
        assert im.format == "PNG" and im.mode == "RGBA" and im.size == (400, 200)
    assert not [p for p in stored.path.parent.iterdir() if p.name.endswith(".keepmark-tmp")]
    form = designer.form_of(lily.watermark)
    s = sample_of(lily, "landscape")
    plain = picture(designer.preview(lily, form, s["id"]))
    branded = picture(designer.preview(lily, {**form, "logo": stored.name}, s["id"]))
    base = designer.base_of(lily, s["id"])[1]
    with_logo, without = mark_box(branded, base), mark_box(plain, base)
    height = without[3] - without[1]
    # the logo (twice as wide as tall) goes before the text, at the text's height
    assert with_logo[2] - with_logo[0] > (without[2] - without[0]) + height * 1.5, (with_logo, without)
    designer.save(lily, {**form, "logo": stored.name})
    assert load("lily").watermark.logo == stored.path
    assert check("lily").ok
    assert not designer.store_logo(lily, logo_png(False), "flat.png").transparent


def test_a_logo_that_is_no_picture_or_too_large_is_refused(lily: Any) -> None:
    with pytest.raises(UsageError, match=r"watermark\.logo: notes\.png is not a picture"):
        designer.store_logo(lily, b"this is text, not a PNG" * 40, "notes.png")
    with pytest.raises(UsageError, match=r"watermark\.logo: big\.png is .* at most 5 MB"):
        designer.store_logo(lily, logo_png() + os.urandom(designer.LOGO_LIMIT), "big.png")
    with pytest.raises(UsageError, match="empty"):
        designer.store_logo(lily, b"", "empty.png")


# -- the API of a real `backup ui` ------------------------------------------------------------------


def test_the_api_previews_saves_uploads_and_stamps(studio: Studio) -> None:
    studio.restore()
    with running_ui(studio.home, "-p", "lily") as ui:
        cookie, csrf = session_of(ui)
        headers = {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"}

        def post(path: str, doc: Any, **extra: str) -> Any:
            return ui.request("POST", path, headers={**headers, **extra}, body=json.dumps(doc))

        doc = ui.bearer("/api/watermark").json()
        form, sample = doc["form"], doc["samples"][0]["id"]
        page = ui.get("/watermark", headers={"Cookie": cookie})
        assert page.status == 200 and 'id="wm-preview"' in page.text

        shown = post("/api/watermark/preview", {"sample": sample, "form": form})
        assert shown.status == 200 and shown.header("content-type") == "image/jpeg"
        assert picture(shown.body).size[0] == designer.PREVIEW_SIDE
        no_csrf = ui.request(
            "POST",
            "/api/watermark/preview",
            headers={"Cookie": cookie, "Content-Type": "application/json"},
            body=json.dumps({"sample": sample, "form": form}),
        )
        assert no_csrf.status == 403
        bad = post("/api/watermark/preview", {"sample": sample, "form": {**form, "opacity": 3}})
        assert bad.status == 400 and bad.json()["problems"][0]["key"] == "watermark.opacity"

        before = studio.profile_file.read_bytes()
        refused = post("/api/watermark", {"form": {**form, "position": "nowhere"}})
        assert refused.status == 400, refused.text
        assert [p["key"] for p in refused.json()["problems"]] == ["watermark.position"]
        assert studio.profile_file.read_bytes() == before
        assert post("/api/watermark", {"nope": 1}).status == 400

        boundary = "----keepmark-test"

        def upload(data: bytes, name: str) -> Any:
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="logo"; filename="{name}"\r\n'
                    "Content-Type: image/png\r\n\r\n"
                ).encode()
                + data
                + f"\r\n--{boundary}--\r\n".encode()
            )
            return ui.request(
                "POST",
                "/api/watermark/logo",
                headers={
                    "Cookie": cookie,
                    "X-CSRF-Token": csrf,
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                },
                body=body,
            )

        assert upload(b"%PDF-1.4 not a picture", "x.png").status == 400
        assert upload(os.urandom(designer.LOGO_LIMIT + 1), "huge.png").status == 413
        took = upload(logo_png(), "brand.png")
        assert took.status == 200, took.text
        logo = took.json()["logo"]
        assert (state_dir("lily") / "watermark" / logo).is_file()

        saved = post("/api/watermark", {"form": {**form, "logo": logo, "opacity": 0.5}})
        assert saved.status == 200, saved.text
        assert load("lily").watermark.opacity == 0.5

        started = post("/api/watermark/stamp", {})
        assert started.status == 202 and started.json()["kind"] == "stamp"
        job_id = started.json()["id"]
        deadline = time.monotonic() + 120
        while True:
            jobs = {j["id"]: j for j in ui.bearer("/api/jobs").json()["jobs"]}
            if jobs[job_id]["state"] != "running" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        job = jobs[job_id]
        assert job["state"] == "done", job
        assert len(job["result"]["stamped"]) == 4, job["result"]
        copies = sorted(p.name for p in studio.out.rglob("*") if p.is_file())
        assert copies == ["clip.mp4", "land.jpg", "night.jpg", "portrait.jpg"], copies
