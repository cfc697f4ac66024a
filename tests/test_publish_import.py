"""``backup publish import``: publications read from a platform's own export, each media file
matched to its original as ``backup prove`` matches a repost, and recorded in the ledger.

The exports are made here, in the documented shape of each platform (copied from nowhere): an
Instagram "Download your information" export in JSON (zip and folder, both layouts, captions
written as Instagram writes them: each UTF-8 byte as its own ``\\u00XX``), a TikTok data export
(``user_data_tiktok.json``: Video -> Videos -> VideoList), and a hand-kept CSV. The published
files are real photos of the test corpus (tests/kit/photos.py) as a platform serves them: 1080
px wide, JPEG quality 70-80; the originals are the same photos at camera size."""

from __future__ import annotations

import hashlib
import io
import json
import random
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import run_backup
from tests.kit.photos import photo

XHS = "https://www.xiaohongshu.com/explore/664f0a1b000000001e03c7d9"
TIKTOK_POST = "https://www.tiktok.com/@lily.shoots/video/7368123456789012345"
TIKTOK_OTHER = "https://www.tiktokv.com/share/video/7369999999999999999/"

SUNSET = "海边的日落 🌅 #sunset\nShot on the pier, 5 a.m."
CAFE = "Café trip — 两张照片"


def camera_original(name: str, path: Path, fmt: str = "JPEG") -> Path:
    """A real photo as a camera would keep it: 1600 px wide."""
    im = photo(name)
    big = im.resize((1600, round(im.height * 1600 / im.width)), Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "JPEG":
        big.save(path, "JPEG", quality=92)
    else:
        big.save(path, fmt)
    return path


def as_served(source: Path | str, rng: random.Random) -> bytes:
    """What a platform serves and exports: 1080 px wide, JPEG quality 70-80."""
    if isinstance(source, Path):
        with Image.open(source) as im:
            rgb = im.convert("RGB")
    else:
        rgb = photo(source)
    small = rgb.resize((1080, round(rgb.height * 1080 / rgb.width)), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=rng.randint(70, 80))
    return buf.getvalue()


def mojibake(text: str) -> str:
    """Text as Instagram's export writes it: every UTF-8 byte a character of its own."""
    return text.encode("utf-8").decode("latin-1")


def instagram_posts(media: dict[str, bytes]) -> list[dict[str, Any]]:
    """posts_1.json: a single photo with its caption on the media, a carousel of two with the
    caption and time on the post, a photo never recorded, one whose file the export lacks, and
    one whose picture two originals hold."""
    return [
        {
            "media": [
                {
                    "uri": "media/posts/202405/17912345678901234.jpg",
                    "creation_timestamp": 1715682153,
                    "media_metadata": {"photo_metadata": {"exif_data": [{"latitude": -33.8}]}},
                    "title": mojibake(SUNSET),
                    "cross_post_source": {"source_app": "FB"},
                }
            ]
        },
        {
            "media": [
                {
                    "uri": "media/posts/202405/17912345678901301.jpg",
                    "creation_timestamp": 1715768553,
                    "title": "",
                },
                {
                    "uri": "media/posts/202405/17912345678901302.jpg",
                    "creation_timestamp": 1715768553,
                    "title": "",
                },
            ],
            "title": mojibake(CAFE),
            "creation_timestamp": 1715768553,
        },
        {"media": [{"uri": "media/posts/202406/17900000000000001.jpg", "creation_timestamp": 1717200000}]},
        {"media": [{"uri": "media/posts/202406/17900000000000404.jpg", "creation_timestamp": 1717300000}]},
        {"media": [{"uri": "media/posts/202406/17900000000000777.jpg", "creation_timestamp": 1717400000}]},
    ]


def instagram_media(sources: Path) -> dict[str, bytes]:
    rng = random.Random(16)
    return {
        "media/posts/202405/17912345678901234.jpg": as_served(sources / "astronaut.jpg", rng),
        "media/posts/202405/17912345678901301.jpg": as_served(sources / "chelsea.jpg", rng),
        "media/posts/202405/17912345678901302.jpg": as_served(sources / "rocket.jpg", rng),
        "media/posts/202406/17900000000000001.jpg": as_served("coffee.png", rng),  # never recorded
        "media/posts/202406/17900000000000777.jpg": as_served(sources / "grass.png", rng),
    }


def write_instagram(dest: Path, media: dict[str, bytes], *, layout: str = "new", top: str = "") -> Path:
    """The export as a zip (``dest`` ends with .zip) or a folder. ``layout`` "old": content/
    at the top rather than your_instagram_activity/content/."""
    folder = "content" if layout == "old" else "your_instagram_activity/content"
    files: dict[str, bytes] = {f"{top}{name}": data for name, data in media.items()}
    files[f"{top}{folder}/posts_1.json"] = json.dumps(instagram_posts(media), indent=2).encode("ascii")
    files[f"{top}personal_information/personal_information/personal_information.json"] = (
        b'{"profile_user": []}'
    )
    if dest.suffix == ".zip":
        with zipfile.ZipFile(dest, "w") as z:
            for name, data in files.items():
                z.writestr(name, data)
    else:
        for name, data in files.items():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(data)
    return dest


@pytest.fixture
def library(home: Path, sources: Path, profile: str) -> Path:
    """Four camera originals recorded, and one picture recorded twice (a PNG and a TIFF of the
    same pixels: two originals equally close to any copy of it)."""
    for name in ("astronaut.png", "chelsea.png", "rocket.jpg"):
        camera_original(name, sources / f"{Path(name).stem}.jpg")
    camera_original("grass.png", sources / "grass.png", "PNG")
    camera_original("grass.png", sources / "grass.tiff", "TIFF")
    scan = run_backup("inventory", "scan")
    assert scan.code == 0, scan
    return sources


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_instagram_export(library: Path, tmp_path: Path, cli: Any) -> None:
    media = instagram_media(library)
    export = write_instagram(tmp_path / "instagram-lily.shoots-2024-06-20-aBcD1234.zip", media)

    r = cli("publish", "import", "--json", str(export))
    assert r.code == 1, r  # some unmatched and one ambiguous
    doc = r.json()
    assert doc["format"] == "instagram" and doc["export"] == str(export) and doc["ok"] is False
    assert doc["counts"] == {
        "items": 6,
        "recorded": 3,
        "already": 0,
        "unmatched": 2,
        "ambiguous": 1,
        "failed": 0,
    }
    by_media = {i["media"]: i for i in doc["items"]}
    sunset = by_media["media/posts/202405/17912345678901234.jpg"]
    assert sunset["status"] == "recorded" and sunset["path"] == str(library / "astronaut.jpg")
    assert sunset["method"] in ("perceptual", "features") and sunset["confidence"] >= 0.75
    assert sunset["caption"] == SUNSET  # Instagram's escaped bytes read back as UTF-8
    assert sunset["date"] == "2024-05-14T10:22:33Z" and sunset["url"] is None
    assert sunset["export_sha256"] == sha(media["media/posts/202405/17912345678901234.jpg"])
    carousel = [by_media[f"media/posts/202405/1791234567890130{n}.jpg"] for n in (1, 2)]
    assert [c["path"] for c in carousel] == [str(library / "chelsea.jpg"), str(library / "rocket.jpg")]
    assert [c["caption"] for c in carousel] == [CAFE, CAFE]
    assert all(c["date"] == "2024-05-15T10:22:33Z" for c in carousel)
    never = by_media["media/posts/202406/17900000000000001.jpg"]
    assert never["status"] == "unmatched" and "no original" in never["reason"]
    missing = by_media["media/posts/202406/17900000000000404.jpg"]
    assert (missing["status"], missing["reason"]) == ("unmatched", "not in the export")
    tie = by_media["media/posts/202406/17900000000000777.jpg"]
    assert tie["status"] == "ambiguous"
    assert sorted(c["path"] for c in tie["candidates"]) == [
        str(library / "grass.png"),
        str(library / "grass.tiff"),
    ]

    listed = cli("publish", "list", "--json").json()
    assert listed["count"] == 3
    first = listed["publications"][0]
    assert first["source"] == "import" and first["export"] == export.name
    assert first["caption"] == SUNSET and first["url"] is None and first["platform"] == "Instagram"
    assert first["export_sha256"] == sunset["export_sha256"] and first["path"] == sunset["path"]
    assert first["media"] == "media/posts/202405/17912345678901234.jpg"
    assert cli("ledger", "verify").code == 0

    # Text: one line an item, then the counts.
    text = cli("publish", "import", str(export), env={"TZ": "UTC"})
    assert text.code == 1, text
    lines = text.out.splitlines()
    assert lines[-1].startswith("0 recorded, 3 already recorded, 2 unmatched, 1 ambiguous, 0 unreadable")
    assert any(
        line.startswith("already") and f"17912345678901234.jpg -> {library / 'astronaut.jpg'}" in line
        for line in lines
    )
    assert any(
        "equally close to" in line
        and "grass.png" in line
        and "grass.tiff" in line
        and "none recorded" in line
        for line in lines
    ), lines

    # The same export as an extracted folder in the older layout, under one top folder, this
    # time with the file the zip lacked: the same publications are recorded already, and the
    # one whose file is there now is recorded.
    late = "media/posts/202406/17900000000000404.jpg"
    folder = write_instagram(
        tmp_path / "extracted",
        {**media, late: as_served(library / "rocket.jpg", random.Random(4))},
        layout="old",
        top="instagram-lily/",
    )
    again = cli("publish", "import", "--json", str(folder)).json()
    assert again["counts"]["recorded"] == 1 and again["counts"]["already"] == 3
    assert cli("publish", "list", "--json").json()["count"] == 4

    # What stays unmatched is a finding for `backup check`.
    from backup.app.profiles import load
    from backup.app.publish_import import unmatched_publications

    found = unmatched_publications(load("lily"))
    assert [(f["status"], f["media"]) for f in found] == [
        ("unmatched", "media/posts/202406/17900000000000001.jpg"),
        ("ambiguous", "media/posts/202406/17900000000000777.jpg"),
    ]
    assert found[0]["platform"] == "Instagram" and found[0]["date"] == "2024-06-01T00:00:00Z"
    assert found[0]["reason"] == "no original in the inventory is close enough"
    assert len(found[1]["candidates"]) == 2

    # Once the photo is recorded, an import matches it and the finding goes; the zip that
    # lacks a file recorded from the folder does not make it unmatched again.
    shutil.copy(_png_of("coffee.png", tmp_path), library / "coffee.png")
    assert cli("inventory", "scan").code == 0
    third = cli("publish", "import", "--json", str(export)).json()
    assert third["counts"]["recorded"] == 1 and third["counts"]["already"] == 4
    assert [f["media"] for f in unmatched_publications(load("lily"))] == [
        "media/posts/202406/17900000000000777.jpg"
    ]


def _png_of(name: str, tmp_path: Path) -> Path:
    path = tmp_path / "camera" / name
    return camera_original(name, path, "PNG")


def test_csv_and_tiktok(library: Path, tmp_path: Path, cli: Any) -> None:
    stamped = cli("stamp", "--json")
    assert stamped.code == 0, stamped
    copy = next(Path(stamped.json()["output"]).rglob("astronaut*.jpg"))
    downloads = tmp_path / "records"
    downloads.mkdir()
    served = as_served(library / "chelsea.jpg", random.Random(3))
    (downloads / "chelsea from tiktok.jpg").write_bytes(served)
    rows = [
        "Date,URL,File,Caption",
        f"2024/5/20,{XHS},{copy},周末的海边 ☀️",
        f'2024-05-21,{TIKTOK_POST},chelsea from tiktok.jpg,"cat, café"',
        "",
        f"2024-05-22T09:30:00+08:00,https://weibo.com/1234567890/O8abcdEfg,{library / 'rocket.jpg'},",
    ]
    sheet = downloads / "published.csv"
    sheet.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode("utf-8"))  # as Excel saves "CSV UTF-8"

    from backup.app.profiles import load
    from backup.app.publish_import import import_export, unmatched_publications
    from inventory.progress import Event, FileDone, Finished, Progress, Started

    events: list[Event] = []
    done = import_export(load("lily"), str(sheet), progress=Progress(events.append))
    assert done.ok and done.format == "csv"
    assert [(i["status"], i["platform"], i["date"]) for i in done.items] == [
        ("recorded", "Xiaohongshu", "2024-05-20"),
        ("recorded", "TikTok", "2024-05-21"),
        ("recorded", "Weibo", "2024-05-22T01:30:00Z"),
    ]
    xhs, tiktok, weibo = done.items
    assert xhs["path"] == str(library / "astronaut.jpg") and xhs["method"] == "exact"
    assert xhs["copy"] == xhs["export_sha256"] == sha(copy.read_bytes()) and xhs["caption"] == "周末的海边 ☀️"
    assert tiktok["path"] == str(library / "chelsea.jpg") and tiktok["caption"] == "cat, café"
    assert tiktok["export_sha256"] == sha(served) and tiktok["copy"] is None
    assert weibo["method"] == "exact" and weibo["caption"] is None
    started = [e for e in events if isinstance(e, Started)]
    assert [(e.stage, e.files, e.unit) for e in started] == [("import", 3, "files")]
    assert len([e for e in events if isinstance(e, FileDone)]) == 3 and isinstance(events[-1], Finished)

    # TikTok's export: the videos posted, with no media. One is the CSV's post (its link is
    # recorded); the other is published with no original on record.
    export = tmp_path / "TikTok_Data_1718000000"
    export.mkdir()
    user_data = {
        "Profile": {"Profile Information": {"ProfileMap": {"userName": "lily.shoots"}}},
        "Video": {
            "Videos": {
                "VideoList": [
                    {"Date": "2024-05-21 11:02:09", "Link": TIKTOK_POST, "Likes": "1204"},
                    {"Date": "2024-06-02 20:15:00", "Link": TIKTOK_OTHER, "Likes": "17"},
                ]
            }
        },
    }
    (export / "user_data_tiktok.json").write_text(json.dumps(user_data, indent=2))
    r = cli("publish", "import", "--json", str(export))
    assert r.code == 1, r
    doc = r.json()
    assert doc["format"] == "tiktok" and doc["counts"]["already"] == 1 and doc["counts"]["unmatched"] == 1
    known, unknown = doc["items"]
    assert known["status"] == "already" and known["path"] == str(library / "chelsea.jpg")
    assert unknown == {
        **unknown,
        "status": "unmatched",
        "platform": "TikTok",
        "date": "2024-06-02T20:15:00Z",
        "url": TIKTOK_OTHER,
        "media": None,
    }
    assert [(f["platform"], f["url"], f["date"]) for f in unmatched_publications(load("lily"))] == [
        ("TikTok", TIKTOK_OTHER, "2024-06-02T20:15:00Z")
    ]
    text = cli("publish", "import", str(export / "user_data_tiktok.json"))
    assert text.code == 1 and f"{TIKTOK_OTHER}: the export holds no media file for it" in text.out, text

    # The CSV again: nothing recorded twice, exit 0.
    twice = cli("publish", "import", "--json", str(sheet))
    assert twice.code == 0, twice
    assert twice.json()["counts"] == {
        "items": 3,
        "recorded": 0,
        "already": 3,
        "unmatched": 0,
        "ambiguous": 0,
        "failed": 0,
    }
    # A row that names no file, or a file that is not there: unmatched, each saying why.
    more = downloads / "more.csv"
    more.write_text(
        f"date,url,file\n2024-06-03,{XHS}1,\n2024-06-04,{XHS}2,gone.jpg\n2024-05-21,{TIKTOK_POST},\n",
        encoding="utf-8",
    )
    r = cli("publish", "import", "--json", str(more))
    assert r.code == 1, r
    assert [(i["status"], i.get("reason")) for i in r.json()["items"]] == [
        ("unmatched", "the row names no file"),
        ("unmatched", "no such file"),
        ("already", None),  # its link is recorded: the same post
    ]

    listed = cli("publish", "list", env={"TZ": "UTC"})
    lines = listed.out.splitlines()
    assert len(lines) == 3, listed
    assert lines[0].startswith(f"2024-05-20  Xiaohongshu  {XHS}  {library / 'astronaut.jpg'} (stamped copy ")
    assert "(imported from published.csv)  “周末的海边 ☀️”  [entry " in lines[0]


