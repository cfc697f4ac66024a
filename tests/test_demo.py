"""``backup demo``: the README's first command, on a fresh workspace."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_backup


def test_demo_builds_samples_scans_them_and_verifies(tmp_path: Path, home: Path) -> None:
    workspace = tmp_path / "demo"
    r = run_backup("demo", str(workspace), "--json")
    assert r.code == 0, r
    doc = json.loads(r.out)
    assert doc["workspace"] == str(workspace)
    assert doc["ledger"] == {"ok": True, "entries": 8 + 5 + 1}, "8 originals, 5 stamped copies, 1 snapshot"
    assert doc["stamp"]["failed"] == [] and len(doc["stamp"]["stamped"]) == 5
    for item in doc["stamp"]["stamped"]:
        assert Path(item["output"]).is_file() and Path(item["output"]).is_relative_to(workspace / "Stamped")
    kinds = sorted((f["kind"], f["format"]) for f in doc["files"])
    assert kinds == sorted(
        [("image", "jpeg"), ("image", "jpeg"), ("image", "heic"), ("image", "png"), ("video", "mp4"),
         ("other", "txt"), ("other", "srt"), ("other", "csv")]
    )  # fmt: skip
    assert all(f["decode_error"] is None for f in doc["files"])
    # the full backup on the sample drive, read back byte for byte
    [target] = doc["backup"]["targets"]
    assert doc["backup"]["ok"] and target["status"] == "ok" and target["total_files"] == 8
    originals = workspace / "Backup Drive" / "demo" / "originals" / "Shoots"
    for f in doc["files"]:
        assert (originals / f["relpath"]).read_bytes() == (workspace / "Shoots" / f["relpath"]).read_bytes()
    assert (workspace / "Backup Drive" / "demo" / "snapshots" / f"{target['snapshot']}.json").is_file()
    [verified] = doc["verify"]
    assert verified["status"] == "ok" and verified["read"] == 8 and verified["problems"] == []
    assert (workspace / "home" / "profiles" / "demo.toml").is_file()
    assert (workspace / "home" / "state" / "demo" / "inventory.sqlite").is_file()
    assert not (home / "profiles").exists(), "the user's own Keepmark home is untouched"
    # The printed way to explore it works.
    listed = run_backup("inventory", "list", "--json", env={"KEEPMARK_HOME": str(workspace / "home")})
    assert listed.code == 0 and listed.json()["count"] == 8
    # A resized, recompressed repost of a sample photo is proved to be the account's.
    proof = doc["prove"]
    repost = workspace / "Found online" / "repost.jpg"
    assert proof["suspect"]["path"] == str(repost) and repost.is_file()
    original = next(f for f in doc["files"] if f["sha256"] == proof["match"]["sha256"])
    assert original["kind"] == "image" and original["format"] == "jpeg"
    assert proof["match"]["method"] in ("perceptual", "features")
    assert proof["suspect"]["sha256"] != original["sha256"], "a changed copy, not the file itself"
    bundle = Path(proof["bundle"])
    assert bundle == workspace / "Evidence"
    assert {p.name for p in bundle.iterdir()} >= {"evidence.json", "report.html", "notice.txt"}
    checked = run_backup("prove", "--verify", str(bundle), env={"KEEPMARK_HOME": str(workspace / "home")})
    assert checked.code == 0, checked
    assert run_backup("demo", str(workspace)).code == 2, "a non-empty folder is refused"


def test_demo_in_a_temporary_folder_prints_where_things_are(home: Path) -> None:
    r = run_backup("demo")
    assert r.code == 0, r
    assert "Sample workspace:" in r.out and "Ledger intact: 14 entries" in r.out
    assert "Backed up 8 originals" in r.out and "every byte matches" in r.out
    assert "Stamped 5 watermarked copies" in r.out
    assert "export KEEPMARK_HOME=" in r.out
    assert "Proved: " in r.out and "evidence bundle: " in r.out
