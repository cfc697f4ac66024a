"""The remembered walk: a scan over files that have not changed since the last whole scan
skips reading the records, and any change, any doubt, or anyone else's write falls back to the
full quick check (``inventory.record.walk_memo``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from inventory import Inventory, Source, scan
from inventory.progress import Event, Finished, Progress, Started
from inventory.record.scan import STILL_WRITTEN, ScanReport
from tests.conftest import run_backup


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "2026-05 Beach").mkdir(parents=True)
    for i in range(6):
        (src / "2026-05 Beach" / f"IMG_{i:04d}.txt").write_text(f"photo {i}")
    (src / "caption.txt").write_text("golden hour")
    return src


class Counting:
    """Counts how often a scan reads the records (the quick check's rows)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads = 0
        real = Inventory.known_paths

        def known_paths(inv: Inventory, roots: Any) -> Any:
            self.reads += 1
            return real(inv, roots)

        monkeypatch.setattr(Inventory, "known_paths", known_paths)


def scan_all(inv: Inventory, src: Path, **kwargs: Any) -> ScanReport:
    return scan(inv, [Source(str(src), str(src))], **kwargs)


def counts(r: ScanReport) -> tuple[int, int, int, int, int]:
    return r.files, r.new, r.changed, r.unchanged, r.missing


def test_unchanged_files_skip_the_records_and_every_change_is_still_found(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Counting(monkeypatch)
    with Inventory.open(tmp_path / "inv.sqlite") as inv:
        assert counts(scan_all(inv, folder)) == (7, 7, 0, 0, 0)
        assert seen.reads == 1
        again = scan_all(inv, folder)
        assert counts(again) == (7, 0, 0, 7, 0) and again.ok
        assert seen.reads == 1, "the records were read although nothing changed"

        # A touched file (same bytes, new time) is read again and found unchanged.
        note = folder / "caption.txt"
        later = note.stat().st_mtime_ns + 5_000_000_000
        os.utime(note, ns=(later, later))
        touched = scan_all(inv, folder)
        assert counts(touched) == (7, 0, 0, 7, 0) and touched.bytes_read == note.stat().st_size
        assert seen.reads == 2
        assert counts(scan_all(inv, folder)) == (7, 0, 0, 7, 0) and seen.reads == 2

        # New bytes of the same size and time, with a new inode: a changed file.
        photo = folder / "2026-05 Beach" / "IMG_0001.txt"
        st = photo.stat()
        replacement = folder / "replacement.tmp"  # made while the old file holds its inode
        replacement.write_text("PHOTO 1")
        os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
        replacement.replace(photo)
        assert counts(scan_all(inv, folder))[2] == 1 and seen.reads == 3

        # A deleted file, a new one, a renamed one.
        (folder / "2026-05 Beach" / "IMG_0002.txt").unlink()
        (folder / "new.txt").write_text("new")
        assert counts(scan_all(inv, folder)) == (7, 1, 0, 6, 1) and seen.reads == 4
        (folder / "new.txt").rename(folder / "renamed.txt")
        assert counts(scan_all(inv, folder)) == (7, 1, 0, 6, 1) and seen.reads == 5
        paths = {Path(f["path"]).name for f in inv.list_files()}
        assert "renamed.txt" in paths and "new.txt" not in paths and "IMG_0002.txt" not in paths

        # The file comes back: found present again, then quiet.
        (folder / "2026-05 Beach" / "IMG_0002.txt").write_text("photo 2")
        assert counts(scan_all(inv, folder))[0] == 8 and seen.reads == 6
        assert counts(scan_all(inv, folder)) == (8, 0, 0, 8, 0) and seen.reads == 6
        assert len(inv.list_files()) == 8


def test_anyone_elses_write_to_the_records_means_a_full_check(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Counting(monkeypatch)
    db = tmp_path / "inv.sqlite"
    with Inventory.open(db) as inv:
        scan_all(inv, folder)
        # Another process (the daemon, another command) records a file of another folder.
        other = tmp_path / "other"
        other.mkdir()
        (other / "x.txt").write_text("x")
        with Inventory.open(db) as second:
            scan(second, [Source(str(other), str(other))])
        scan_all(inv, folder)
        assert seen.reads == 3, "a write by someone else did not end the remembered walk"
        scan_all(inv, folder)
        assert seen.reads == 3


def test_a_write_during_the_scan_is_not_remembered_as_matching(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "inv.sqlite"
    with Inventory.open(db) as inv:
        scan_all(inv, folder)
    (folder / "caption.txt").write_text("a new caption, being recorded")

    def write_meanwhile(event: Event) -> None:
        """Another writer marks a file missing while this scan reads."""
        if isinstance(event, Started):
            with Inventory.open(db) as second:
                second.mark_missing([str(folder / "2026-05 Beach" / "IMG_0003.txt")])

    seen = Counting(monkeypatch)
    with Inventory.open(db) as inv:
        assert scan_all(inv, folder, progress=Progress(write_meanwhile)).changed == 1
        scan_all(inv, folder)
        assert seen.reads == 2, "a scan raced by another writer was remembered"


def test_scans_that_did_not_see_everything_are_not_remembered(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Counting(monkeypatch)
    with Inventory.open(tmp_path / "inv.sqlite") as inv:
        # Only part of the folder.
        part = folder / "2026-05 Beach"
        scan(inv, [Source(str(folder), str(part))])
        scan(inv, [Source(str(folder), str(part))])
        assert seen.reads == 2

        # A file still being written is left for later.
        hour_ago = time.time_ns() - 3600 * 10**9
        for f in folder.rglob("*.txt"):
            os.utime(f, ns=(hour_ago, hour_ago))
        fresh = folder / "fresh.txt"
        fresh.write_text("still coming")
        settled = time.time_ns() - 60 * 10**9
        r = scan_all(inv, folder, skip_newer=settled)
        assert r.skipped == [{"path": str(fresh), "reason": STILL_WRITTEN}]
        scan_all(inv, folder, skip_newer=settled)
        assert seen.reads == 4
        assert scan_all(inv, folder).new == 1
        assert seen.reads == 5

        # A file that could not be read (here: away between the walk and the read, then back
        # as it was, so the next walk looks the same): the next scan must still read it.
        flaky = folder / "flaky.txt"
        aside = folder.parent / "aside.txt"

        def away_while_read(event: Event) -> None:
            if isinstance(event, Started):
                flaky.rename(aside)
            elif isinstance(event, Finished):
                aside.rename(flaky)

        flaky.write_text("read me")
        r = scan_all(inv, folder, progress=Progress(away_while_read))
        assert [e["path"] for e in r.errors] == [str(flaky)] and seen.reads == 6
        assert scan_all(inv, folder).new == 1 and seen.reads == 7
        scan_all(inv, folder)
        assert seen.reads == 7

        # Other ignore rules are another walk.
        scan_all(inv, folder, ignore=["*.txt"])
        assert seen.reads == 8


def test_no_change_incremental_backs_up_as_before(home: Path, sources: Path, tmp_path: Path) -> None:
    """As a user runs it: the second run finds nothing new, and its snapshot still lists every
    file; then a new file is found and backed up."""
    (sources / "a.txt").write_text("first")
    (sources / "b.txt").write_text("second")
    drive = tmp_path / "drive"
    init = ["init", "lily", "--account", "Lily", "--handle", "lily"]
    r = run_backup(*init, "--source", str(sources), "--target", str(drive))
    assert r.code == 0, r
    assert run_backup("full", "-p", "lily").code == 0
    again = run_backup("incremental", "-p", "lily", "--json")
    assert again.code == 0, again
    doc = again.json()
    assert (doc["scan"]["unchanged"], doc["scan"]["new"], doc["targets"][0]["total_files"]) == (2, 0, 2)
    (sources / "c.txt").write_text("third")
    third = run_backup("incremental", "-p", "lily", "--json").json()
    assert (third["scan"]["new"], third["targets"][0]["total_files"]) == (1, 3)
    stored = [p.name for p in drive.rglob("*") if p.is_file()]
    assert any(name.endswith(".json") for name in stored)