def _bad(cli: Any, path: Path, *expected: str) -> None:
    r = cli("publish", "import", str(path))
    assert r.code == 2, r
    assert r.out == "" and len(r.err.strip().splitlines()) == 1, r
    for text in expected:
        assert text in r.err, r


def test_a_bad_export_is_one_line(profile: str, tmp_path: Path, cli: Any) -> None:
    corrupt = tmp_path / "instagram-lily.zip"
    corrupt.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    _bad(cli, corrupt, str(corrupt), "not a readable zip file")

    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("your_instagram_activity/content/posts_1.json", '[{"media": [}')
    _bad(cli, broken, "your_instagram_activity/content/posts_1.json", "not valid JSON", "line 1")

    shape = tmp_path / "shape"
    (shape / "content").mkdir(parents=True)
    (shape / "content" / "posts_1.json").write_text('{"media": []}')
    _bad(cli, shape, "content/posts_1.json", "expected a list of posts")

    (shape / "content" / "posts_1.json").write_text('[{"media": [{"uri": "media/x.jpg"}]}]')
    _bad(cli, shape, "post 1", "creation_timestamp")

    unknown = tmp_path / "holiday"
    unknown.mkdir()
    (unknown / "notes.txt").write_text("hello")
    _bad(cli, unknown, str(unknown), "not an export Keepmark reads")

    tiktok = tmp_path / "user_data_tiktok.json"
    tiktok.write_text('{"Video": {"Favorite Videos": {}}}')
    _bad(cli, tiktok, str(tiktok), "VideoList")
    tiktok.write_text(
        '{"Video": {"Videos": {"VideoList": [{"Date": "14/05/2024", "Link": "https://t.co/x"}]}}}'
    )
    _bad(cli, tiktok, "VideoList item 1", "Date")

    sheet = tmp_path / "sheet.csv"
    sheet.write_text("2024-05-14,https://www.xiaohongshu.com/explore/1,a.jpg\n")
    _bad(cli, sheet, f"{sheet}: line 1", "date,url,file")
    sheet.write_text(
        "date,url,file\n2024-05-14,https://www.xiaohongshu.com/explore/1,a.jpg\nyesterday,,b.jpg\n"
    )
    _bad(cli, sheet, f"{sheet}: line 3", "date")
    sheet.write_text("date,url,file\n2024-05-14,https://example.com/p/1,a.jpg\n")
    _bad(cli, sheet, "line 2", "add a platform column")
    sheet.write_bytes("date,url,file,caption\n2024-05-14,https://weibo.com/1,a.jpg,海边\n".encode("gbk"))
    _bad(cli, sheet, str(sheet), "not UTF-8")

    r = cli("publish", "import", "--json", str(corrupt))
    assert r.code == 2 and r.json()["ok"] is False and str(corrupt) in r.json()["error"], r


