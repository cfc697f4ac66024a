"""The ledger is the source of truth; the tables are an index over it. An edit made outside the
ledger, as a user found it (`sqlite3 inventory.sqlite "update content set
first_seen='2020-01-01T00:00:00Z' where ..."`), is named by `backup ledger verify` (exit 1) and
refused by `backup prove` (exit 2, one line naming the row); a chain rewritten and re-hashed
is named on verify's normal output by the signed checkpoints it no longer matches. Real
photos, the real CLI in its own process, the real database file edited with sqlite3."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from inventory import Inventory, Source, scan
from tests.conftest import run_backup
from tests.kit.media import jpeg
from tests.test_checkpoints import rewrite_chain

BACKDATED = "2020-01-01T00:00:00Z"


def edit(db: Path, statement: str, **params: Any) -> None:
    """Edit the inventory file as a user did: SQL straight into the database."""
    conn = sqlite3.connect(db)
    conn.execute(statement, params)
    conn.commit()
    conn.close()


def one(db: Path, query: str, **params: Any) -> Any:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query, params).fetchone()
    finally:
        conn.close()


@pytest.fixture
def recorded(home: Path, sources: Path, profile: str, tmp_path: Path) -> dict[str, Any]:
    """A photo recorded at two paths (an 'original' and a 'path' entry), a caption beside it, a
    stamped copy of the photo; a recompressed repost of it to prove."""
    photo = jpeg(sources / "2026" / "sunset.jpg", size=(960, 720), seed=7)
    (sources / "2026" / "notes.txt").write_text("sunset at the harbour, 海边", encoding="utf-8")
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    (sources / "best").mkdir()
    shutil.copyfile(photo, sources / "best" / "sunset.jpg")
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    r = run_backup("stamp", "-p", profile, "--json")
    assert r.code == 0, r
    repost = tmp_path / "downloads" / "repost.jpg"
    repost.parent.mkdir()
    with Image.open(photo) as im:
        im.convert("RGB").resize((480, 360)).save(repost, "JPEG", quality=45)
    db = home / "state" / profile / "inventory.sqlite"
    sha = one(db, "SELECT sha256 FROM paths WHERE path = :p", p=str(photo))[0]
    seq, first_seen = one(
        db,
        "SELECT seq, time FROM ledger WHERE type = 'original' AND json_extract(data, '$.sha256') = :s",
        s=sha,
    )
    honest = run_backup("ledger", "verify", "-p", profile, "--json")
    assert honest.code == 0 and honest.json()["disagreement"] is None, honest
    return {
        "profile": profile,
        "db": db,
        "photo": photo,
        "copy": sources / "best" / "sunset.jpg",
        "notes": sources / "2026" / "notes.txt",
        "sha": sha,
        "seq": seq,
        "first_seen": first_seen,
        "repost": repost,
    }


def refused_by_prove(rec: dict[str, Any], tmp_path: Path, named: str) -> None:
    """`prove --out` writes nothing, and says why in one line naming the row (exit 2)."""
    out = tmp_path / "evidence"
    r = run_backup("prove", str(rec["repost"]), "--out", str(out), "-p", rec["profile"])
    assert r.code == 2, r
    assert len(r.err.strip().splitlines()) == 1 and named in r.err, r
    assert not out.exists() and not list(tmp_path.glob(".evidence.*"))
    assert run_backup("prove", str(rec["repost"]), "-p", rec["profile"], "--json").code == 2


def test_backdating_first_seen_outside_the_ledger_is_named_and_refused(
    recorded: dict[str, Any], tmp_path: Path
) -> None:
    sha, seq = recorded["sha"], recorded["seq"]
    # Before: the bundle states the ledger's first record.
    honest = tmp_path / "honest"
    assert run_backup("prove", str(recorded["repost"]), "--out", str(honest)).code == 0
    o = json.loads((honest / "evidence.json").read_text())["original"]
    assert o["first_seen"] == recorded["first_seen"]
    assert o["paths"] == [str(recorded["photo"]), str(recorded["copy"])]  # the 'original' entry's first
    conn = sqlite3.connect(recorded["db"])
    rows = conn.execute("SELECT sha256, path, created FROM derivatives WHERE source = ?", (sha,)).fetchall()
    conn.close()
    assert rows and sorted((d["sha256"], d["path"], d["created"]) for d in o["derivatives"]) == sorted(rows)

    edit(recorded["db"], f"update content set first_seen='{BACKDATED}' where sha256 = :s", s=sha)

    r = run_backup("ledger", "verify", "-p", recorded["profile"])
    assert r.code == 1, r
    assert "Ledger intact" not in r.out and "Ledger NOT intact" in r.out
    line = (
        f"content row {sha}: first_seen is '{BACKDATED}' but ledger entry {seq} says "
        f"'{recorded['first_seen']}'"
    )
    assert line in r.out and line in r.err, r
    doc = run_backup("ledger", "verify", "-p", recorded["profile"], "--json").json()
    assert doc["ok"] is False and doc["bad_entry"] is None  # the chain itself holds
    assert doc["disagreement"] == {
        "table": "content",
        "row": sha,
        "column": "first_seen",
        "row_value": BACKDATED,
        "entry": seq,
        "entry_value": recorded["first_seen"],
    }
    assert line in doc["problem"]

    refused_by_prove(recorded, tmp_path, f"content row {sha}: first_seen is '{BACKDATED}'")
    # `backup check` grades it, naming the row.
    check = run_backup("check", "-p", recorded["profile"], "--json").json()
    [finding] = [f for f in check["findings"] if f["check"] == "ledger"]
    assert finding["severity"] == "high" and line in finding["problem"], finding
    # The bundle written before still states the ledger's time, never 2020.
    assert BACKDATED not in (honest / "notice.txt").read_text()
    assert run_backup("prove", "--verify", str(honest)).code == 0


# (statement, table, column, row): each edits one row a proof, report or status relies on.
EDITS = [
    ("update content set size = size + 1 where sha256 = :sha", "content", "size", "{sha}"),
    (
        "update content set capture_time = '2019-05-14T19:42:10+08:00' where sha256 = :sha",
        "content",
        "capture_time",
        "{sha}",
    ),
    ("update content set phash = '0000000000000000' where sha256 = :sha", "content", "phash", "{sha}"),
    (
        f"update sightings set first_seen = '{BACKDATED}' where sha256 = :sha",
        "sightings",
        "first_seen",
        "{sha} at",
    ),
    (f"update paths set first_seen = '{BACKDATED}' where path = :copy", "paths", "first_seen", "{copy}"),
    ("update paths set size = 1 where path = :photo", "paths", "size", "{photo}"),
    ("update paths set sha256 = :sha where path = :notes", "paths", "sha256", "{notes}"),
    (
        "insert into sightings (sha256, path, first_seen) values (:sha, '/elsewhere/sunset.jpg', "
        f"'{BACKDATED}')",
        "sightings",
        "path",
        "{sha} at /elsewhere/sunset.jpg",
    ),
    (f"update derivatives set created = '{BACKDATED}' where source = :sha", "derivatives", "created", ""),
    ("update derivatives set size = size + 7 where source = :sha", "derivatives", "size", ""),
]


@pytest.mark.parametrize(
    ("statement", "table", "column", "row"),
    EDITS,
    ids=[f"{e[1]}-{e[2]}" + ("-added" if e[0].startswith("insert") else "") for e in EDITS],
)
def test_every_row_a_proof_relies_on_is_checked_against_its_entry(
    recorded: dict[str, Any], tmp_path: Path, statement: str, table: str, column: str, row: str
) -> None:
    names = {k: str(recorded[k]) for k in ("sha", "photo", "copy", "notes")}
    edit(recorded["db"], statement, **{k: v for k, v in names.items() if f":{k}" in statement})
    named = f"{table} row {row.format(**names)}"
    r = run_backup("ledger", "verify", "-p", recorded["profile"])
    assert r.code == 1, r
    assert "Ledger NOT intact" in r.out and named in r.out, r
    doc = run_backup("ledger", "verify", "-p", recorded["profile"], "--json").json()
    assert doc["ok"] is False and doc["disagreement"]["table"] == table
    assert doc["disagreement"]["column"] == column
    refused_by_prove(recorded, tmp_path, named)


def test_a_rewritten_and_rehashed_chain_is_named_on_the_normal_output(
    recorded: dict[str, Any], tmp_path: Path
) -> None:
    """A careful forger backdates the record everywhere: the table rows and the ledger entry,
    then recomputes every hash. The chain and the tables agree; the signed checkpoints do not."""
    db, sha, seq = recorded["db"], recorded["sha"], recorded["seq"]
    edit(db, f"update content set first_seen = '{BACKDATED}' where sha256 = :s", s=sha)
    edit(
        db,
        f"update sightings set first_seen = '{BACKDATED}' where sha256 = :s and path = :p",
        s=sha,
        p=str(recorded["photo"]),
    )
    edit(db, f"update paths set first_seen = '{BACKDATED}' where path = :p", p=str(recorded["photo"]))
    edit(db, f"update ledger set time = '{BACKDATED}' where seq = :q", q=seq)
    rewrite_chain(db, seq)
    with Inventory.open(db, create=False) as inv:
        assert inv.verify_ledger().ok  # the forgery holds together on the laptop alone

    r = run_backup("ledger", "verify", "-p", recorded["profile"])
    assert r.code == 1, r
    assert "Ledger intact" not in r.out
    assert "signed checkpoint(s) no longer match the ledger" in r.out, r  # stdout, not only stderr
    assert "rewritten" in r.err
    doc = run_backup("ledger", "verify", "-p", recorded["profile"], "--json").json()
    assert doc["ok"] is False and doc["disagreement"] is None
    assert any(not c["ok"] for c in doc["checkpoints"]) and doc["problems"]

    out = tmp_path / "evidence"
    r = run_backup("prove", str(recorded["repost"]), "--out", str(out), "-p", recorded["profile"])
    assert r.code == 2 and "not signing" in r.err and not out.exists(), r


def _inventory(folder: Path, files: int) -> Path:
    src = folder / "src"
    for i in range(files):
        sub = src / f"d{i % 50}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_text(f"file {i}")
        if i % 10 == 0:  # a second path of the same content: a 'path' entry
            (sub / f"copy{i}.txt").write_text(f"file {i}")
    db = folder / "inventory.sqlite"
    with Inventory.open(db) as inv:
        scan(inv, [Source(str(src), str(src))], workers=1)
    return db


def _verify(db: Path) -> tuple[int, float]:
    """How many SQL statements verify_ledger runs, and its best time of three."""
    statements: list[str] = []
    best = float("inf")
    with Inventory.open(db, create=False) as inv:
        inv.conn.set_trace_callback(statements.append)
        for _ in range(3):
            started = time.perf_counter()
            assert inv.verify_ledger().ok
            best = min(best, time.perf_counter() - started)
        inv.conn.set_trace_callback(None)
    return len(statements) // 3, best


def test_ledger_verify_stays_linear(tmp_path: Path) -> None:
    """One pass over the entries, one over each table, no query per row: the same handful of
    statements for 600 files as for 4,800, and about eight times the time, not sixty-four
    (a shared machine's noise allowed for)."""
    small, small_time = _verify(_inventory(tmp_path / "small", 600))
    large, large_time = _verify(_inventory(tmp_path / "large", 4800))
    assert small == large and large <= 8, (small, large)
    # Eight times the files; a query per row (as before) took sixty-five times as long.
    assert large_time < 32 * small_time + 0.1, (small_time, large_time)


def test_a_moved_copy_keeps_the_time_it_was_made() -> None:
    """A ``derivative`` entry with ``moved_from`` ends the copy at the old path; the copy at the
    new path was made when the first entry says (its ``created``, or that entry's time when an
    entry lacks it), and a row that claims another time is named."""
    from inventory.ledger.truth import LedgerIndex, check_derivative
    from inventory.store.rows import DerivativeRow

    made, moved = "2026-05-01T10:00:00Z", "2026-06-01T10:00:00Z"
    copy = {"sha256": "c" * 64, "source": "a" * 64, "style": "s1", "kind": "stamped", "size": 10}
    for with_created in (True, False):
        index = LedgerIndex()
        index.add(1, made, "derivative", {**copy, "path": "/out/old.jpg"})
        data = {**copy, "path": "/out/new.jpg", "moved_from": "/out/old.jpg"}
        index.add(2, moved, "derivative", {**data, "created": made} if with_created else data)
        assert [s.seq for s in index.derivatives_of("a" * 64)] == [2], "the old path is ended"
        row = DerivativeRow("c" * 64, "a" * 64, "s1", "/out/new.jpg", 10, "stamped", made)
        assert check_derivative(row, index) is None
        wrong = check_derivative(row._replace(created=moved), index)
        assert wrong is not None and wrong.column == "created"
        gone = DerivativeRow("c" * 64, "a" * 64, "s1", "/out/old.jpg", 10, "stamped", made)
        assert check_derivative(gone, index) is not None, "no row may stay at the old path"
