"""An inventory written by an older Keepmark, opened and upgraded by this one.

``tests/fixtures/inventory-v1.sqlite`` is a real schema-version-1 inventory, written by
Keepmark's own code, not by hand: the ``inventory`` package of commit e092c0b (the last one with
``SCHEMA_VERSION = 1``, before stamped copies were recorded), taken from the history into a
temporary folder with ``git archive``, scanned the folder ``/tmp/keepmark-v1/Pictures/Shoots``
holding ``portrait.jpg`` and ``flatlay.png`` (copies of this folder's fixtures),
``2024/portrait-copy.jpg`` (the same bytes as ``portrait.jpg``), ``caption.txt`` (``CAPTION``)
and ``draft.txt`` (``DRAFT``), with ``Inventory.open(...)`` and ``scan(inv, [Source(root,
root)], workers=1)``. Then ``draft.txt`` was deleted and the folder scanned again. So it holds 4
contents, 5 paths (one missing), 5 sightings, 2 scans and 5 ledger entries (4 ``original``, 1
``path``); ``meta`` has only ``schema_version`` ("1") and ``created``; no ``derivatives``,
``match_hashes`` or ``frame_sequences`` tables.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from inventory import Inventory, Source, scan
from inventory.store.db import SCHEMA, SCHEMA_VERSION
from tests.conftest import REPO, run_backup

FIXTURES = REPO / "tests" / "fixtures"
OLD = FIXTURES / "inventory-v1.sqlite"
ROOT = "/tmp/keepmark-v1/Pictures/Shoots"
CAPTION = b"Golden hour at the dunes. #travel\n"
DRAFT = b"a draft, deleted later\n"
HEAD = "aade631761d47d165a7d7c17b7973614e690d63896a2136b501f7ee241ae0d43"  # entry 5's hash


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PORTRAIT = sha((FIXTURES / "portrait.jpg").read_bytes())
FLATLAY = sha((FIXTURES / "flatlay.png").read_bytes())


def raw(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the file as it is on disk, without the store (which would upgrade it)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def tables(db: Path) -> dict[str, list[str]]:
    """{table: its columns} as the file has them."""
    names = [str(n) for (n,) in raw(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {n: [str(r[1]) for r in raw(db, f"PRAGMA table_info({n})")] for n in names}


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    db = tmp_path / "state" / "inventory.sqlite"
    db.parent.mkdir()
    shutil.copyfile(OLD, db)
    return db


def test_the_fixture_is_a_version_1_inventory(old_db: Path) -> None:
    assert raw(old_db, "SELECT key, value FROM meta ORDER BY key")[1] == ("schema_version", "1")
    assert set(tables(old_db)) == {"meta", "content", "paths", "sightings", "ledger", "scans"}
    assert [t for (t,) in raw(old_db, "SELECT type FROM ledger ORDER BY seq")] == ["original"] * 4 + ["path"]


def test_opening_upgrades_it_and_keeps_every_record(old_db: Path) -> None:
    created = raw(old_db, "SELECT value FROM meta WHERE key = 'created'")[0][0]
    entries = raw(old_db, "SELECT seq, time, type, data, prev, hash FROM ledger ORDER BY seq")
    paths = raw(old_db, "SELECT * FROM paths ORDER BY path")
    contents = raw(old_db, "SELECT * FROM content ORDER BY sha256")
    sightings = raw(old_db, "SELECT * FROM sightings ORDER BY path")

    with Inventory.open(old_db, create=False) as inv:
        # The records, through the store.
        assert inv.counts() == {"contents": 4, "paths": 4, "ledger_entries": 5}
        listed = {
            Path(f["path"]).relative_to(ROOT).as_posix(): f for f in inv.list_files(include_missing=True)
        }
        assert {k: f["sha256"] for k, f in listed.items()} == {
            "2024/portrait-copy.jpg": PORTRAIT,
            "caption.txt": sha(CAPTION),
            "draft.txt": sha(DRAFT),
            "flatlay.png": FLATLAY,
            "portrait.jpg": PORTRAIT,
        }
        assert [k for k, f in listed.items() if f["missing_since"]] == ["draft.txt"]
        assert [r.relpath for r in inv.current_files()] == [
            "2024/portrait-copy.jpg",
            "caption.txt",
            "flatlay.png",
            "portrait.jpg",
        ]
        shown = inv.show(PORTRAIT)
        assert [Path(p["path"]).name for p in shown["paths"]] == ["portrait-copy.jpg", "portrait.jpg"]
        assert (shown["phash"], shown["dhash"]) == ("999bc16c6cccc2b3", "301898301830b098")
        assert shown["hash_params"]["scheme"] == "keepmark-hash-1"
        assert [e["type"] for e in shown["ledger"]] == ["original", "path"]
        assert shown["derivatives"] == []
        # The ledger: the same rows, the chain and the records' cover intact.
        assert list(inv.ledger_rows()) == entries
        report = inv.verify_ledger()
        assert report.ok, report.problem
        assert (report.entries, report.head) == (5, HEAD)
        assert inv.ledger_head() == (5, HEAD)
        assert inv.fingerprint()
        # Matching: nothing enrolled yet (the first match enrols what it can read again).
        assert not inv.match_enrolled() and inv.unenrolled_media() == sorted([FLATLAY, PORTRAIT])

    # The file: the current version, every table and column of the schema, the old rows as
    # they were, the creation time kept.
    assert raw(old_db, "SELECT value FROM meta WHERE key = 'schema_version'")[0][0] == str(SCHEMA_VERSION)
    assert raw(old_db, "SELECT value FROM meta WHERE key = 'created'")[0][0] == created
    want = _schema_tables()
    assert tables(old_db) == want
    assert {"derivatives", "match_hashes", "frame_sequences"} <= set(want)
    indexes = {n for (n,) in raw(old_db, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"paths_sha256", "paths_quick", "derivatives_sha256"} <= indexes
    assert raw(old_db, "SELECT seq, time, type, data, prev, hash FROM ledger ORDER BY seq") == entries
    assert raw(old_db, "SELECT * FROM paths ORDER BY path") == paths
    assert raw(old_db, "SELECT * FROM content ORDER BY sha256") == contents
    assert raw(old_db, "SELECT * FROM sightings ORDER BY path") == sightings
    assert len(raw(old_db, "SELECT * FROM scans")) == 2


def _schema_tables() -> dict[str, list[str]]:
    """{table: its columns} of a new database made by this version."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    out = {n: [str(r[1]) for r in conn.execute(f"PRAGMA table_info({n})")] for n in names}
    conn.close()
    return out