def test_readers(tmp_path: Path) -> None:
    """The readers alone: mojibake, TikTok's other shapes, a slideshow's links, empty lists."""
    from backup.app.exports import csv_date, fix_mojibake, open_export, platform_of

    assert fix_mojibake(mojibake("Café ☕ 咖啡")) == "Café ☕ 咖啡"
    assert fix_mojibake("already fine: 咖啡") == "already fine: 咖啡"
    assert fix_mojibake("Ã") == "Ã"  # not UTF-8 as bytes: kept
    assert csv_date("2024/5/4") == "2024-05-04" and csv_date("2024-02-30") is None
    assert csv_date("2024-05-04 08:00") == "2024-05-04T08:00:00"
    assert (
        platform_of("https://xhslink.com/a/b") == "Xiaohongshu" and platform_of("https://a.example") is None
    )

    older = tmp_path / "user_data.json"
    slideshow = "https://p16.tiktokcdn.com/a.jpeg\nhttps://p16.tiktokcdn.com/b.jpeg"
    doc = {
        "Activity": {"Post": {"Posts": {"VideoList": [{"Date": "2023-01-02 03:04:05", "Link": slideshow}]}}}
    }
    older.write_text(json.dumps(doc))
    with open_export(older) as ex:
        assert ex.format == "tiktok"
        [item] = ex.items
        assert (item.url, item.date, item.media) == (
            "https://p16.tiktokcdn.com/a.jpeg",
            "2023-01-02T03:04:05Z",
            None,
        )
    older.write_text('{"Video": {"Videos": {"VideoList": null}}}')
    with open_export(older) as ex:
        assert ex.items == []

    # A TikTok export with the video saved beside it, under the name tools give it.
    folder = tmp_path / "tiktok"
    folder.mkdir()
    (folder / "user_data_tiktok.json").write_text(
        json.dumps(
            {"Video": {"Videos": {"VideoList": [{"Date": "2024-05-14 10:22:33", "Link": TIKTOK_POST}]}}}
        )
    )
    (folder / "videos").mkdir()
    (folder / "videos" / "2024-05-14_10-22-33.mp4").write_bytes(b"not really a video")
    with open_export(folder) as ex:
        [item] = ex.items
        assert item.media == "videos/2024-05-14_10-22-33.mp4"
        with ex.media_file(item) as local:
            assert local is not None and local.read_bytes() == b"not really a video"

    # A uri that climbs out of the export is not one of its files.
    insta = tmp_path / "insta"
    (insta / "your_instagram_activity" / "content").mkdir(parents=True)
    (tmp_path / "secret.jpg").write_bytes(b"x")
    posts = [{"media": [{"uri": "../secret.jpg", "creation_timestamp": 1715682153}]}]
    (insta / "your_instagram_activity" / "content" / "posts_1.json").write_text(json.dumps(posts))
    with open_export(insta) as ex:
        [item] = ex.items
        with ex.media_file(item) as local:
            assert local is None


