"""kill -9 in the middle of a scan, then scan again: every file ends up recorded exactly once,
and the ledger still verifies."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from PIL import ImageDraw

from backup.app.samples import scene
from tests.backupkit import kill_when
from tests.conftest import run_backup

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name == "nt", reason="SIGKILL")]


def fill(sources: Path, photos: int, blobs: int) -> int:
    base = scene(1600, 1200, 7)
    for i in range(photos):
        im = base.copy()
        ImageDraw.Draw(im).rectangle(
            (i * 7 % 1500, i * 5 % 1100, i * 7 % 1500 + 90, i * 5 % 1100 + 90), fill=(i, 255 - i, 99)
        )
        im.save(sources / f"IMG_{i:04d}.jpg", quality=90)
    for i in range(blobs):
        (sources / f"export-{i:03d}.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    return photos + blobs


def contents(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT count(*) FROM content").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_kill_9_mid_scan_then_rescan_finishes(home: Path, sources: Path, profile: str) -> None:
    total = fill(sources, photos=120, blobs=80)
    db = home / "state" / profile / "inventory.sqlite"
    kills = 0
    for threshold in (1, total // 3, (2 * total) // 3):
        if kill_when(["inventory", "scan", "-p", profile], lambda t=threshold: contents(db) >= t):  # type: ignore[misc]
            kills += 1
    assert kills >= 1, "the scan always finished before it could be killed: make the data set bigger"
    assert contents(db) < total or kills < 3

    r = run_backup("inventory", "scan", "-p", profile, "--json")
    assert r.code == 0, r
    listed = run_backup("inventory", "list", "-p", profile, "--json").json()["files"]
    assert len(listed) == total
    assert {Path(f["path"]).name for f in listed} == {p.name for p in sources.iterdir()}
    conn = sqlite3.connect(db)
    originals = conn.execute(
        "SELECT count(*), count(DISTINCT json_extract(data, '$.sha256')) FROM ledger WHERE type = 'original'"
    ).fetchone()
    assert originals == (total, total), "each file recorded exactly once"
    assert conn.execute("SELECT count(*) FROM ledger WHERE type = 'path'").fetchone()[0] == 0
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert run_backup("ledger", "verify", "-p", profile).code == 0
    again = run_backup("inventory", "scan", "-p", profile, "--json").json()
    assert (again["new"], again["changed"], again["unchanged"]) == (0, 0, total)


def test_kill_9_mid_stamp_leaves_only_whole_copies(home: Path, tmp_path: Path) -> None:
    from PIL import Image

    sources, out = tmp_path / "Shoots", tmp_path / "Stamped"
    sources.mkdir()
    total = fill(sources, photos=60, blobs=0)
    assert (
        run_backup(
            "init",
            "lily",
            "--account",
            "Lily Chen",
            "--handle",
            "lily",
            "--source",
            str(sources),
            "--output",
            str(out),
        ).code
        == 0
    )
    assert run_backup("inventory", "scan", "-p", "lily").code == 0
    killed = kill_when(["stamp", "-p", "lily"], lambda: out.exists() and len(list(out.rglob("*.jpg"))) >= 5)
    assert killed, "stamping finished before it could be killed"
    for copy in out.rglob("*.jpg"):
        with Image.open(copy) as im:
            im.load()  # every file under a final name is whole
    r = run_backup("stamp", "-p", "lily", "--json")
    assert r.code == 0, r
    doc = r.json()
    assert len(doc["stamped"]) + len(doc["skipped"]) == total
    assert len(list(out.rglob("*.jpg"))) == total
    assert run_backup("ledger", "verify", "-p", "lily").code == 0
