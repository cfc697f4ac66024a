"""`backup recover`: the laptop is lost, a new computer has only a backup target. Run as a user
runs it: a profile with real photos, a real timestamp authority on 127.0.0.1, a full backup to
a drive folder, to the S3 server (moto on 127.0.0.1) or to an rclone WebDAV remote; then the old
Keepmark home and the source folders are deleted and everything comes back from the target."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.backupkit import tree
from tests.conftest import run_backup
from tests.daemonkit import Watch, recorded_paths, wait_for, wait_idle
from tests.kit.media import jpeg
from tests.kit.tsa import LocalTSA
from tests.test_checkpoints import add_proof


def _laptop(home: Path, sources: Path, profile: str, tsa: LocalTSA, target: dict[str, Any]) -> dict[str, Any]:
    """Lily's laptop: a profile with a TSA and one target, two photos backed up; what is needed
    later (the files as they were, the public key id, a repost of one photo)."""
    toml = home / "profiles" / f"{profile}.toml"
    table = "".join(f"{k} = {json.dumps(v)}\n" for k, v in target.items())  # TOML basic strings
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[[targets]]\n" + table, "utf-8")
    add_proof(home, profile, tsa_url=tsa.url, tsa_certificate=str(tsa.ca_pem))
    original = jpeg(sources / "2026" / "sunset.jpg", size=(960, 720), seed=7)
    jpeg(sources / "2026" / "harbour.jpg", size=(960, 720), seed=8)
    (sources / "2026" / "caption.txt").write_text("sunset over the harbour", encoding="utf-8")
    r = run_backup("full", "-p", profile)
    assert r.code == 0, r
    old_key = (home / "state" / profile / "proof" / "ledger-key.pub.pem").read_text(encoding="ascii")
    repost = sources.parent / "downloads" / "repost.jpg"
    repost.parent.mkdir()
    with Image.open(original) as im:
        im.convert("RGB").resize((480, 360)).save(repost, "JPEG", quality=45)
    return {"files": tree(sources), "old_key": old_key, "repost": repost}


def _lose_the_laptop(home: Path, sources: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The old home and the originals are gone; a new, empty Keepmark home."""
    shutil.rmtree(home)
    shutil.rmtree(sources)
    new_home = home.parent / "new-computer-home"
    monkeypatch.setenv("KEEPMARK_HOME", str(new_home))
    return new_home