def test_an_unreadable_media_file_is_reported(profile: str, tmp_path: Path, cli: Any) -> None:
    """A media file the export holds but that does not decode: that item fails, named, exit 1;
    nothing is remembered as unmatched (it may well have an original)."""
    assert cli("inventory", "scan").code == 0
    export = tmp_path / "export"
    uri = "media/posts/202405/17911111111111111.jpg"
    (export / "media" / "posts" / "202405").mkdir(parents=True)
    (export / uri).write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)  # a JPEG that stops short
    (export / "your_instagram_activity" / "content").mkdir(parents=True)
    posts = [{"media": [{"uri": uri, "creation_timestamp": 1715682153, "title": "x"}]}]
    (export / "your_instagram_activity" / "content" / "posts_1.json").write_text(json.dumps(posts))
    r = cli("publish", "import", str(export))
    assert r.code == 1, r
    assert r.err.startswith(f"backup: error: {uri}: "), r
    assert "0 recorded, 0 already recorded, 0 unmatched, 0 ambiguous, 1 unreadable" in r.out, r
    doc = cli("publish", "import", "--json", str(export)).json()
    assert doc["counts"]["failed"] == 1 and doc["items"][0]["reason"].startswith(uri)

    from backup.app.profiles import load
    from backup.app.publish_import import unmatched_publications

    assert unmatched_publications(load("lily")) == []