def test_a_scan_then_records_on_top_of_the_old_records(old_db: Path, tmp_path: Path) -> None:
    shoots = tmp_path / "Shoots"
    shoots.mkdir()
    shutil.copyfile(FIXTURES / "portrait.jpg", shoots / "portrait.jpg")  # known content, new path
    (shoots / "caption.txt").write_bytes(CAPTION)  # known content, new path
    (shoots / "new.txt").write_bytes(b"written after the upgrade\n")  # new content
    with Inventory.open(old_db) as inv:
        report = scan(inv, [Source(str(shoots), str(shoots))], workers=1)
        assert report.ok and (report.new, report.changed, report.missing) == (3, 0, 0), report.as_dict()
        assert inv.counts() == {"contents": 5, "paths": 7, "ledger_entries": 8}
        new = inv.ledger_entries(6, 8)
        assert sorted((e.type, Path(e.data["path"]).name) for e in new) == [
            ("original", "new.txt"),
            ("path", "caption.txt"),
            ("path", "portrait.jpg"),
        ]
        assert new[0].prev == HEAD
        assert inv.verify_ledger().ok
        # The old folder was not scanned: its paths are left as they were.
        assert len([f for f in inv.list_files(include_missing=True) if f["root"] == ROOT]) == 5
        # The stored hashes of the old version are the ones this version computes.
        assert inv.show(str(shoots / "portrait.jpg"))["phash"] == "999bc16c6cccc2b3"
        # A stamped copy can now be recorded against an old original.
        copy = tmp_path / "portrait-stamped.jpg"
        copy.write_bytes(b"not really a stamped copy")
        inv.record_derivative(PORTRAIT, str(copy), style="s" * 64)
        assert [d["path"] for d in inv.derivatives_of(PORTRAIT)] == [str(copy)]
        assert inv.verify_ledger().ok
        # And matching enrols the old photo it can read again (at its new path; the old
        # folder is not expected to exist here).
        from inventory.match.enrol import enrol_missing

        assert enrol_missing(inv) == (2 if Path(ROOT, "flatlay.png").exists() else 1)
        assert PORTRAIT not in inv.unenrolled_media() and inv.match_enrolled()


def test_the_cli_upgrades_a_profile_s_old_inventory(home: Path, sources: Path, profile: str) -> None:
    db = home / "state" / profile / "inventory.sqlite"
    db.parent.mkdir(parents=True, exist_ok=True)
    assert not db.exists()
    shutil.copyfile(OLD, db)
    r = run_backup("ledger", "verify", "-p", profile, "--json")
    assert r.code == 0, r
    assert r.json()["entries"] == 5
    shutil.copyfile(FIXTURES / "flatlay.png", sources / "flatlay.png")
    r = run_backup("inventory", "scan", "-p", profile, "--json")
    assert r.code == 0, r
    assert r.json()["new"] == 1
    r = run_backup("ledger", "verify", "-p", profile, "--json")
    assert r.code == 0, r
    doc = r.json()
    assert doc["entries"] == 6 and doc["ok"] is True
    assert raw(db, "SELECT value FROM meta WHERE key = 'schema_version'")[0][0] == str(SCHEMA_VERSION)
    shown = json.loads(run_backup("inventory", "show", FLATLAY, "-p", profile, "--json").out)
    assert len(shown["paths"]) == 2
