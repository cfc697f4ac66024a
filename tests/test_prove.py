"""`backup prove`, `backup prove --verify` and `backup publish add`, run as a user runs them:
real photos with EXIF, a real local backup target, a real timestamp authority on 127.0.0.1,
and bundles tampered with one character at a time."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import run_backup
from tests.kit.media import jpeg
from tests.kit.tsa import LocalTSA
from tests.test_checkpoints import add_proof

INSTAGRAM = "https://www.instagram.com/p/C7xYz12/"
REPOST = "https://www.xiaohongshu.com/explore/64f0a1b2000000001e03c7d9"


@pytest.fixture
def enrolled(home: Path, sources: Path, profile: str, tmp_path: Path, tsa: LocalTSA) -> dict[str, Any]:
    """A profile with a TSA, contact details and a backup drive; one photo enrolled, published
    and backed up; a recompressed, resized repost of it."""
    add_proof(
        home,
        profile,
        tsa_url=tsa.url,
        tsa_certificate=str(tsa.ca_pem),
        contact_email="lily@example.com",
        contact_address="1 Harbour Road, Sydney",
    )
    drive = tmp_path / "drive"
    drive.mkdir()
    toml = home / "profiles" / f"{profile}.toml"
    toml.write_text(
        toml.read_text() + f'\n[[targets]]\nname = "drive"\ntype = "local"\npath = "{drive / "Keepmark"}"\n'
    )
    original = jpeg(sources / "2026" / "sunset.jpg", size=(960, 720), seed=7)
    jpeg(sources / "2026" / "other.jpg", size=(960, 720), seed=8)
    assert run_backup("full", "-p", profile).code == 0
    r = run_backup(
        "publish", "add", str(original), "--platform", "Instagram", "--url", INSTAGRAM, "--date", "2026-05-15"
    )
    assert r.code == 0, r
    repost = tmp_path / "downloads" / "repost.jpg"
    repost.parent.mkdir()
    with Image.open(original) as im:
        im.convert("RGB").resize((480, 360)).save(repost, "JPEG", quality=45)
    return {"original": original, "repost": repost, "drive": drive, "profile": profile}


def test_prove_finds_the_original_and_writes_the_bundle(enrolled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    r = run_backup(
        "prove",
        str(enrolled["repost"]),
        "--out",
        str(out),
        "--url",
        REPOST,
        "-p",
        enrolled["profile"],
        "--json",
    )
    assert r.code == 0, r
    match = r.json()["match"]
    assert match["path"] == str(enrolled["original"]) and match["method"] in ("perceptual", "features")
    assert 0 < match["confidence"] <= 1 and ("distance" in match or "score" in match)
    assert sorted(p.name for p in out.iterdir()) == [
        "SHA256SUMS",
        "SHA256SUMS.sig",
        "VERIFY.txt",
        "evidence.json",
        "notice.txt",
        "proof",
        "report.html",
        "suspect.jpg",
    ]
    assert (out / "suspect.jpg").read_bytes() == enrolled["repost"].read_bytes()

    ev = json.loads((out / "evidence.json").read_text())
    o = ev["original"]
    assert o["sha256"] == match["sha256"] and o["size"] == enrolled["original"].stat().st_size
    assert o["capture_time"].startswith("2026-05-14T19:42:10")
    assert o["camera"] == {"make": "Apple", "model": "iPhone 15 Pro"}
    assert o["paths"] == [str(enrolled["original"])] and o["first_seen"].endswith("Z")
    assert [(p["platform"], p["url"], p["date"]) for p in o["publications"]] == [
        ("Instagram", INSTAGRAM, "2026-05-15")
    ]
    assert ev["suspect"]["url"] == REPOST and "phash" in ev["suspect"]["hashes"]
    first = ev["ledger"]["entries"][0]
    assert first["type"] == "original" and first["data"]["sha256"] == o["sha256"]
    # Only the original's own entries (and its target's snapshots), each with its audit path to
    # the newest checkpoint's Merkle root; no entry names another file.
    assert ev["version"] == 2 and ev["ledger"]["chain"] == []
    assert {e["type"] for e in ev["ledger"]["entries"]} == {"original", "publication", "snapshot"}
    assert "other.jpg" not in (out / "evidence.json").read_text()
    newest = ev["checkpoints"][-1]
    assert newest["checkpoint"]["version"] == 2 and len(newest["checkpoint"]["root"]) == 64
    proven = {(p["entry"], p["checkpoint"]) for p in ev["ledger"]["proofs"]}
    assert {(e["seq"], newest["checkpoint"]["entries"]) for e in ev["ledger"]["entries"]} <= proven
    assert all(cp["timestamp"]["authority"] == "CN=Keepmark Test TSA" for cp in ev["checkpoints"])
    [backup] = ev["backups"]
    assert backup["target"] == "drive" and backup["keys"] == ["originals/Shoots/2026/sunset.jpg"]
    assert backup["snapshots"] and backup["snapshots"][0]["kind"] == "full"
    assert set(ev["files"]) >= {"report.html", "proof/ledger-key.pub.pem"}
    # The notice is the creator's to fill in: outside the seal (filling it in once broke --verify).
    assert "notice.txt" not in ev["files"] and ev["notice"]["file"] == "notice.txt"

    html = (out / "report.html").read_text()
    assert html.count("data:image/jpeg;base64,") == 2  # both pictures embedded
    assert not re.search(r"""(src|href)=["']https?:""", html)  # self-contained
    for text in (
        "Timeline",
        "Taken with Apple iPhone 15 Pro",
        "First recorded",
        "Published on Instagram",
        "Backed up to drive",
        "timestamped by CN=Keepmark Test TSA",
        o["sha256"],
        "backup prove --verify",
        "@media print",
    ):
        assert text in html, text

    notice = (out / "notice.txt").read_text()
    for text in (
        REPOST,
        o["sha256"],
        "lily@example.com",
        "1 Harbour Road, Sydney",
        INSTAGRAM,
        "good faith belief",
        "under penalty of perjury",
        "Signed: ____",
    ):
        assert text in notice, text

    v = run_backup("prove", "--verify", str(out))
    assert v.code == 0, v
    assert "Evidence holds" in v.out and "timestamped" in v.out
    assert run_backup("prove", "--verify", str(out / "evidence.json"), "--json").json()["ok"] is True

    # A features match draws its point pairs on both pictures, a window match outlines the crop.
    from backup.proof import report

    ev["match"]["details"] = {"keypoints": [[10, 20, 20, 40], [100, 50, 200, 100]], "window": "topleft75"}
    page = report.render(ev, str(enrolled["repost"]), str(enrolled["original"]))
    assert page.count("<circle") == 4 and 'stroke-dasharray="8 5"' in page
    # Original at 960 px shown at 420: its point (200, 100) lands at (87.5, 43.8).
    assert 'cx="87.5" cy="43.8"' in page