def _recover_and_go_on(
    spec: list[str], target_name: str, laptop: dict[str, Any], sources: Path, new_home: Path, tmp_path: Path
) -> None:
    listed = run_backup("recover", "--from", *spec, "--json")
    assert listed.code == 0, listed
    [found] = listed.json()["profiles"]
    assert found["name"] == "lily" and found["files"] == 3 and found["account"] == "Lily Chen"
    assert found["last_run"] and found["last_kind"] == "full"
    text = run_backup("recover", "--from", *spec)
    assert text.code == 0 and "lily (Lily Chen): last run" in text.out, text
    assert not (new_home / "profiles").exists()  # listing brings nothing back

    left = new_home / ".recover-lily-k1ll3d"  # a recover killed before: its staging folder
    (left / "state" / "lily").mkdir(parents=True)
    r = run_backup("recover", "--from", *spec, "--profile", "lily", "--json")
    assert r.code == 0, r
    doc = r.json()
    assert doc["profile"] == "lily" and doc["target"] == target_name
    assert doc["checkpoints"] and all(c["ok"] for c in doc["checkpoints"])
    assert doc["timestamps_verified"] == len(doc["checkpoints"]) >= 1
    assert doc["inventory"]["entries"] >= 3 and doc["inventory"]["snapshot_recorded_it"] is True
    state = new_home / "state" / "lily"
    proof = state / "proof"
    assert (new_home / "profiles" / "lily.toml").is_file() and (state / "inventory.sqlite").is_file()
    assert (proof / "ledger-key.pub.pem").read_text(encoding="ascii") == laptop["old_key"]
    assert not (proof / "ledger-key.pem").exists()  # the private key never travels
    assert sorted(p.suffix for p in (proof / "checkpoints").iterdir()) >= [".json", ".pem", ".tsr"]
    assert not [p for p in new_home.iterdir() if p.name.startswith(".recover-")]

    again = run_backup("recover", "--from", *spec, "--profile", "lily")
    assert again.code == 2 and len(again.err.strip().splitlines()) == 1, again
    assert "already exists" in again.err

    r = run_backup("ledger", "verify", "-p", "lily")
    assert r.code == 0, r

    # Restore everything where it was.
    r = run_backup("restore", "-p", "lily", "--target", target_name, "--to", str(sources.parent))
    assert r.code == 0, r
    assert tree(sources) == laptop["files"]

    # Prove a repost of a photo recorded before the loss: a new key, a key-rotation entry,
    # and the old checkpoints verifying with the old key.
    bundle = tmp_path / "evidence"
    r = run_backup("prove", str(laptop["repost"]), "--out", str(bundle), "-p", "lily", "--json")
    assert r.code == 0, r
    v = run_backup("prove", "--verify", str(bundle), "--json")
    assert v.code == 0 and v.json()["ok"] is True, v
    new_key = (proof / "ledger-key.pub.pem").read_text(encoding="ascii")
    assert new_key != laptop["old_key"] and (proof / "ledger-key.pem").is_file()
    evidence = json.loads((bundle / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["public_key"] == new_key and laptop["old_key"] in evidence["earlier_keys"]
    with sqlite3.connect(state / "inventory.sqlite") as db:
        rows = db.execute("SELECT seq, data FROM ledger WHERE type = 'key-rotation'").fetchall()
    [(seq, data)] = rows
    rotation = json.loads(data)
    assert rotation["old_public_key"] == laptop["old_key"] and rotation["new_public_key"] == new_key
    assert rotation["last_checkpoint"]["entries"] == doc["checkpoints"][-1]["entries"] < seq
    old_id = doc["public_keys"][0]
    assert rotation["old_key"] == old_id
    assert any(c["checkpoint"]["key_id"] == old_id for c in evidence["checkpoints"])
    r = run_backup("ledger", "verify", "-p", "lily")
    assert r.code == 0, r

    # The weekly backup goes on, with a photo taken on the new computer.
    jpeg(sources / "2026" / "new.jpg", size=(640, 480), seed=9)
    r = run_backup("incremental", "-p", "lily", "--json")
    assert r.code == 0, r
    [sent] = r.json()["targets"]
    assert (sent["files"], sent["total_files"]) == (1, 4), sent  # only the new photo travels
    snaps = run_backup("snapshots", "-p", "lily", "--target", target_name, "--json")
    assert snaps.code == 0, snaps
    out = tmp_path / "check-restore"
    r = run_backup(
        "restore", "-p", "lily", "--target", target_name, "--include", "*/new.jpg", "--to", str(out)
    )
    assert (
        r.code == 0
        and (out / "Shoots" / "2026" / "new.jpg").read_bytes() == (sources / "2026" / "new.jpg").read_bytes()
    ), r

    # The daemon goes on: a photo dropped into a source folder is recorded.
    with Watch(new_home) as watch:
        jpeg(sources / "2026" / "dropped.jpg", size=(640, 480), seed=10)
        wait_for(
            lambda: str(sources / "2026" / "dropped.jpg") in recorded_paths(new_home), 60, "the new photo"
        )
        wait_idle(new_home)  # its pass over the new photo done (stamped too): a quick stop
        code = watch.terminate()
        assert code == 0, watch.text()


@pytest.fixture
def drive(tmp_path: Path) -> Path:
    d = tmp_path / "drive"
    d.mkdir()
    return d / "Keepmark"


def test_recover_from_a_drive_then_restore_prove_incremental_and_the_daemon(
    home: Path,
    sources: Path,
    profile: str,
    tsa: LocalTSA,
    drive: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    laptop = _laptop(home, sources, profile, tsa, {"name": "drive", "type": "local", "path": str(drive)})
    new_home = _lose_the_laptop(home, sources, monkeypatch)
    _recover_and_go_on([str(drive)], "drive", laptop, sources, new_home, tmp_path)

    # Lost again: the target now holds both keys and checkpoints signed by each; said in text.
    monkeypatch.setenv("KEEPMARK_HOME", str(tmp_path / "third-computer-home"))
    r = run_backup("recover", "--from", str(drive), "--profile", "lily")
    assert r.code == 0, r
    assert "recovered profile lily from folder" in r.out and "timestamp tokens verified" in r.out
    assert "next: backup restore -p lily --target drive" in r.out
    keys = tmp_path / "third-computer-home" / "state" / "lily" / "proof"
    assert len(list(keys.glob("ledger-key*.pub.pem"))) == 2


def test_recover_from_s3(
    home: Path,
    sources: Path,
    profile: str,
    tsa: LocalTSA,
    s3_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = s3_server.make_bucket()
    entry = s3_server.target_entry(bucket, name="cloud", prefix="keepmark")
    laptop = _laptop(home, sources, profile, tsa, entry)
    new_home = _lose_the_laptop(home, sources, monkeypatch)
    spec = [f"s3://{bucket}/keepmark", "--endpoint", s3_server.endpoint]
    _recover_and_go_on(spec, "cloud", laptop, sources, new_home, tmp_path)


def test_recover_from_an_rclone_webdav_remote(
    home: Path,
    sources: Path,
    profile: str,
    tsa: LocalTSA,
    rclone_remotes: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remote = rclone_remotes.fresh("webdav")
    laptop = _laptop(home, sources, profile, tsa, {"name": "cloud", "type": "rclone", "remote": remote})
    new_home = _lose_the_laptop(home, sources, monkeypatch)
    _recover_and_go_on([f"rclone:{remote}"], "cloud", laptop, sources, new_home, tmp_path)


def test_a_tampered_ledger_entry_on_the_target_is_refused_naming_it(
    home: Path,
    sources: Path,
    profile: str,
    tsa: LocalTSA,
    drive: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _laptop(home, sources, profile, tsa, {"name": "drive", "type": "local", "path": str(drive)})
    copy = drive / "lily" / "inventory" / "inventory.sqlite"
    with sqlite3.connect(copy) as db:
        seq, data = db.execute("SELECT seq, data FROM ledger WHERE type = 'original' ORDER BY seq").fetchone()
        edited = json.loads(data)
        edited["first_seen"] = "2020-01-01T00:00:00Z"
        db.execute("UPDATE ledger SET data = ? WHERE seq = ?", (json.dumps(edited), seq))
    db.close()
    new_home = _lose_the_laptop(home, sources, monkeypatch)
    r = run_backup("recover", "--from", str(drive), "--profile", "lily")
    assert r.code == 1, r
    [line] = r.err.strip().splitlines()
    assert f"entry {seq}:" in line and "inventory.sqlite" in line and "nothing was brought back" in line
    assert not (new_home / "profiles" / "lily.toml").exists() and not (new_home / "state" / "lily").exists()
    assert not [p for p in new_home.iterdir() if p.name.startswith(".recover-")]


def test_a_table_row_edited_on_the_target_is_refused_naming_it(
    home: Path,
    sources: Path,
    profile: str,
    tsa: LocalTSA,
    drive: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The copy's chain intact but a row backdated outside the ledger (as ``ledger verify``
    finds it): nothing is brought back."""
    _laptop(home, sources, profile, tsa, {"name": "drive", "type": "local", "path": str(drive)})
    copy = drive / "lily" / "inventory" / "inventory.sqlite"
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE content SET first_seen = '2020-01-01T00:00:00Z'")
    db.close()
    new_home = _lose_the_laptop(home, sources, monkeypatch)
    r = run_backup("recover", "--from", str(drive), "--profile", "lily")
    assert r.code == 1, r
    [line] = r.err.strip().splitlines()
    assert "content" in line and "first_seen" in line and "nothing was brought back" in line, line
    assert not (new_home / "profiles" / "lily.toml").exists() and not (new_home / "state" / "lily").exists()


def test_a_checkpoint_signed_by_another_key_is_refused(
    home: Path,
    sources: Path,
    profile: str,
    tsa: LocalTSA,
    drive: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A whole chain re-hashed by an attacker no longer matches the signed checkpoints."""
    _laptop(home, sources, profile, tsa, {"name": "drive", "type": "local", "path": str(drive)})
    key = drive / "lily" / "inventory" / "ledger-key.pub.pem"
    from inventory.ledger import checkpoint as cpmod

    key.write_bytes(cpmod.public_pem(cpmod.new_key().public_key()))
    new_home = _lose_the_laptop(home, sources, monkeypatch)
    r = run_backup("recover", "--from", str(drive), "--profile", "lily", "--json")
    assert r.code == 1, r
    assert "checkpoint" in r.json()["error"] and "nothing was brought back" in r.json()["error"]
    assert not (new_home / "profiles" / "lily.toml").exists()


def test_bad_input_is_one_line(home: Path, tmp_path: Path, drive: Path) -> None:
    r = run_backup("recover", "--from", "relative/folder")
    assert r.code == 2 and "a relative path" in r.err and len(r.err.strip().splitlines()) == 1, r
    empty = tmp_path / "not-a-backup"
    empty.mkdir()
    r = run_backup("recover", "--from", str(empty), "--profile", "lily")
    assert r.code != 0 and len(r.err.strip().splitlines()) == 1, r
    assert not (empty / ".keepmark-target").exists()  # recover never writes to a target
    (empty / ".keepmark-target").write_text('{"keepmark_target": 1, "id": "0123456789abcdef"}')
    r = run_backup("recover", "--from", str(empty), "--profile", "nobody")
    assert r.code == 1 and "no profile 'nobody' there (profiles found: none)" in r.err, r
    assert sorted(p.name for p in empty.iterdir()) == [".keepmark-target"]


def test_a_damaged_timestamp_token_on_the_target_is_refused(
    home: Path,
    sources: Path,
    profile: str,
    tsa: LocalTSA,
    drive: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _laptop(home, sources, profile, tsa, {"name": "drive", "type": "local", "path": str(drive)})
    [token] = sorted((drive / "lily" / "inventory" / "checkpoints").glob("*.tsr"))[-1:]
    data = bytearray(token.read_bytes())
    data[len(data) // 2] ^= 0x01
    token.write_bytes(bytes(data))
    new_home = _lose_the_laptop(home, sources, monkeypatch)
    r = run_backup("recover", "--from", str(drive), "--profile", "lily")
    assert r.code == 1, r
    [line] = r.err.strip().splitlines()
    assert f"timestamp {token.name}" in line and "nothing was brought back" in line
    assert not (new_home / "profiles" / "lily.toml").exists() and not (new_home / "state" / "lily").exists()
