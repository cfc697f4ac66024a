"""``backup stamp`` as a creator runs it: copies mirrored into the output folder, recorded in
the inventory and the ledger, skipped when already made, and bad input reported file by file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from tests.conftest import run_backup
from tests.kit import media
from tests.kit.hashing import file_sha256 as sha


@pytest.fixture
def studio(home: Path, tmp_path: Path) -> tuple[Path, Path]:
    sources = tmp_path / "Shoots"
    out = tmp_path / "Stamped"
    media.jpeg(sources / "a.jpg", size=(1200, 900), seed=1)
    media.heic(sources / "Album" / "b.heic", size=(800, 600), seed=2)
    media.png(sources / "Album" / "c.png", size=(600, 400), seed=3)
    (sources / "caption.txt").write_text("not a picture")
    r = run_backup(
        "init",
        "lily",
        "--account",
        "Lily Chen",
        "--handle",
        "lily.shoots",
        "--source",
        str(sources),
        "--output",
        str(out),
    )
    assert r.code == 0, r
    return sources, out


def set_watermark(home: Path, **values: object) -> None:
    path = home / "profiles" / "lily.toml"
    text = path.read_text(encoding="utf-8")
    lines = []
    for key, value in values.items():
        rendered = (
            f'"{value}"'
            if isinstance(value, str)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
        lines.append(f"{key} = {rendered}")
        text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} ="))
    path.write_text(
        text.replace("[watermark]\n", "[watermark]\n" + "\n".join(lines) + "\n"), encoding="utf-8"
    )


def test_stamp_writes_mirrored_copies_and_records_them(home: Path, studio: tuple[Path, Path]) -> None:
    sources, out = studio
    originals = {p: sha(p) for p in sources.rglob("*") if p.is_file()}
    r = run_backup("stamp", "-p", "lily", "--json")
    assert r.code == 0, r
    doc = r.json()
    assert doc["failed"] == [] and doc["skipped"] == []
    pairs = {Path(s["source"]).name: Path(s["output"]) for s in doc["stamped"]}
    assert set(pairs) == {"a.jpg", "b.heic", "c.png"}
    assert pairs["a.jpg"] == out / "Shoots" / "a.jpg"
    assert pairs["b.heic"] == out / "Shoots" / "Album" / "b.heic"
    for name, dst in pairs.items():
        assert dst.is_file(), name
    assert {p: sha(p) for p in originals} == originals, "originals are never modified"
    stamped = Image.open(out / "Shoots" / "a.jpg").convert("L")
    plain = Image.open(sources / "a.jpg").convert("L")
    corner = (1200 - 300, 900 - 90, 1200, 900)
    diff = (
        ImageStat.Stat(Image.eval(Image.merge("L", [stamped.crop(corner)]), lambda v: v)).mean[0]
        - ImageStat.Stat(plain.crop(corner)).mean[0]
    )
    assert abs(diff) > 2, "the default text mark is in the bottom-right corner"
    # Recorded: each copy is a derivative of its original, with a ledger entry.
    shown = run_backup("inventory", "show", str(sources / "a.jpg"), "-p", "lily", "--json").json()
    assert len(shown["derivatives"]) == 1
    assert shown["derivatives"][0]["path"] == str(out / "Shoots" / "a.jpg")
    assert shown["derivatives"][0]["sha256"] == sha(out / "Shoots" / "a.jpg")
    assert any(e["type"] == "derivative" for e in shown["ledger"])
    conn = sqlite3.connect(home / "state" / "lily" / "inventory.sqlite")
    assert conn.execute("SELECT count(*) FROM ledger WHERE type = 'derivative'").fetchone()[0] == 3
    assert run_backup("ledger", "verify", "-p", "lily").code == 0
    # The stamped copies are not taken for originals by a scan.
    scan = run_backup("inventory", "scan", "-p", "lily", "--json").json()
    assert scan["new"] == 0
    assert not list(out.rglob("*.keepmark-tmp"))


def test_already_stamped_is_skipped_force_and_style_change_redo(
    home: Path, studio: tuple[Path, Path]
) -> None:
    assert run_backup("stamp", "-p", "lily").code == 0
    again = run_backup("stamp", "-p", "lily", "--json").json()
    assert (len(again["stamped"]), len(again["skipped"])) == (0, 3)
    assert {"source", "output"} <= set(again["skipped"][0])
    forced = run_backup("stamp", "-p", "lily", "--force", "--json").json()
    assert len(forced["stamped"]) == 3
    set_watermark(home, opacity=0.3)
    changed = run_backup("stamp", "-p", "lily", "--json").json()
    assert len(changed["stamped"]) == 3, "a new style makes new copies"


def test_stamp_given_paths_and_out(home: Path, studio: tuple[Path, Path], tmp_path: Path) -> None:
    sources, _ = studio
    other = tmp_path / "elsewhere"
    r = run_backup("stamp", str(sources / "Album"), "--out", str(other), "-p", "lily", "--json")
    assert r.code == 0, r
    assert sorted(Path(s["output"]).relative_to(other).as_posix() for s in r.json()["stamped"]) == [
        "Shoots/Album/b.heic",
        "Shoots/Album/c.png",
    ]


def test_output_inside_the_sources_is_refused_unless_a_suffix_is_set(
    home: Path, studio: tuple[Path, Path]
) -> None:
    sources, _ = studio
    r = run_backup("stamp", "--out", str(sources / "Stamped"), "-p", "lily")
    assert r.code == 2 and "inside the source folder" in r.err and "suffix" in r.err
    assert not (sources / "Stamped").exists(), "found before the first file is processed"
    set_watermark(home, suffix="-wm", output=str(sources))
    r = run_backup("stamp", "-p", "lily", "--json")
    assert r.code == 0, r
    names = sorted(Path(s["output"]).name for s in r.json()["stamped"])
    assert names == ["a-wm.jpg", "b-wm.heic", "c-wm.png"]
    again = run_backup("stamp", "-p", "lily", "--json").json()
    assert again["stamped"] == [], "its own output is never stamped again"
    listed = run_backup("inventory", "list", "-p", "lily", "--json").json()["files"]
    assert not any(f["path"].endswith(("-wm.jpg", "-wm.heic", "-wm.png")) for f in listed)


def test_unwritable_output_is_found_before_any_work(
    home: Path, studio: tuple[Path, Path], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = run_backup("stamp", "--out", str(blocker / "sub"), "-p", "lily")
    assert r.code == 2 and "cannot be written" in r.err
    assert r.err.count("\n") == 1


def test_report_lists_files_in_source_order(home: Path, studio: tuple[Path, Path], tmp_path: Path) -> None:
    """Photos are stamped in parallel and finish in any order: the report does not."""
    sources, _out = studio
    good = media.jpeg(tmp_path / "g.jpg", size=(640, 480))
    for n in (5, 2, 7, 0, 3, 6, 1, 4):
        media.truncated(good, sources / f"bad-{n}.jpg", 0.2 + n / 20)
        media.jpeg(sources / f"ok-{n}.jpg", size=(640 + 40 * n, 480), seed=n)
    r = run_backup("stamp", "-p", "lily", "--json", env={"KEEPMARK_WORKERS": "4"})
    assert r.code == 1, r
    doc = r.json()
    for key in ("stamped", "failed"):
        listed = [item["source"] for item in doc[key]]
        assert listed == sorted(listed) and len(listed) >= 8, (key, listed)


def test_bad_files_are_reported_and_the_batch_goes_on(
    home: Path, studio: tuple[Path, Path], tmp_path: Path
) -> None:
    sources, out = studio
    media.truncated(media.jpeg(tmp_path / "g.jpg", size=(800, 600)), sources / "broken.jpg", 0.3)
    (sources / "zero.png").write_bytes(b"")
    r = run_backup("stamp", "-p", "lily", "--json")
    assert r.code == 1
    failed = {Path(f["source"]).name: f["error"] for f in r.json()["failed"]}
    assert set(failed) == {"broken.jpg", "zero.png"}
    assert "truncated or corrupt" in failed["broken.jpg"] and "empty" in failed["zero.png"]
    assert len(r.json()["stamped"]) == 3
    text = run_backup("stamp", "-p", "lily", "--force")
    assert text.code == 1
    lines = [line for line in text.err.splitlines() if "broken.jpg" in line]
    assert len(lines) == 1 and lines[0].startswith("backup: error: ")
    assert not (out / "Shoots" / "broken.jpg").exists()


def test_a_logo_that_is_not_a_picture(home: Path, studio: tuple[Path, Path], tmp_path: Path) -> None:
    fake = tmp_path / "logo.png"
    fake.write_text("hello")
    set_watermark(home, logo=str(fake))
    r = run_backup("stamp", "-p", "lily", "--json")
    assert r.code == 1
    assert r.json()["failed"][0]["source"] == str(fake) and "not an image" in r.json()["failed"][0]["error"]


def test_chinese_and_emoji_account_names(home: Path, tmp_path: Path) -> None:
    sources = tmp_path / "相册"
    media.jpeg(sources / "海边.jpg", size=(1200, 900))
    assert (
        run_backup(
            "init",
            "mei",
            "--account",
            "林美 🌸",
            "--handle",
            "林美的相机",
            "--source",
            str(sources),
            "--output",
            str(tmp_path / "out"),
        ).code
        == 0
    )
    r = run_backup("stamp", "-p", "mei", "--json")
    assert r.code == 0, r
    assert Path(r.json()["stamped"][0]["output"]).name == "海边.jpg"


def test_videos_are_stamped_and_recorded(home: Path, studio: tuple[Path, Path]) -> None:
    sources, out = studio
    media.video(sources / "Reels" / "teaser.mp4", seconds=1.0, size="320x240")
    r = run_backup("stamp", str(sources / "Reels"), "-p", "lily", "--json")
    assert r.code == 0, r
    copy = out / "Shoots" / "Reels" / "teaser.mp4"
    assert [Path(s["output"]) for s in r.json()["stamped"]] == [copy]
    assert copy.stat().st_size > 0 and sha(copy) != sha(sources / "Reels" / "teaser.mp4")
    shown = run_backup(
        "inventory", "show", str(sources / "Reels" / "teaser.mp4"), "-p", "lily", "--json"
    ).json()
    assert shown["derivatives"][0]["sha256"] == sha(copy)
    again = run_backup("stamp", str(sources / "Reels"), "-p", "lily", "--json").json()
    assert again["stamped"] == [] and len(again["skipped"]) == 1
