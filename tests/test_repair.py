"""A damaged copy does not stay damaged: on a drive folder, an S3 bucket (moto's server on
127.0.0.1, real boto3 over HTTP) and an rclone remote (``rclone serve webdav``), a stored copy
is rewritten with one byte flipped (on S3 with its ``sha256`` metadata left as it was, so that
the target still claims the original's hash). ``backup verify --read-data`` names it and the
inventory keeps the finding; the next ``backup full``, or ``backup repair`` alone, uploads it
again; no earlier version holds the damaged bytes; a restore gives the original bytes; the
repair is in the ledger. And the full run's rotating read-back: every object read back within
one cycle of full runs, a damaged one found by it and replaced."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backup.runs.readback import turn_of
from tests.backupkit import make_files, tree, write_profile
from tests.conftest import run_backup
from tests.kit.s3 import S3Server

NOT_NOW = {"read_back_cycle": 0}  # no read-back: only verify's finding may name the damage


@dataclass
class Place:
    """A target of the test's profile, and how the test reaches its stored objects directly."""

    entry: dict[str, Any]
    read: Callable[[str], bytes]  # key under <root>/lily/ -> bytes
    damage: Callable[[str, bytes], None]  # rewrite the object under key with these bytes
    keys: Callable[[str], list[str]]  # every key under a prefix


def drive_place(tmp: Path) -> Place:
    drive = tmp / "Drive"
    drive.mkdir()
    root = drive / "lily"

    def keys(prefix: str) -> list[str]:
        top = root / prefix
        return (
            sorted(p.relative_to(root).as_posix() for p in top.rglob("*") if p.is_file())
            if top.exists()
            else []
        )

    return Place(
        {"name": "drive", "type": "local", "path": str(drive)},
        lambda key: (root / key).read_bytes(),
        lambda key, data: (root / key).write_bytes(data),
        keys,
    )


def s3_place(s3: S3Server) -> Place:
    bucket = s3.make_bucket()
    prefix = "keepmark/lily/"

    def damage(key: str, data: bytes) -> None:
        head = s3.client.head_object(Bucket=bucket, Key=prefix + key)
        assert head["Metadata"]["sha256"]  # the hash of the original, kept as it was
        s3.client.put_object(Bucket=bucket, Key=prefix + key, Body=data, Metadata=head["Metadata"])

    return Place(
        s3.target_entry(bucket, name="cloud", prefix="keepmark"),
        lambda key: s3.client.get_object(Bucket=bucket, Key=prefix + key)["Body"].read(),
        damage,
        lambda p: [k[len(prefix) :] for k in s3.object_keys(bucket) if k.startswith(prefix + p)],
    )


def rclone_place(remotes: Any) -> Place:
    remote = remotes.fresh("webdav")
    root = remotes.folder(remote) / "lily"  # the folder the server serves the remote from

    def keys(prefix: str) -> list[str]:
        top = root / prefix
        return (
            sorted(p.relative_to(root).as_posix() for p in top.rglob("*") if p.is_file())
            if top.exists()
            else []
        )

    return Place(
        {"name": "webdav", "type": "rclone", "remote": remote},
        lambda key: (root / key).read_bytes(),
        lambda key, data: (root / key).write_bytes(data),
        keys,
    )


