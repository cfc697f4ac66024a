"""The ledger: append-only, hash-chained, and ``backup ledger verify`` catches any edit made
with the sqlite3 tool."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from inventory import Inventory
from inventory.ledger.chain import GENESIS, canonical_json, entry_hash
from tests.conftest import run_backup

# Changes the first hex digit of a column, whatever it was.
FLIP_FIRST = "(CASE WHEN substr({0}, 1, 1) = '0' THEN '1' ELSE '0' END) || substr({0}, 2)"


@pytest.fixture
def scanned(home: Path, sources: Path, profile: str) -> Path:
    for i in range(4):
        (sources / f"caption-{i}.txt").write_text(f"caption {i} 海边")
    r = run_backup("inventory", "scan", "-p", profile)
    assert r.code == 0, r
    # A second path for content already recorded: a 'path' entry, entry 5. (Files read in one
    # scan are recorded in the order their reads finish, so this one gets a scan of its own.)
    (sources / "sub").mkdir()
    (sources / "sub" / "caption-0.txt").write_text("caption 0 海边")
    r = run_backup("inventory", "scan", "-p", profile)
    assert r.code == 0, r
    return home / "state" / profile / "inventory.sqlite"


def sql(db: Path, statement: str) -> None:
    """Edit the database as a person would: with the sqlite3 tool if it is installed."""
    tool = shutil.which("sqlite3")
    if tool:
        subprocess.run([tool, str(db), statement], check=True)
    else:
        conn = sqlite3.connect(db)
        conn.execute(statement)
        conn.commit()
        conn.close()


def test_verify_passes_on_an_honest_ledger(scanned: Path, profile: str) -> None:
    r = run_backup("ledger", "verify", "-p", profile, "--json")
    assert r.code == 0, r
    doc = r.json()
    assert doc["ok"] is True and doc["entries"] == 5 and len(doc["head"]) == 64
    text = run_backup("ledger", "verify", "-p", profile)
    assert text.code == 0 and "Ledger intact: 5 entries" in text.out


def test_chain_rule_is_the_documented_one(scanned: Path) -> None:
    # Read with sqlite3 alone, as an independent verifier would (docs/design.md).
    conn = sqlite3.connect(scanned)
    prev = GENESIS
    rows = conn.execute("SELECT seq, time, type, data, prev, hash FROM ledger ORDER BY seq").fetchall()
    assert [r[2] for r in rows] == ["original"] * 4 + ["path"]
    for seq, time, type_, data, stored_prev, stored_hash in rows:
        assert stored_prev == prev
        assert data == canonical_json(json.loads(data)), "data is stored as canonical JSON"
        assert entry_hash(prev, seq, time, type_, json.loads(data)) == stored_hash
        assert time.endswith("Z")
        prev = stored_hash


@pytest.mark.parametrize(
    ("statement", "entry"),
    [
        ("UPDATE ledger SET data = replace(data, 'txt', 'jpg') WHERE seq = 2", 2),
        ("UPDATE ledger SET time = '2020-01-01T00:00:00.000000Z' WHERE seq = 1", 1),
        ("UPDATE ledger SET type = 'path' WHERE seq = 3", 3),
        (f"UPDATE ledger SET hash = {FLIP_FIRST.format('hash')} WHERE seq = 5", 5),
        (f"UPDATE ledger SET prev = {FLIP_FIRST.format('prev')} WHERE seq = 4", 4),
        ("DELETE FROM ledger WHERE seq = 3", 3),
        ("DELETE FROM ledger WHERE seq = 5", None),
    ],
    ids=["data", "time", "type", "hash", "link", "deleted-row", "cut-last-path-entry"],
)
def test_verify_names_the_first_entry_that_was_edited(
    scanned: Path, profile: str, statement: str, entry: int | None
) -> None:
    sql(scanned, statement)
    r = run_backup("ledger", "verify", "-p", profile)
    assert r.code == 1, r
    assert (f"entry {entry}" if entry else "removed from the end") in r.err
    doc = run_backup("ledger", "verify", "-p", profile, "--json").json()
    assert doc["ok"] is False and doc["bad_entry"] == entry


def test_verify_catches_entries_cut_from_the_end(scanned: Path, profile: str) -> None:
    conn = sqlite3.connect(scanned)
    last_original = conn.execute("SELECT max(seq) FROM ledger WHERE type = 'original'").fetchone()[0]
    conn.close()
    sql(scanned, f"DELETE FROM ledger WHERE seq >= {last_original}")
    r = run_backup("ledger", "verify", "-p", profile)
    assert r.code == 1 and "no ledger entry records it" in r.err


def test_verify_without_an_inventory_says_so(home: Path, profile: str) -> None:
    r = run_backup("ledger", "verify", "-p", profile)
    assert r.code == 2 and "no inventory yet" in r.err


def test_ledger_is_only_ever_appended(scanned: Path, sources: Path, profile: str) -> None:
    with Inventory.open(scanned, create=False) as inv:
        before = list(inv.ledger_rows())
    (sources / "caption-1.txt").write_text("changed caption")
    (sources / "new.txt").write_text("new")
    (sources / "caption-2.txt").unlink()
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    with Inventory.open(scanned, create=False) as inv:
        after = list(inv.ledger_rows())
    assert after[: len(before)] == before and len(after) == len(before) + 2
    assert run_backup("ledger", "verify", "-p", profile).code == 0


def test_records_and_ledger_commit_together(tmp_path: Path) -> None:
    """A failure in the middle of a batch leaves neither records nor ledger entries behind."""
    from inventory.record.examine import examine
    from inventory.record.walk import walk

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    (src / "b.txt").write_text("b")
    found = walk(str(src)).files
    items = [(f, *examine(f.path)) for f in found]
    broken = (items[1][0], items[1][1], None)  # an Observed of None fails inside the transaction
    with Inventory.open(tmp_path / "inv.sqlite") as inv:
        with pytest.raises(AttributeError):
            inv.record_many([items[0], broken])  # type: ignore[list-item]
        assert inv.counts() == {"contents": 0, "paths": 0, "ledger_entries": 0}
        inv.record_many(items)
        assert inv.counts() == {"contents": 2, "paths": 2, "ledger_entries": 2}
        assert inv.verify_ledger().ok
