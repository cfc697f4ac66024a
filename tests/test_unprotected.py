"""Which originals some target does not hold (``backup status``' not_on_every_target, ``backup
check``'s finding, the dashboard): worked out inside SQLite with the catalog attached, it must
agree with the plain reading (each file's key and content against the catalog's rows, in Python),
follow each source folder's label, and never serve a remembered answer after a change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backup.app.facts import missing_on, unprotected
from backup.app.workspace import open_inventory
from backup.profile.load import load
from tests.backupkit import write_profile


def make_files(folder: Path, count: int, seed: int) -> None:
    for i in range(count):
        path = folder / f"shoot {i % 2}" / f"notes_{seed}_{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{seed}-{i} ".encode() * (100 + i))


def plain(profile: Any) -> list[tuple[str, list[str]]]:
    with open_inventory(profile, create=False) as inv:
        rows = [d.file for d in inv.current_files_dated()]
    return [(r.path, lacking) for r, lacking in zip(rows, missing_on(profile, rows), strict=True) if lacking]


def test_the_sql_answer_is_the_plain_one_and_follows_changes(home: Path, tmp_path: Path, cli: Any) -> None:
    pictures, movies = (
        tmp_path / "Pictures" / "Exports",
        tmp_path / "Movies" / "Exports",
    )  # one name, two labels
    make_files(pictures, 6, seed=1)
    make_files(movies, 4, seed=2)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    targets = [{"name": "a", "type": "local", "path": str(a)}, {"name": "b", "type": "local", "path": str(b)}]
    write_profile(home, [pictures, movies], targets)
    profile = load("lily")
    assert cli("inventory", "scan", "-p", "lily").code == 0
    every = plain(profile)
    assert len(every) == 10 and all(lacking == ["a", "b"] for _, lacking in every)
    assert [(u["path"], u["missing_on"]) for u in unprotected(profile)] == every  # no catalog yet
    assert cli("full", "-p", "lily", "--target", "a").code == 0
    only_b = [(u["path"], u["missing_on"]) for u in unprotected(profile)]
    assert only_b == plain(profile) and len(only_b) == 10 and all(m == ["b"] for _, m in only_b)
    # a file changed since: its new content is on no target
    changed = sorted(pictures.rglob("*.txt"))[0]
    changed.write_bytes(b"new content " * 100)
    assert cli("inventory", "scan", "-p", "lily").code == 0
    now = [(u["path"], u["missing_on"]) for u in unprotected(profile)]
    assert now == plain(profile) and (str(changed), ["a", "b"]) in now
    assert cli("full", "-p", "lily").code == 0
    assert unprotected(profile) == plain(profile) == []


def test_a_remembered_ledger_verdict_never_hides_an_edit(home: Path, tmp_path: Path, cli: Any) -> None:
    import sqlite3

    from backup.app.check import check_profile

    src = tmp_path / "Shoots"
    make_files(src, 3, seed=3)
    write_profile(home, [src], [])
    assert cli("inventory", "scan", "-p", "lily").code == 0
    profile = load("lily")
    assert not [f for f in check_profile(profile).findings if f["check"] == "ledger"]
    assert not [f for f in check_profile(profile).findings if f["check"] == "ledger"]  # remembered
    with sqlite3.connect(home / "state" / "lily" / "inventory.sqlite") as db:
        db.execute("UPDATE content SET first_seen = '2020-01-01T00:00:00Z'")
    [finding] = [f for f in check_profile(profile).findings if f["check"] == "ledger"]
    assert finding["severity"] == "high"