@pytest.fixture(params=["drive", "s3", "rclone"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "drive":
        return drive_place(tmp_path)
    if request.param == "s3":
        return s3_place(request.getfixturevalue("s3_server"))
    return rclone_place(request.getfixturevalue("rclone_remotes"))


def flipped(data: bytes, at: int = 7) -> bytes:
    out = bytearray(data)
    out[at] ^= 0xFF
    return bytes(out)


def ledger(home: Path, type_: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(home / "state" / "lily" / "inventory.sqlite")
    try:
        rows = conn.execute("SELECT data FROM ledger WHERE type = ? ORDER BY seq", (type_,)).fetchall()
    finally:
        conn.close()
    return [json.loads(r[0]) for r in rows]


def findings(home: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(home / "state" / "lily" / "inventory.sqlite")
    try:
        return conn.execute(
            "SELECT target, path, found_by, resolved IS NOT NULL, resolution FROM damaged ORDER BY found"
        ).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("how", ["full", "repair"])
def test_what_verify_finds_damaged_is_uploaded_again(
    how: str, place: Place, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "Shoots"
    files = make_files(src, 5)
    write_profile(home, [src], [place.entry], schedule=NOT_NOW)
    monkeypatch.chdir(tmp_path)
    assert run_backup("full").code == 0
    rel = sorted(files)[2]
    key = f"originals/Shoots/{rel}"
    bad = flipped(files[rel])
    place.damage(key, bad)
    assert place.read(key) == bad
    r = run_backup("verify", "--read-data")
    assert r.code == 1 and f"Shoots/{rel}" in r.err and "content differs" in r.err, r
    name = place.entry["name"]
    assert findings(home) == [(name, f"Shoots/{rel}", "verify", 0, None)]

    r = run_backup(how, "--json")
    assert r.code == 0, r
    [t] = r.json()["targets"]
    assert [(item["path"], item["found_by"]) for item in t["repaired"]] == [(f"Shoots/{rel}", "verify")]
    if how == "full":
        assert t["files"] == 1 and t["versions"] == 0, t
    assert place.read(key) == files[rel]
    # the damaged copy was not kept as an earlier version (nor anywhere else)
    assert place.keys("versions/") == []
    assert all(place.read(k) != bad for k in place.keys(""))
    # the finding is closed, and the repair is in the ledger with what was found, when, by what
    assert findings(home) == [(name, f"Shoots/{rel}", "verify", 1, f"replaced by backup {how}")]
    [entry] = ledger(home, "repair")
    assert entry["target"] == name and entry["path"] == f"Shoots/{rel}" and entry["found_by"] == "verify"
    assert entry["by"] == f"backup {how}" and "content differs" in entry["problem"] and entry["found"]

    assert run_backup("verify", "--read-data").code == 0
    r = run_backup(how, "--json")  # nothing left to repair
    assert r.code == 0 and r.json()["targets"][0]["repaired"] == [], r
    out = tmp_path / "restored"
    r = run_backup("restore", "--target", name, "--to", str(out))
    assert r.code == 0, r
    assert tree(out / "Shoots") == files


def test_without_verify_a_full_run_on_s3_trusts_the_stored_hash(
    home: Path, tmp_path: Path, s3_server: S3Server
) -> None:
    """The failure as it was found: the object claims the original's SHA-256, so a full run
    without a read-back calls it "already there"; verify's finding is what makes it act."""
    src = tmp_path / "Shoots"
    files = make_files(src, 3)
    place = s3_place(s3_server)
    write_profile(home, [src], [place.entry], schedule=NOT_NOW)
    assert run_backup("full").code == 0
    rel = sorted(files)[0]
    place.damage(f"originals/Shoots/{rel}", flipped(files[rel]))
    r = run_backup("full", "--json")
    assert r.code == 0 and r.json()["targets"][0]["unchanged"] == 3, r
    assert run_backup("verify", "--read-data").code == 1
    r = run_backup("full", "--json")
    assert r.code == 0 and [i["path"] for i in r.json()["targets"][0]["repaired"]] == [f"Shoots/{rel}"], r
    assert place.read(f"originals/Shoots/{rel}") == files[rel]


@pytest.mark.parametrize("kind", ["drive", "rclone"])
def test_a_full_run_replaces_a_damaged_copy_it_finds_and_keeps_no_version_of_it(
    kind: str, home: Path, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a drive (every copy read back to compare) and an rclone remote (the remote's own
    hash of what it stores), a full run finds the damage by itself: the copy is uploaded again
    and was never kept under versions/ as an "earlier version"; a real earlier version still is."""
    place = (
        drive_place(tmp_path) if kind == "drive" else rclone_place(request.getfixturevalue("rclone_remotes"))
    )
    src = tmp_path / "Shoots"
    files = make_files(src, 4)
    write_profile(home, [src], [place.entry], schedule=NOT_NOW)
    monkeypatch.chdir(tmp_path)
    assert run_backup("full").code == 0
    damaged, edited = sorted(files)[:2]
    place.damage(f"originals/Shoots/{damaged}", flipped(files[damaged]))
    (src / edited).write_bytes(b"edited on the laptop")
    r = run_backup("full", "--json")
    assert r.code == 0, r
    [t] = r.json()["targets"]
    assert [(i["path"], i["found_by"]) for i in t["repaired"]] == [(f"Shoots/{damaged}", "full")], t
    assert t["versions"] == 1 and t["files"] == 2, t
    [version] = place.keys("versions/")
    assert place.read(version) == files[edited]  # the edited file's earlier content, and only it
    assert place.read(f"originals/Shoots/{damaged}") == files[damaged]
    assert findings(home) == [
        (place.entry["name"], f"Shoots/{damaged}", "full", 1, "replaced by backup full")
    ]
    assert [e["path"] for e in ledger(home, "repair")] == [f"Shoots/{damaged}"]


def test_repair_names_what_it_cannot_repair(home: Path, tmp_path: Path) -> None:
    place = drive_place(tmp_path)
    src = tmp_path / "Shoots"
    files = make_files(src, 3)
    write_profile(home, [src], [place.entry], schedule=NOT_NOW)
    assert run_backup("full").code == 0
    gone, changed = sorted(files)[:2]
    for rel in (gone, changed):
        place.damage(f"originals/Shoots/{rel}", flipped(files[rel]))
    assert run_backup("verify", "--read-data").code == 1
    (src / gone).unlink()
    assert run_backup("inventory", "scan").code == 0
    (src / changed).write_bytes(b"changed after the scan")
    r = run_backup("repair", "--json")
    assert r.code == 1, r
    [t] = r.json()["targets"]
    assert t["status"] == "partial" and t["repaired"] == []
    assert sorted(i["path"] for i in t["left"]) == sorted([f"Shoots/{gone}", f"Shoots/{changed}"])
    assert f"Shoots/{gone}: content differs" in r.err and "not repaired" in r.err
    assert place.keys("versions/") == []
    r = run_backup("repair")  # still open: named again
    assert r.code == 1 and f"Shoots/{changed}" in r.err


def test_repair_with_nothing_found_and_a_target_named(home: Path, tmp_path: Path) -> None:
    place = drive_place(tmp_path)
    src = tmp_path / "Shoots"
    make_files(src, 2)
    write_profile(home, [src], [place.entry])
    assert run_backup("full").code == 0
    r = run_backup("repair", "--target", "drive")
    assert r.code == 0 and "drive: nothing found damaged" in r.out, r
    r = run_backup("repair", "--target", "nowhere")
    assert r.code == 2 and "no target named 'nowhere'" in r.err, r


# -- the rotating read-back ---------------------------------------------------------------------


def test_twelve_full_runs_read_back_every_object_and_find_damage_behind_a_true_looking_hash(
    home: Path, tmp_path: Path, s3_server: S3Server
) -> None:
    """Every object of the bucket is damaged with its ``sha256`` metadata intact, so only reading
    it back shows it. Each full run reads back its twelfth (fixed by the keys: no clock, no
    randomness) and replaces what it finds; after 12 runs every object was read back exactly
    once, so all are repaired, and the 13th run starts the cycle again."""
    src = tmp_path / "Shoots"
    files = make_files(src, 36, size=2_000)
    place = s3_place(s3_server)
    write_profile(home, [src], [place.entry])  # the default: 1/12
    r = run_backup("full", "--json")
    assert r.code == 0 and r.json()["targets"][0]["read_back"]["files"] == 0, r  # all new
    keys = {f"originals/Shoots/{rel}": rel for rel in files}
    for key, rel in keys.items():
        place.damage(key, flipped(files[rel]))
    repaired: list[str] = []
    read = 0
    for month in range(12):
        turn = (month + 1) % 12  # the first run (all uploads) was turn 1
        r = run_backup("full", "--json")
        assert r.code == 0, r
        [t] = r.json()["targets"]
        due = sorted(f"Shoots/{rel}" for key, rel in keys.items() if turn_of(key, 12) == turn)
        assert t["read_back"]["share"] == "1/12" and t["read_back"]["turn"] == turn + 1
        assert t["read_back"]["files"] == len(due) and t["read_back"]["damaged"] == len(due), t
        assert sorted(i["path"] for i in t["repaired"]) == due
        assert all(i["found_by"] == "read-back" for i in t["repaired"]) and t["versions"] == 0
        repaired += due
        read += t["read_back"]["files"]
    assert sorted(repaired) == sorted(f"Shoots/{rel}" for rel in files) and read == len(files)
    assert all(place.read(key) == files[rel] for key, rel in keys.items())
    assert place.keys("versions/") == []
    # status: when the last read-back was, how much it read, what it found
    [target] = run_backup("status", "--json").json()["targets"]
    last = target["last_read_back"]
    assert last["by"] == "full" and last["when"]
    assert (last["files"], last["bytes"], last["damaged"]) == (
        t["read_back"]["files"],
        t["read_back"]["bytes"],
        t["read_back"]["damaged"],
    )
    assert "last read back" in run_backup("status").out
    # a verify that reads everything back is a read-back too
    assert run_backup("verify", "--read-data").code == 0
    [target] = run_backup("status", "--json").json()["targets"]
    assert target["last_read_back"]["by"] == "verify" and target["last_read_back"]["files"] == len(files)
    assert target["last_read_back"]["damaged"] == 0


def test_the_read_back_share_is_a_profile_key(home: Path, tmp_path: Path) -> None:
    place = drive_place(tmp_path)
    src = tmp_path / "Shoots"
    files = make_files(src, 4)
    write_profile(home, [src], [place.entry], schedule={"read_back_cycle": 1})
    assert run_backup("full").code == 0
    r = run_backup("full", "--json")  # 1: everything, every full run
    assert r.code == 0 and r.json()["targets"][0]["read_back"]["files"] == len(files), r
    write_profile(home, [src], [place.entry], schedule={"read_back_cycle": 0})
    r = run_backup("full", "--json")
    assert r.code == 0 and r.json()["targets"][0]["read_back"] is None, r
    write_profile(home, [src], [place.entry], schedule={"read_back_cycle": "monthly"})
    r = run_backup("full")
    assert r.code == 2 and "schedule.read_back_cycle" in r.err and "whole number" in r.err, r


# -- the inventory's record of damage -----------------------------------------------------------


def test_a_version_3_inventory_gains_the_damaged_table_and_keeps_its_records(
    home: Path, tmp_path: Path
) -> None:
    """Schema 4 only adds the ``damaged`` table: an inventory written by schema 3 (this schema
    without that table, version "3" in ``meta``) opens, is upgraded in place with every record
    and ledger entry kept, and then keeps findings."""
    from inventory.store.db import SCHEMA_VERSION
    from inventory.store.inventory import Inventory
    from inventory.store.rows import Damage

    place = drive_place(tmp_path)
    src = tmp_path / "Shoots"
    files = make_files(src, 2)
    write_profile(home, [src], [place.entry], schedule=NOT_NOW)
    assert run_backup("full").code == 0
    db = home / "state" / "lily" / "inventory.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE damaged")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    before = conn.execute("SELECT seq, hash FROM ledger ORDER BY seq").fetchall()
    paths = conn.execute("SELECT path, sha256 FROM paths ORDER BY path").fetchall()
    conn.close()

    rel = sorted(files)[0]
    place.damage(f"originals/Shoots/{rel}", flipped(files[rel]))
    r = run_backup("verify", "--read-data")  # opens (and upgrades) it, and records the finding
    assert r.code == 1, r
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION),
        )
        assert SCHEMA_VERSION == 4
        assert conn.execute("SELECT seq, hash FROM ledger ORDER BY seq").fetchall()[: len(before)] == before
        assert conn.execute("SELECT path, sha256 FROM paths ORDER BY path").fetchall() == paths
    finally:
        conn.close()
    assert findings(home) == [("drive", f"Shoots/{rel}", "verify", 0, None)]
    assert run_backup("ledger", "verify").code == 0

    with Inventory.open(db) as inv:
        [open_] = inv.open_damage("drive")
        assert open_.path == f"Shoots/{rel}" and open_.found_by == "verify"
        # a second finding of an open key updates it, and does not open another
        again = Damage("drive", open_.key, open_.path, open_.sha256, "missing", "", "read-back")
        [kept] = inv.note_damage([again])
        assert (kept.problem, kept.found, kept.found_by) == ("missing", open_.found, "verify")
        assert [d.problem for d in inv.open_damage()] == ["missing"]
        assert inv.resolve_damage("drive", [open_.key, "originals/none"], "by hand") == [kept]
        assert inv.open_damage() == [] and inv.resolve_damage("drive", [open_.key], "again") == []
        [row] = inv.damage_history("drive")
        assert row["resolution"] == "by hand" and row["resolved"]


def test_an_incremental_run_does_not_keep_a_damaged_copy_as_the_earlier_version(
    home: Path, tmp_path: Path
) -> None:
    """A file edited on the laptop whose copy on the drive was damaged meanwhile: what the
    incremental run replaces is not its earlier content, so it is not kept under versions/."""
    place = drive_place(tmp_path)
    src = tmp_path / "Shoots"
    files = make_files(src, 3)
    write_profile(home, [src], [place.entry], schedule=NOT_NOW)
    assert run_backup("full").code == 0
    rel = sorted(files)[1]
    place.damage(f"originals/Shoots/{rel}", flipped(files[rel]))
    (src / rel).write_bytes(b"edited on the laptop")
    r = run_backup("incremental", "--json")
    assert r.code == 0, r
    [t] = r.json()["targets"]
    assert t["files"] == 1 and t["versions"] == 0, t
    assert [(i["path"], i["found_by"]) for i in t["repaired"]] == [(f"Shoots/{rel}", "incremental")]
    assert place.keys("versions/") == [] and place.read(f"originals/Shoots/{rel}") == b"edited on the laptop"
    assert [e["by"] for e in ledger(home, "repair")] == ["backup incremental"]
    # an undamaged earlier content is still kept
    (src / rel).write_bytes(b"edited again")
    r = run_backup("incremental", "--json")
    assert r.code == 0 and r.json()["targets"][0]["versions"] == 1, r
    [version] = place.keys("versions/")
    assert place.read(version) == b"edited on the laptop"


def test_a_finding_read_back_intact_later_is_closed_by_verify(home: Path, tmp_path: Path) -> None:
    place = drive_place(tmp_path)
    src = tmp_path / "Shoots"
    files = make_files(src, 2)
    write_profile(home, [src], [place.entry], schedule=NOT_NOW)
    assert run_backup("full").code == 0
    rel = sorted(files)[0]
    key = f"originals/Shoots/{rel}"
    place.damage(key, flipped(files[rel]))
    assert run_backup("verify", "--read-data").code == 1
    place.damage(key, files[rel])  # put right by hand (the drive's own copy back)
    assert run_backup("verify").code == 0  # sizes only: reads nothing, closes nothing
    assert findings(home) == [("drive", f"Shoots/{rel}", "verify", 0, None)]
    assert run_backup("verify", "--read-data").code == 0
    assert findings(home) == [("drive", f"Shoots/{rel}", "verify", 1, "read back intact by verify")]
    r = run_backup("repair", "--json")
    assert r.code == 0 and r.json()["targets"][0]["repaired"] == [], r
    assert ledger(home, "repair") == []