def test_bundle_timestamp_verifies_with_openssl_alone(enrolled: dict[str, Any], tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    out = tmp_path / "evidence"
    assert run_backup("prove", str(enrolled["repost"]), "--out", str(out)).code == 0
    ev = json.loads((out / "evidence.json").read_text())
    cp = ev["checkpoints"][0]
    r = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-data",
            cp["file"],
            "-in",
            cp["timestamp"]["token_file"],
            "-CAfile",
            cp["timestamp"]["authority_file"],
        ],
        cwd=out,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "Verification: OK" in r.stdout, r.stderr


def flip(text: str) -> str:
    return ("1" if text[0] == "0" else "0") + text[1:]


TAMPERED = [
    (("original", "sha256"), "original"),
    (("suspect", "sha256"), "suspect"),
    (("match", "sha256"), "match"),
    (("original", "phash"), "original: phash"),
    (("ledger", "entries", 0, "hash"), "ledger: entry"),
    (("checkpoints", 0, "checkpoint", "head"), "checkpoint"),
    (("checkpoints", 0, "timestamp", "digest"), "the token says"),
    (("suspect", "hashes", "phash"), "evidence.json: the signature does not match"),
]


def test_one_changed_character_makes_verify_fail(enrolled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    assert run_backup("prove", str(enrolled["repost"]), "--out", str(out)).code == 0
    for where, named in TAMPERED:
        copy = tmp_path / "tampered"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(out, copy)
        ev = json.loads((copy / "evidence.json").read_text())
        node = ev
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = flip(node[where[-1]])
        (copy / "evidence.json").write_text(json.dumps(ev, indent=2))
        r = run_backup("prove", "--verify", str(copy))
        assert r.code == 1, (where, r)
        assert named in r.err and "evidence does not hold" in r.err, (where, r)


def test_changed_report_or_missing_copy_makes_verify_fail(enrolled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    assert run_backup("prove", str(enrolled["repost"]), "--out", str(out)).code == 0
    html = out / "report.html"
    html.write_text(html.read_text().replace("Evidence of ownership", "Evidence of 0wnership", 1))
    r = run_backup("prove", "--verify", str(out))
    assert r.code == 1 and "report.html: SHA-256" in r.err
    (out / "suspect.jpg").unlink()
    r = run_backup("prove", "--verify", str(out))
    assert r.code == 1 and "suspect.jpg: the suspect's copy is missing" in r.err


def test_a_photo_never_enrolled_is_not_claimed(enrolled: dict[str, Any], tmp_path: Path) -> None:
    stranger = jpeg(tmp_path / "stranger.jpg", size=(960, 720), seed=99)
    out = tmp_path / "evidence"
    r = run_backup("prove", str(stranger), "--out", str(out), "--json")
    assert r.code == 1, r
    assert r.json()["match"] is None and r.json()["bundle"] is None
    assert not out.exists() and not list(tmp_path.glob(".evidence.*"))


def test_exact_copy_is_an_exact_match(enrolled: dict[str, Any], tmp_path: Path) -> None:
    copy = tmp_path / "same.jpg"
    shutil.copyfile(enrolled["original"], copy)
    r = run_backup("prove", str(copy), "--json")
    assert r.code == 0
    m = r.json()["match"]
    assert m["method"] == "exact" and m["distance"] == 0 and m["confidence"] == 1.0


def test_bad_arguments_exit_2(enrolled: dict[str, Any], tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    r = run_backup("prove", str(enrolled["repost"]), "--out", str(full))
    assert r.code == 2 and "not an empty folder" in r.err and (full / "keep.txt").read_text() == "mine"
    assert run_backup("prove", str(enrolled["repost"]), "--url", "not a url").code == 2
    assert run_backup("prove").code == 2
    assert run_backup("prove", "--verify", str(tmp_path)).code == 2  # no bundle there
    assert run_backup("prove", str(enrolled["repost"]), "--verify", str(tmp_path)).code == 2
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(enrolled["repost"].read_bytes()[:300])
    r = run_backup("prove", str(broken))
    assert r.code != 0 and str(broken) in r.err and len(r.err.strip().splitlines()) == 1, r


def test_a_crash_while_writing_leaves_no_bundle(
    enrolled: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backup.app.prove import prove
    from backup.profile.load import load
    from backup.proof import notice

    def crash(*args: Any, **kwargs: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(notice, "render", crash)
    out = tmp_path / "evidence"
    with pytest.raises(OSError):
        prove(load(enrolled["profile"]), str(enrolled["repost"]), out=out)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".evidence")]


def test_publish_add_records_a_ledger_entry(enrolled: dict[str, Any], home: Path, tmp_path: Path) -> None:
    profile = enrolled["profile"]
    r = run_backup(
        "publish",
        "add",
        str(enrolled["original"]),
        "--platform",
        "YouTube",
        "--url",
        "https://youtu.be/abc",
        "--json",
    )
    assert r.code == 0, r
    entry = r.json()["entry"]
    assert entry["type"] == "publication" and entry["data"]["platform"] == "YouTube"
    shown = run_backup("inventory", "show", str(enrolled["original"]), "-p", profile, "--json").json()
    assert [e["type"] for e in shown["ledger"]].count("publication") == 2
    assert run_backup("ledger", "verify", "-p", profile).code == 0
    # Bad input: one line naming the problem.
    bad = run_backup(
        "publish", "add", str(enrolled["original"]), "--platform", "X", "--url", "instagram.com/p/1"
    )
    assert bad.code == 2 and "not a web address" in bad.err
    bad = run_backup(
        "publish",
        "add",
        str(enrolled["original"]),
        "--platform",
        "X",
        "--url",
        INSTAGRAM,
        "--date",
        "15/05/2026",
    )
    assert bad.code == 2 and "not a date" in bad.err
    unknown = jpeg(tmp_path / "unknown.jpg", seed=42)
    bad = run_backup("publish", "add", str(unknown), "--platform", "X", "--url", INSTAGRAM)
    assert bad.code == 1 and "unknown.jpg: neither an original" in bad.err


def test_publishing_a_stamped_copy_records_it_for_the_original(enrolled: dict[str, Any], home: Path) -> None:
    r = run_backup("stamp", "-p", enrolled["profile"], "--json")
    assert r.code == 0, r
    stamped = next(Path(r.json()["output"]).rglob("sunset*.jpg"))
    r = run_backup("publish", "add", str(stamped), "--platform", "Xiaohongshu", "--url", REPOST, "--json")
    assert r.code == 0, r
    data = r.json()["entry"]["data"]
    assert data["copy"] != data["sha256"]
    shown = run_backup("inventory", "show", str(enrolled["original"]), "--json").json()
    assert data["sha256"] == shown["sha256"]


def test_backup_targets_hold_the_public_key_and_checkpoints_never_the_key(enrolled: dict[str, Any]) -> None:
    inv = enrolled["drive"] / "Keepmark" / enrolled["profile"] / "inventory"
    assert (inv / "ledger-key.pub.pem").is_file()
    names = sorted(p.name for p in (inv / "checkpoints").iterdir())
    assert names and all(re.match(r"checkpoint-\d{8}\.(json|tsr|tsa\.pem)$", n) for n in names)
    assert any(n.endswith(".tsr") for n in names)
    assert not list(inv.rglob("ledger-key.pem"))
    # The copies are the files of the state folder, byte for byte.
    home_cps = (
        Path(str(enrolled["drive"])).parent
        / "keepmark-home"
        / "state"
        / enrolled["profile"]
        / "proof"
        / "checkpoints"
    )
    for n in names:
        assert (inv / "checkpoints" / n).read_bytes() == (home_cps / n).read_bytes()


def test_a_video_bundle_shows_frames_of_both(home: Path, sources: Path, profile: str, tmp_path: Path) -> None:
    from tests.conftest import REPO

    clip = sources / "clip.mp4"
    shutil.copyfile(REPO / "tests" / "fixtures" / "clip.mp4", clip)
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    repost = tmp_path / "repost.mp4"
    shutil.copyfile(clip, repost)
    out = tmp_path / "evidence"
    r = run_backup("prove", str(repost), "--out", str(out), "--json")
    assert r.code == 0 and r.json()["match"]["method"] == "exact", r
    html = (out / "report.html").read_text()
    assert html.count("data:image/jpeg;base64,") == 2
    assert (out / "suspect.mp4").read_bytes() == clip.read_bytes()
    assert run_backup("prove", "--verify", str(out)).code == 0
