"""A stamped copy reposted as it was published is an exact match of that copy and of its
original (not a perceptual one), through ``backup prove``, its evidence and ``--verify``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_backup
from tests.kit import media
from tests.kit.hashing import file_sha256 as sha


def stamped(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(original photo, original video, output folder), both stamped."""
    sources, out = tmp_path / "Shoots", tmp_path / "Stamped"
    photo = media.jpeg(sources / "IMG_0001.jpg", size=(1200, 900), seed=1)
    video = media.video(sources / "clip.mp4", seconds=1.0, size="320x240")
    r = run_backup(
        "init", "lily", "--account", "Lily Chen", "--handle", "lily.shoots", "--source", str(sources),
        "--output", str(out),
    )  # fmt: skip
    assert r.code == 0, r
    assert run_backup("stamp", "-p", "lily").code == 0
    return photo, video, out


def test_a_reposted_stamped_photo_is_an_exact_match_of_the_copy_and_its_original(
    home: Path, tmp_path: Path
) -> None:
    photo, _, out = stamped(tmp_path)
    copy = out / "Shoots" / "IMG_0001.jpg"
    repost = tmp_path / "Downloads" / "stolen.jpg"
    repost.parent.mkdir()
    shutil.copyfile(copy, repost)
    r = run_backup("prove", str(repost), "-p", "lily", "--json")
    assert r.code == 0, r
    m = r.json()["match"]
    assert m["method"] == "exact", "the repost is the copy's bytes: not a perceptual match"
    assert (m["distance"], m["confidence"]) == (0, 1.0)
    assert m["sha256"] == sha(photo) and m["path"] == str(photo), "names the original"
    assert m["details"]["derivative"]["path"] == str(copy), "and the copy it is"
    assert m["details"]["derivative"]["sha256"] == sha(copy) == sha(repost)

    text = run_backup("prove", str(repost), "-p", "lily")
    assert text.code == 0, text
    assert f"Match (exact, distance 0, confidence 100%): {photo}" in text.out
    assert f"the stamped copy {copy}, byte for byte" in text.out

    bundle = tmp_path / "evidence"
    assert run_backup("prove", str(repost), "-p", "lily", "--out", str(bundle)).code == 0
    evidence = json.loads((bundle / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["match"]["method"] == "exact"
    assert sha(copy) in {d["sha256"] for d in evidence["original"]["derivatives"]}
    assert "stamped copy" in (bundle / "report.html").read_text(encoding="utf-8")
    checked = run_backup("prove", "--verify", str(bundle))
    assert checked.code == 0, checked


def test_a_reposted_stamped_video_is_an_exact_match(home: Path, tmp_path: Path) -> None:
    _, video, out = stamped(tmp_path)
    copy = out / "Shoots" / "clip.mp4"
    r = run_backup("prove", str(copy), "-p", "lily", "--json")
    assert r.code == 0, r
    m = r.json()["match"]
    assert m["method"] == "exact" and m["sha256"] == sha(video)
    assert m["details"]["derivative"]["path"] == str(copy)


def test_a_copy_that_was_edited_is_not_claimed_as_exact(home: Path, tmp_path: Path) -> None:
    photo, _, out = stamped(tmp_path)
    from PIL import Image

    edited = tmp_path / "recompressed.jpg"
    Image.open(out / "Shoots" / "IMG_0001.jpg").save(edited, quality=70)
    m = run_backup("prove", str(edited), "-p", "lily", "--json").json()["match"]
    assert m["method"] != "exact" and "derivative" not in m["details"]
    assert m["sha256"] == sha(photo)