@pytest.mark.slow
def test_videos_from_instagram_reels_and_tiktok(
    home: Path, sources: Path, profile: str, tmp_path: Path
) -> None:
    """A reel in Instagram's reels.json and a TikTok video saved beside the export, each a
    smaller re-encode of a recorded video, matched by its frames."""
    from tests.kit.videos import cut_clip, pan_video

    original = pan_video(sources / "harbour.mp4", ["rocket.jpg", "chelsea.png"], seconds=6)
    assert run_backup("inventory", "scan").code == 0, "scan"
    insta = tmp_path / "instagram"
    uri = "media/reels/202405/18000000000000001.mp4"
    (insta / uri).parent.mkdir(parents=True)
    cut_clip(original, insta / uri, 0, 6, width=480, crf=28)
    content = insta / "your_instagram_activity" / "content"
    content.mkdir(parents=True)
    (content / "posts_1.json").write_text("[]")
    reels = {"ig_reels_media": [{"media": [{"uri": uri, "creation_timestamp": 1715682153, "title": "reel"}]}]}
    (content / "reels.json").write_text(json.dumps(reels))
    r = run_backup("publish", "import", "--json", str(insta))
    assert r.code == 0, r
    [item] = r.json()["items"]
    assert (item["status"], item["method"], item["path"]) == ("recorded", "video", str(original))

    tiktok = tmp_path / "tiktok"
    tiktok.mkdir()
    videos = {"VideoList": [{"Date": "2024-05-16 08:00:00", "Link": TIKTOK_POST, "Likes": "3"}]}
    (tiktok / "user_data_tiktok.json").write_text(json.dumps({"Video": {"Videos": videos}}))
    cut_clip(original, tiktok / "2024-05-16_08-00-00.mp4", 1, 4, width=360)
    r = run_backup("publish", "import", "--json", str(tiktok))
    assert r.code == 0, r
    [item] = r.json()["items"]
    assert (item["status"], item["url"], item["path"]) == ("recorded", TIKTOK_POST, str(original))
    listed = run_backup("publish", "list", "--json", str(original)).json()
    assert [(p["platform"], p["url"]) for p in listed["publications"]] == [
        ("Instagram", None),
        ("TikTok", TIKTOK_POST),
    ]
