"""``backup inventory scan`` on real files: what it records, what it leaves out, what it does
with bad input, and the quick check that keeps re-scans cheap."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from inventory import Inventory
from tests.conftest import run_backup
from tests.kit import media


def db(home: Path, name: str = "lily") -> sqlite3.Connection:
    """The file itself, to check its format."""
    return sqlite3.connect(home / "state" / name / "inventory.sqlite")


def ledger_types(home: Path, name: str = "lily") -> list[str]:
    """The type of every ledger entry, in order."""
    with Inventory.open(home / "state" / name / "inventory.sqlite", create=False) as inv:
        return [e.type for e in inv.ledger_entries(1, inv.ledger_length())]


def listing(name: str = "lily", *extra: str) -> dict[str, dict]:
    r = run_backup("inventory", "list", "-p", name, "--json", *extra)
    assert r.code == 0, r
    return {Path(f["path"]).name: f for f in r.json()["files"]}


def test_scan_records_every_file_with_its_facts(home: Path, sources: Path, profile: str) -> None:
    media.jpeg(sources / "2026-05 Beach" / "sunset.jpg", taken="2026:05:14 19:42:10")
    media.png(sources / "2026-05 Beach" / "flatlay.png")
    media.heic(sources / "2026-05 Beach" / "dunes.heic")
    media.video(sources / "Reels" / "teaser.mp4")
    (sources / "2026-05 Beach" / "caption.txt").write_text("Golden hour 🌅\n", encoding="utf-8")
    (sources / "Reels" / "teaser.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n")
    (sources / "Exports").mkdir()
    (sources / "Exports" / "fans.csv").write_text("date,followers\n2026-06-01,12840\n")
    (sources / "Reels" / "edit.prproj").write_bytes(os.urandom(3000))
    (sources / "README").write_text("no extension")
    r = run_backup("inventory", "scan", "-p", profile, "--json")
    assert r.code == 0, r
    doc = r.json()
    assert (doc["files"], doc["new"], doc["changed"], doc["unchanged"], doc["errors"]) == (9, 9, 0, 0, [])
    files = listing()
    assert len(files) == 9, "one entry per file"
    for f in files.values():
        assert len(f["sha256"]) == 64 and f["first_seen"].endswith("Z") and f["size"] > 0
    expect = {
        "sunset.jpg": ("image", "jpeg"),
        "flatlay.png": ("image", "png"),
        "dunes.heic": ("image", "heic"),
        "teaser.mp4": ("video", "mp4"),
        "caption.txt": ("other", "txt"),
        "teaser.srt": ("other", "srt"),
        "fans.csv": ("other", "csv"),
        "edit.prproj": ("other", "prproj"),
        "README": ("other", ""),
    }
    for name, (kind, fmt) in expect.items():
        assert (files[name]["kind"], files[name]["format"]) == (kind, fmt), name
    assert files["sunset.jpg"]["capture_time"] == "2026-05-14T19:42:10"
    assert (files["sunset.jpg"]["width"], files["sunset.jpg"]["height"]) == (640, 480)
    assert files["teaser.mp4"]["duration_ms"] == 2000
    assert files["teaser.mp4"]["capture_time"] == "2026-06-02T09:30:00Z"
    for name in ("sunset.jpg", "flatlay.png", "dunes.heic", "teaser.mp4"):
        assert files[name]["phash"] and len(files[name]["phash"]) == 16
    assert files["caption.txt"]["phash"] is None
    # The inventory database is SQLite in WAL mode, under the state directory.
    conn = db(home)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert ledger_types(home) == ["original"] * 9


def test_media_recognised_by_content_not_extension(home: Path, sources: Path, profile: str) -> None:
    media.jpeg(sources / "photo.txt")
    media.png(sources / "really-a-png.jpg")
    shutil.copy(Path(__file__).parent / "fixtures" / "clip.mp4", sources / "clip.dat")
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    files = listing()
    assert (files["photo.txt"]["kind"], files["photo.txt"]["format"]) == ("image", "jpeg")
    assert (files["really-a-png.jpg"]["kind"], files["really-a-png.jpg"]["format"]) == ("image", "png")
    assert (files["clip.dat"]["kind"], files["clip.dat"]["format"]) == ("video", "mp4")
    assert files["clip.dat"]["decode_error"] is None


def test_junk_and_ignore_globs_are_left_out(home: Path, sources: Path) -> None:
    assert run_backup(
        "init", "lily", "--account", "L", "--handle", "l", "--source", str(sources),
        "--ignore", "*.lrcat-wal", "--ignore", "Cache", "--ignore", "Drafts/old/*",
    ).code == 0  # fmt: skip
    keep = ["a.txt", "Drafts/new.txt", "Drafts/old.txt"]
    junk = [
        ".DS_Store", "._a.jpg", "Thumbs.db", "desktop.ini", "video.mp4.part", "clip.crdownload",
        "~$notes.docx", "catalog.lrcat-wal", "Cache/thumb.jpg", "Drafts/old/x.txt", "x.tmp",
    ]  # fmt: skip
    for rel in keep + junk:
        (sources / rel).parent.mkdir(parents=True, exist_ok=True)
        (sources / rel).write_bytes(b"content of " + rel.encode())
    r = run_backup("inventory", "scan", "-p", "lily", "--json")
    assert r.code == 0
    assert r.json()["ignored"] >= len(junk) - 1
    assert sorted(f["relpath"] for f in listing().values()) == sorted(keep)


def test_unchanged_file_is_not_read_again(home: Path, sources: Path, profile: str) -> None:
    photo = media.jpeg(sources / "a.jpg")
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    first = listing()["a.jpg"]["sha256"]
    # Same size, same mtime, same inode, different bytes: the quick check says unchanged,
    # so the file is not read and its recorded SHA-256 stays. (This is the rsync trade-off;
    # `backup full` re-reads everything.)
    st = photo.stat()
    data = bytearray(photo.read_bytes())
    data[-3] ^= 0xFF
    with open(photo, "r+b") as f:
        f.write(bytes(data))
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns))
    r = run_backup("inventory", "scan", "-p", profile, "--json")
    doc = r.json()
    assert (doc["new"], doc["changed"], doc["unchanged"], doc["bytes_read"]) == (0, 0, 1, 0)
    assert listing()["a.jpg"]["sha256"] == first


def test_changed_file_gets_new_content_and_keeps_history(home: Path, sources: Path, profile: str) -> None:
    note = sources / "caption.txt"
    note.write_text("first caption")
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    old = listing()["caption.txt"]["sha256"]
    note.write_text("second, longer caption")
    r = run_backup("inventory", "scan", "-p", profile, "--json")
    assert (r.json()["changed"], r.json()["new"]) == (1, 0)
    new = listing()["caption.txt"]["sha256"]
    assert new != old
    shown = run_backup("inventory", "show", old, "-p", profile, "--json").json()
    assert shown["paths"][0]["path"] == str(note) and shown["paths"][0]["current"] is False
    assert run_backup("inventory", "show", new[:10], "-p", profile, "--json").json()["paths"][0]["current"]
    assert ledger_types(home) == ["original"] * 2


def test_moved_and_copied_files_are_new_paths_of_known_content(
    home: Path, sources: Path, profile: str
) -> None:
    media.jpeg(sources / "a.jpg")
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    (sources / "Album").mkdir()
    (sources / "a.jpg").rename(sources / "Album" / "a.jpg")
    shutil.copy(sources / "Album" / "a.jpg", sources / "copy.jpg")
    r = run_backup("inventory", "scan", "-p", profile, "--json")
    assert (r.json()["new"], r.json()["missing"]) == (2, 1)
    files = listing()
    assert set(files) == {"a.jpg", "copy.jpg"} and files["a.jpg"]["relpath"] == "Album/a.jpg"
    assert files["a.jpg"]["sha256"] == files["copy.jpg"]["sha256"]
    everything = run_backup("inventory", "list", "-p", profile, "--all", "--json").json()["files"]
    gone = [f for f in everything if f["path"] == str(sources / "a.jpg")]
    assert gone and gone[0]["missing_since"]
    assert ledger_types(home) == ["original", "path", "path"]
    shown = run_backup("inventory", "show", str(sources / "copy.jpg"), "-p", profile, "--json").json()
    assert len(shown["paths"]) == 3 and len(shown["ledger"]) == 3


BAD = {
    "truncated.jpg": "does not decode as JPEG",
    "random.mp4": "does not decode as MP4",
    "empty.jpg": "empty file",
    "notes.heic": "does not decode as HEIC",
    "cut.mp4": "does not decode as MP4",
    "half.heic": "does not decode as HEIC",
}


def test_bad_media_is_recorded_by_sha256_and_reported(
    home: Path, sources: Path, profile: str, tmp_path: Path
) -> None:
    good = media.jpeg(tmp_path / "good.jpg", size=(800, 600))
    media.truncated(good, sources / "truncated.jpg", 0.4)
    (sources / "random.mp4").write_bytes(os.urandom(5000))
    (sources / "empty.jpg").write_bytes(b"")
    (sources / "notes.heic").write_text("not a photo at all")
    media.truncated(media.video(tmp_path / "v.mp4"), sources / "cut.mp4", 0.3)
    media.truncated(media.heic(tmp_path / "h.heic"), sources / "half.heic", 0.5)
    media.jpeg(sources / "fine.jpg")
    r = run_backup("inventory", "scan", "-p", profile)
    assert r.code == 1, r
    err_lines = r.err.strip().splitlines()
    for name, words in BAD.items():
        lines = [line for line in err_lines if str(sources / name) in line]
        assert len(lines) == 1, (name, r.err)
        assert words in lines[0], (name, lines[0])
    files = listing()
    assert len(files) == 7, "bad files are still recorded"
    for name in BAD:
        assert files[name]["decode_error"] and len(files[name]["sha256"]) == 64
    assert files["fine.jpg"]["decode_error"] is None
    # Nothing changed since: the next scan has nothing to report.
    assert run_backup("inventory", "scan", "-p", profile).code == 0


def test_zero_byte_files_behave(home: Path, sources: Path, profile: str) -> None:
    (sources / "empty.txt").write_bytes(b"")
    (sources / "placeholder.srt").write_bytes(b"")
    r = run_backup("inventory", "scan", "-p", profile, "--json")
    assert r.code == 0 and r.json()["new"] == 2
    files = listing()
    assert files["empty.txt"]["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert files["empty.txt"]["size"] == 0 and files["empty.txt"]["decode_error"] is None
    (sources / "empty.jpg").write_bytes(b"")
    r = run_backup("inventory", "scan", "-p", profile)
    assert r.code == 1 and "empty.jpg: does not decode as JPEG: empty file" in r.err


def test_report_lists_files_in_path_order(home: Path, sources: Path, profile: str) -> None:
    """Files are read in parallel, and their reads end in any order: the report does not."""
    names = [f"{n:02}.jpg" for n in (7, 3, 11, 0, 9, 5, 1, 10, 4, 8, 2, 6)]
    for i, name in enumerate(names):
        (sources / name).write_bytes(b"\xff\xd8\xff" + bytes(i * 50_000))  # JPEG, cut short
    r = run_backup("inventory", "scan", "-p", profile, "--json", env={"KEEPMARK_WORKERS": "4"})
    assert r.code == 1, r
    listed = [Path(item["path"]).name for item in r.json()["undecodable"]]
    assert listed == sorted(names)
    shown = [line for line in r.err.splitlines() if ".jpg" in line]
    assert [Path(line.split(": ")[2]).name for line in shown] == sorted(names), r.err


def test_decompression_bomb_is_refused_not_decoded(home: Path, sources: Path, profile: str) -> None:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    (sources / "bomb.png").write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )
    r = run_backup("inventory", "scan", "-p", profile)
    assert r.code == 1 and "decompression bomb" in r.err and "bomb.png" in r.err


def test_names_in_any_script(home: Path, sources: Path, profile: str) -> None:
    names = [
        "海边日落.jpg",
        "🌅 golden hour.png",
        "Ünïcödé café.txt",
        "tab\tand 'quotes' \"x\" $(touch pwned).txt",
    ]
    (sources / "林美的相册").mkdir()
    media.jpeg(sources / "林美的相册" / names[0])
    media.png(sources / names[1])
    (sources / names[2]).write_text("x")
    (sources / names[3]).write_text("y")
    r = run_backup("inventory", "scan", "-p", profile, "--json")
    assert r.code == 0, r
    files = listing()
    assert set(files) == {Path(n).name for n in names}
    assert files["海边日落.jpg"]["relpath"] == "林美的相册/海边日落.jpg"
    assert not (Path.cwd() / "pwned").exists()
    csv_text = run_backup("inventory", "export", "-p", profile).out
    assert "海边日落.jpg" in csv_text and "🌅 golden hour.png" in csv_text


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlinks_loops_and_special_files(home: Path, sources: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "linked.txt").write_text("linked content")
    (sources / "real.txt").write_text("real")
    (sources / "sub").mkdir()
    (sources / "sub" / "loop").symlink_to(sources, target_is_directory=True)
    (sources / "elsewhere").symlink_to(outside, target_is_directory=True)
    (sources / "dangling.jpg").symlink_to(tmp_path / "nothing-here.jpg")
    (sources / "a").symlink_to(sources / "b")
    (sources / "b").symlink_to(sources / "a")
    os.mkfifo(sources / "pipe.jpg")
    # Not followed (the default): symlinks are skipped, the scan ends, a FIFO is not opened.
    assert run_backup("init", "lily", "--account", "L", "--handle", "l", "--source", str(sources)).code == 0
    r = run_backup("inventory", "scan", "-p", "lily", "--json", timeout=60)
    assert r.code == 0, r
    assert set(listing()) == {"real.txt"}
    # Followed: the loop is entered once, the outside folder is scanned, broken links skipped.
    profile_file = home / "profiles" / "lily.toml"
    profile_file.write_text(
        profile_file.read_text().replace("[sources]\n", "[sources]\nfollow_symlinks = true\n")
    )
    r = run_backup("inventory", "scan", "-p", "lily", "--json", timeout=60)
    assert r.code == 0, r
    assert {f["relpath"] for f in listing().values()} == {"real.txt", "elsewhere/linked.txt"}
    reasons = " ".join(s["reason"] for s in r.json()["skipped"])
    assert "loop" in reasons and "symlink cannot be followed" in reasons and "not a regular file" in reasons


def test_scan_given_paths_only(home: Path, sources: Path, profile: str, tmp_path: Path) -> None:
    (sources / "A").mkdir()
    (sources / "B").mkdir()
    (sources / "A" / "x.txt").write_text("x")
    (sources / "B" / "y.txt").write_text("y")
    r = run_backup("inventory", "scan", str(sources / "A"), "-p", profile, "--json")
    assert r.code == 0 and r.json()["new"] == 1
    assert set(listing()) == {"x.txt"}
    r = run_backup("inventory", "scan", str(sources / "B" / "y.txt"), "-p", profile, "--json")
    assert r.json()["new"] == 1 and r.json()["missing"] == 0
    r = run_backup("inventory", "scan", str(tmp_path), "-p", profile)
    assert r.code == 2 and "not inside any source folder" in r.err


def test_missing_source_folder_is_reported_and_the_others_scanned(
    home: Path, sources: Path, tmp_path: Path
) -> None:
    drive = tmp_path / "External"
    drive.mkdir()
    (sources / "a.txt").write_text("a")
    (drive / "b.txt").write_text("b")
    assert (
        run_backup(
            "init",
            "lily",
            "--account",
            "L",
            "--handle",
            "l",
            "--source",
            str(sources),
            "--source",
            str(drive),
        ).code
        == 0
    )
    assert run_backup("inventory", "scan", "-p", "lily").code == 0
    shutil.rmtree(drive)  # the drive was unplugged
    (sources / "c.txt").write_text("c")
    r = run_backup("inventory", "scan", "-p", "lily", "--json")
    assert r.code == 1
    assert r.json()["new"] == 1 and r.json()["missing"] == 0, (
        "an absent drive does not mark its files missing"
    )
    assert any("not found" in e["error"] and e["path"] == str(drive) for e in r.json()["errors"])
    assert "b.txt" in listing()


def test_file_vanishing_mid_scan_is_reported_and_the_scan_goes_on(tmp_path: Path) -> None:
    from inventory import Inventory, Source, scan
    from inventory.progress import Event, Progress, Started

    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        (src / f"f{i}.txt").write_text(f"file {i}")

    def delete_one_on_start(event: Event) -> None:
        if isinstance(event, Started):
            (src / "f2.txt").unlink()  # between the walk and the read

    with Inventory.open(tmp_path / "inv.sqlite") as inv:
        report = scan(inv, [Source(str(src), str(src))], progress=Progress(delete_one_on_start))
        assert report.new == 4
        assert report.errors == [{"path": str(src / "f2.txt"), "error": "vanished during the scan"}]
        assert len(inv.list_files()) == 4


def test_show_and_export(home: Path, sources: Path, profile: str, tmp_path: Path) -> None:
    media.jpeg(sources / "a.jpg", taken="2026:01:02 03:04:05")
    (sources / "b.txt").write_text("b")
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    files = listing()
    sha = files["a.jpg"]["sha256"]
    text = run_backup("inventory", "show", sha[:8], "-p", profile)
    assert (
        text.code == 0
        and sha in text.out
        and "2026-01-02T03:04:05" in text.out
        and "Apple iPhone 15 Pro" in text.out
    )
    by_path = run_backup("inventory", "show", str(sources / "a.jpg"), "-p", profile, "--json").json()
    assert by_path["sha256"] == sha and by_path["details"]["camera_model"] == "iPhone 15 Pro"
    assert by_path["hash_params"]["imagehash"]
    outside = tmp_path / "unknown.txt"
    outside.write_text("never scanned")
    r = run_backup("inventory", "show", str(outside), "-p", profile)
    assert r.code == 1 and "not in the inventory" in r.err
    assert run_backup("inventory", "show", "ffffffffffff", "-p", profile).code == 1
    out_csv = tmp_path / "export" / "inventory.csv"
    r = run_backup("inventory", "export", "-p", profile, "--format", "csv", "-o", str(out_csv))
    assert r.code == 0
    lines = out_csv.read_text(encoding="utf-8-sig").splitlines()  # it begins with a BOM, for Excel
    assert lines[0].startswith("sha256,path,size,kind,format,first_seen") and len(lines) == 3
    doc = run_backup("inventory", "export", "-p", profile, "--json").json()
    assert doc["count"] == 2 and {f["sha256"] for f in doc["files"]} == {f["sha256"] for f in files.values()}
    assert not list(out_csv.parent.glob("*.keepmark-tmp"))


@pytest.mark.skipif(
    os.name == "nt" or os.uname().sysname == "Darwin", reason="file names are bytes only on Linux"
)
def test_name_that_is_not_utf8_is_reported_and_the_batch_goes_on(
    home: Path, sources: Path, profile: str
) -> None:
    root = os.fsencode(sources)
    with open(root + b"/bad\xff\xfename.txt", "wb") as f:
        f.write(b"x")
    (sources / "good.txt").write_text("good")
    r = run_backup("inventory", "scan", "-p", profile, "--json")
    assert r.code == 1
    doc = r.json()
    assert doc["new"] == 1 and "not valid UTF-8" in doc["errors"][0]["error"]
    assert "bad\ufffd\ufffdname.txt" in doc["errors"][0]["path"]
    assert set(listing()) == {"good.txt"}
