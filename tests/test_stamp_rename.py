"""A photo or video renamed in a source folder takes its stamped copy along: ``backup stamp``
run twice around the rename, and ``backup watch`` seeing the rename; ``backup status`` no longer
lists the vanished path as waiting for a backup."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import run_backup
from tests.daemonkit import Watch, daemon_profile, inventory, outputs, wait_for, wait_idle
from tests.kit import media
from tests.kit.hashing import file_sha256 as sha


def init(tmp_path: Path, sources: Path, out: Path, *extra: str) -> None:
    r = run_backup(
        "init", "lily", "--account", "Lily Chen", "--handle", "lily.shoots", "--source", str(sources),
        "--output", str(out), *extra,
    )  # fmt: skip
    assert r.code == 0, r


def derivative_paths(home: Path) -> list[str]:
    return sorted(r[0] for r in inventory(home, "SELECT path FROM derivatives"))


def test_stamp_after_a_rename_moves_the_copy_and_its_record(home: Path, tmp_path: Path) -> None:
    sources, out = tmp_path / "Shoots", tmp_path / "Stamped"
    media.jpeg(sources / "IMG_0001.jpg", size=(800, 600), seed=1)
    media.video(sources / "clip.mp4", seconds=0.5, size="160x120")
    init(tmp_path, sources, out)
    first = run_backup("stamp", "-p", "lily", "--json")
    assert first.code == 0, first
    old_photo, old_video = out / "Shoots" / "IMG_0001.jpg", out / "Shoots" / "clip.mp4"
    copies = {old_photo: sha(old_photo), old_video: sha(old_video)}

    (sources / "Beach 2026").mkdir()
    os.rename(sources / "IMG_0001.jpg", sources / "Beach 2026" / "sunset.jpg")
    os.rename(sources / "clip.mp4", sources / "reel.mp4")
    again = run_backup("stamp", "-p", "lily", "--json")
    assert again.code == 0, again
    doc = again.json()
    new_photo, new_video = out / "Shoots" / "Beach 2026" / "sunset.jpg", out / "Shoots" / "reel.mp4"
    assert doc["stamped"] == [], "nothing is stamped again: the copies follow their originals"
    assert doc["moved"] == [
        {
            "source": str(sources / "Beach 2026" / "sunset.jpg"),
            "output": str(new_photo),
            "from": str(old_photo),
        },
        {"source": str(sources / "reel.mp4"), "output": str(new_video), "from": str(old_video)},
    ]
    assert outputs(out) == ["Shoots/Beach 2026/sunset.jpg", "Shoots/reel.mp4"], "no stale copy is left"
    assert sha(new_photo) == copies[old_photo] and sha(new_video) == copies[old_video], "moved, not remade"
    assert derivative_paths(home) == sorted([str(new_photo), str(new_video)])
    shown = run_backup("inventory", "show", str(sources / "reel.mp4"), "-p", "lily", "--json").json()
    assert [d["path"] for d in shown["derivatives"]] == [str(new_video)]
    moved = [e for e in shown["ledger"] if e["type"] == "derivative" and "moved_from" in e["data"]]
    assert [e["data"]["moved_from"] for e in moved] == [str(old_video)]
    assert run_backup("ledger", "verify", "-p", "lily").code == 0

    third = run_backup("stamp", "-p", "lily", "--json").json()
    assert third["stamped"] == [] and third["moved"] == [] and len(third["skipped"]) == 2


def test_a_copied_original_keeps_its_copy_and_gets_one_of_its_own(home: Path, tmp_path: Path) -> None:
    sources, out = tmp_path / "Shoots", tmp_path / "Stamped"
    media.jpeg(sources / "a.jpg", size=(640, 480), seed=2)
    init(tmp_path, sources, out)
    assert run_backup("stamp", "-p", "lily").code == 0
    (sources / "b.jpg").write_bytes((sources / "a.jpg").read_bytes())
    doc = run_backup("stamp", "-p", "lily", "--json").json()
    assert doc["moved"] == [] and [s["output"] for s in doc["stamped"]] == [str(out / "Shoots" / "b.jpg")]
    assert outputs(out) == ["Shoots/a.jpg", "Shoots/b.jpg"]


def test_a_copy_changed_since_it_was_made_is_not_moved(home: Path, tmp_path: Path) -> None:
    sources, out = tmp_path / "Shoots", tmp_path / "Stamped"
    media.jpeg(sources / "a.jpg", size=(640, 480), seed=3)
    init(tmp_path, sources, out)
    assert run_backup("stamp", "-p", "lily").code == 0
    edited = out / "Shoots" / "a.jpg"
    edited.write_bytes(edited.read_bytes()[:-10] + b"0123456789")  # same size, other bytes
    os.rename(sources / "a.jpg", sources / "b.jpg")
    doc = run_backup("stamp", "-p", "lily", "--json").json()
    assert doc["moved"] == [] and [s["output"] for s in doc["stamped"]] == [str(out / "Shoots" / "b.jpg")]
    assert edited.exists(), "a file that is not the copy recorded is left where it is"


@pytest.mark.skipif(os.name == "nt", reason="inotify: POSIX")
def test_the_daemon_moves_the_copy_and_status_forgets_the_old_path(home: Path, tmp_path: Path) -> None:
    src, drive, out = tmp_path / "Shoots", tmp_path / "Drive", home.parent / "Stamped"
    src.mkdir()
    drive.mkdir()
    daemon_profile(home, [src], [{"name": "drive", "type": "local", "path": str(drive)}])
    with Watch(home) as w:
        media.jpeg(src / "IMG_0002.jpg", size=(640, 480), seed=4)
        wait_for(lambda: derivative_paths(home) == [str(out / "Shoots" / "IMG_0002.jpg")], 60, "the copy")
        made = sha(out / "Shoots" / "IMG_0002.jpg")
        os.rename(src / "IMG_0002.jpg", src / "harbour.jpg")
        wait_for(lambda: derivative_paths(home) == [str(out / "Shoots" / "harbour.jpg")], 60, "the move")
        wait_idle(home)
        code = w.terminate()
    assert code == 0, w.text()
    assert outputs(out) == ["Shoots/harbour.jpg"]
    assert sha(out / "Shoots" / "harbour.jpg") == made
    status = run_backup("status", "-p", "lily", "--json")
    assert status.code == 0, status
    waiting = status.json()["not_on_every_target_files"]
    assert waiting == [str(src / "harbour.jpg")], "the vanished path is not waiting for a backup"
    assert status.json()["not_on_every_target"] == 1
