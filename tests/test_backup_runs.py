"""Backup runs at library level, on the in-memory target (fast) and a local folder: what is
uploaded, versions of changed files, complete snapshots, failing targets, retention."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backup.app.scan import record
from backup.app.workspace import open_inventory, sidecar
from backup.profile.load import load
from backup.runs import layout
from backup.runs.catalog import Catalog
from backup.runs.engine import back_up_to
from backup.runs.plan import wanted_files
from backup.runs.prune import keep, prune_target
from backup.runs.restore import matches, restore
from backup.runs.sidecar import InventorySource
from backup.runs.snapshot import Entry, Snapshot, iso, list_ids
from backup.runs.snapshot import load as load_snapshot
from backup.runs.verify import verify_target
from backup.targets.memory import MemoryTarget
from tests.backupkit import make_files, write_profile
from tests.kit.hashing import sha256


class Rig:
    """A profile over one source folder, run against in-memory targets."""

    def __init__(self, home: Path, tmp: Path) -> None:
        self.src = tmp / "Shoots"
        self.src.mkdir()
        write_profile(home, [self.src], [{"name": "mem", "type": "local", "path": str(tmp / "unused")}])
        self.profile = load("lily")
        self.catalog = Catalog(tmp / "catalog.sqlite")
        self.tmp = tmp

    def run(self, target: MemoryTarget, kind: str = "incremental"):  # type: ignore[no-untyped-def]
        record(self.profile)
        with open_inventory(self.profile) as inv:
            wants = wanted_files(inv.current_files(), {})  # every folder under its own name
            source = InventorySource(inv, self.tmp)
            try:
                return back_up_to(
                    target,
                    wants,
                    kind=kind,
                    identity=target.describe(),
                    sidecar=sidecar(self.profile),
                    catalog=self.catalog,
                    inventory=source,
                )
            finally:
                source.close()


@pytest.fixture
def rig(home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    r = Rig(home, tmp_path)
    yield r
    r.catalog.close()


def test_first_run_uploads_everything_and_writes_a_complete_snapshot(rig: Rig) -> None:
    files = make_files(rig.src, 12)
    t = MemoryTarget("mem")
    result = rig.run(t)
    assert result.status == "ok" and result.files == 12 and result.total_files == 12
    for rel, data in files.items():
        assert t.objects[f"originals/Shoots/{rel}"] == data
    [sid] = list_ids(t)
    snap = load_snapshot(t, sid)
    assert {e.path: e.sha256 for e in snap.entries} == {f"Shoots/{r}": sha256(d) for r, d in files.items()}
    assert snap.kind == "incremental" and snap.profile == "lily" and snap.target == "mem"
    assert layout.INVENTORY_DB in t.objects and layout.INVENTORY_PROFILE in t.objects
    assert snap.inventory and snap.inventory["sha256"] == sha256(t.objects[layout.INVENTORY_DB])


def test_incremental_uploads_only_new_and_changed_and_keeps_the_earlier_version(rig: Rig) -> None:
    files = make_files(rig.src, 6)
    t = MemoryTarget("mem")
    rig.run(t)
    puts = t.puts
    changed = next(iter(files))
    old = files[changed]
    (rig.src / changed).write_bytes(b"edited")
    (rig.src / "new.mov").write_bytes(b"new clip")
    result = rig.run(t)
    assert result.files == 2 and result.unchanged == 5 and result.versions == 1
    # two originals, one version copy, the inventory (it changed), the checkpoint signed after
    # the scan, the snapshot; not the profile, which the target holds as it is
    assert t.puts - puts == 6
    assert any(k.startswith("inventory/checkpoints/checkpoint-") for k in t.objects)
    versions = [k for k in t.objects if k.startswith("versions/")]
    assert len(versions) == 1 and t.objects[versions[0]] == old
    parsed = layout.parse_version_key(versions[0])
    assert parsed == (f"Shoots/{changed}", sha256(old)[:12])
    # the first snapshot is still whole: verify reads the old content from versions/
    first = list_ids(t)[0]
    report = verify_target(t, first, read_data=True)
    assert report.status == "ok", report.problems


def test_no_change_run_uploads_nothing_but_writes_a_snapshot(rig: Rig) -> None:
    make_files(rig.src, 5)
    t = MemoryTarget("mem")
    rig.run(t)
    inventory_before = t.objects[layout.INVENTORY_DB]
    puts = t.puts
    result = rig.run(t)
    assert result.files == 0 and result.unchanged == 5 and result.total_files == 5
    assert len(list_ids(t)) == 2
    # the target holds the inventory and the profile as they are: only the snapshot is sent
    assert t.puts - puts == 1 and t.objects[layout.INVENTORY_DB] == inventory_before
    newest = load_snapshot(t, list_ids(t)[-1])
    assert newest.inventory and newest.inventory["sha256"] == sha256(inventory_before)


def test_no_change_snapshot_takes_the_last_list_and_any_change_ends_that(rig: Rig) -> None:
    files = make_files(rig.src, 6)
    t = MemoryTarget("mem")
    rig.run(t)
    second = rig.run(t)  # nothing changed: the list is taken from the catalog, as it was
    assert rig.catalog.manifest("mem", "no such basis") is None
    first_id, second_id = list_ids(t)
    first, again = load_snapshot(t, first_id), load_snapshot(t, second_id)
    assert again.entries == first.entries and again.kind == "incremental" and second.total_files == 6
    # a file touched (same bytes, new time) and one removed: the next snapshot shows both
    rel = sorted(files)[0]
    os.utime(rig.src / rel, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    gone = sorted(files)[1]
    (rig.src / gone).unlink()
    rig.run(t)
    third = load_snapshot(t, list_ids(t)[-1])
    by_path = {e.path: e for e in third.entries}
    assert by_path[f"Shoots/{rel}"].mtime == "2020-09-13T12:26:40.000000Z"
    assert f"Shoots/{gone}" not in by_path and len(third.entries) == 5

    # anything stored on the target since (here: by a full run) ends the shortcut too
    def remembered() -> int:
        return int(rig.catalog.conn.execute("SELECT count(*) FROM manifests").fetchone()[0])

    assert remembered() == 1
    rig.catalog.record("mem", [("originals/Shoots/new.jpg", "0" * 64, 1, 0)])
    assert remembered() == 0
    rig.run(t)
    assert load_snapshot(t, list_ids(t)[-1]).entries == third.entries
    assert verify_target(t, list_ids(t)[-1], read_data=True).status == "ok"


def test_deleted_on_laptop_stays_on_target(rig: Rig) -> None:
    files = make_files(rig.src, 3)
    t = MemoryTarget("mem")
    rig.run(t)
    gone = next(iter(files))
    (rig.src / gone).unlink()
    rig.run(t)
    assert t.objects[f"originals/Shoots/{gone}"] == files[gone]
    newest = load_snapshot(t, list_ids(t)[-1])
    assert f"Shoots/{gone}" not in {e.path for e in newest.entries}


def test_a_full_target_fails_without_a_snapshot_and_a_rerun_finishes(rig: Rig) -> None:
    files = make_files(rig.src, 10)
    t = MemoryTarget("mem")
    t.fail_puts_after = 4
    result = rig.run(t)
    assert result.status == "failed" and "no space" in (result.error or "")
    assert list_ids(t) == []
    t.fail_puts_after = None
    result = rig.run(t)
    assert result.status == "ok"
    assert all(t.objects[f"originals/Shoots/{r}"] == d for r, d in files.items())


def test_a_target_that_fills_up_while_the_scan_streams_to_it_is_a_failure(rig: Rig) -> None:
    """The first target takes files as the scan records them. When it fills up then, before
    the scan ends, the run is abandoned: its result is that failure (it was an "ok" without a
    snapshot, and a full backup exited 0 with a full drive)."""
    from backup.runs.engine import TargetRun

    make_files(rig.src, 6)
    record(rig.profile)
    t = MemoryTarget("mem")
    t.fail_puts_after = 2
    run = TargetRun(t, kind="full", identity=t.describe(), sidecar=sidecar(rig.profile), catalog=rig.catalog)
    assert run.start()
    with open_inventory(rig.profile) as inv:
        run.offer(wanted_files(inv.current_files(), {}))  # as the scan streams them
    from concurrent.futures import wait

    wait(list(run.pending._pending))  # every upload ended, while the scan goes on
    run.offer([])  # the scan's next batch: the failure is taken in, the target given up
    assert run.wait_started() is False
    result = run.abandon()
    assert result.status == "failed" and "no space" in (result.error or "") and result.snapshot is None
    assert list_ids(t) == []
    [logged] = [r for r in rig.catalog.runs() if r["target"] == t.name]
    assert logged["status"] == "failed" and "no space" in logged["error"]


def test_unavailable_target_is_reported(rig: Rig) -> None:
    make_files(rig.src, 2)
    result = rig.run(MemoryTarget("mem", available=False))
    assert result.status == "failed" and "not available" in (result.error or "")


def test_full_run_finds_and_replaces_a_damaged_copy(rig: Rig) -> None:
    files = make_files(rig.src, 4)
    t = MemoryTarget("mem")
    rig.run(t)
    rel = sorted(files)[1]
    key = f"originals/Shoots/{rel}"
    t.objects[key] = t.objects[key][:-1] + bytes([t.objects[key][-1] ^ 0xFF])  # same size, one byte flipped
    assert rig.run(t, "incremental").files == 0  # an incremental trusts what it stored
    assert verify_target(t, read_data=True).problems[0]["path"] == f"Shoots/{rel}"
    result = rig.run(t, "full")
    assert result.files == 1 and t.objects[key] == files[rel]
    assert verify_target(t, read_data=True).status == "ok"


def test_a_file_changed_during_the_run_is_reported_and_left_out(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = make_files(rig.src, 8)
    victims = sorted(files)[::2]
    real = MemoryTarget.put_file

    def put(self: MemoryTarget, key: str, src: Path, *a: object, **k: object) -> None:
        if any(key.endswith(v) for v in victims):
            Path(src).write_bytes(b"changed while backing up")
        real(self, key, src, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(MemoryTarget, "put_file", put)
    t = MemoryTarget("mem")
    result = rig.run(t)
    assert result.status == "partial"
    # in path order, not in the order the uploads ended
    assert [f["path"] for f in result.failed] == [f"Shoots/{v}" for v in victims]
    assert all("changed" in f["error"] for f in result.failed)
    snap = load_snapshot(t, list_ids(t)[0])
    assert [f["path"] for f in snap.failed] == [f"Shoots/{v}" for v in victims]
    assert not {f"Shoots/{v}" for v in victims} & {e.path for e in snap.entries} and len(snap.entries) == 4
    assert not [v for v in victims if f"originals/Shoots/{v}" in t.objects]


def _snap(when: datetime, sid: str) -> Snapshot:
    return Snapshot(sid, "incremental", "lily", "t", iso(when), iso(when), ())


def test_retention_keeps_weekly_and_monthly() -> None:
    start = datetime(2026, 1, 1, 3, tzinfo=timezone.utc)
    snaps = [_snap(start + timedelta(days=d), f"s{d:03d}") for d in range(0, 200)]
    kept = keep(snaps, weekly=4, monthly=3)
    newest = max(snaps, key=lambda s: s.finished)
    assert newest.id in kept
    weeks = {s.time.isocalendar()[:2] for s in snaps if s.id in kept}
    months = {s.time.strftime("%Y-%m") for s in snaps if s.id in kept}
    assert len(kept) <= 4 + 3 and len(weeks) >= 4 and {"2026-07", "2026-06", "2026-05"} <= months
    assert keep(snaps, 0, 0) == {newest.id}


def test_prune_removes_unreferenced_versions_and_leaves_locked_ones(rig: Rig) -> None:
    files = make_files(rig.src, 2)
    t = MemoryTarget("mem")
    rig.run(t)
    rel = sorted(files)[0]
    (rig.src / rel).write_bytes(b"v2")
    rig.run(t)
    (rig.src / rel).write_bytes(b"v3 longer")
    rig.run(t)
    versions = sorted(k for k in t.objects if k.startswith("versions/"))
    assert len(versions) == 2
    locked = versions[0]
    t.locked[locked] = "2027-01-01T00:00:00Z"
    result = prune_target(t, weekly=0, monthly=0)
    assert result.status == "ok" and len(result.kept) == 1
    assert result.locked == [{"key": locked, "until": "2027-01-01T00:00:00Z"}]
    assert sorted(k for k in t.objects if k.startswith("versions/")) == [locked]
    assert len(list_ids(t)) == 1
    assert all(k in t.objects for k in (f"originals/Shoots/{r}" for r in files))  # originals stay


def test_version_keys_round_trip() -> None:
    cases = [
        "Shoots/a/IMG_1.JPG",
        "Shoots/noext",
        "Shoots/.hidden",
        "Shoots/clip.final.mov",
        "S/x y/ü 🌸.heic",
    ]
    for path in cases:
        key = layout.version_key(path, "ab" * 32, 1_764_000_000.5)
        assert key.startswith(layout.version_prefix(path))
        assert layout.parse_version_key(key) == (path, ("ab" * 32)[:12])
    assert "20251124-" in layout.version_key("S/a.jpg", "0" * 64, 1_764_000_000)


@pytest.mark.parametrize(
    "bad", ["../evil.jpg", "Shoots/../../evil", "/etc/passwd", "C:/x.jpg", "a\\..\\..\\b", ""]
)
def test_restore_refuses_paths_that_escape(tmp_path: Path, bad: str) -> None:
    t = MemoryTarget("mem")
    t.objects[f"originals/{bad}" if bad else "originals/x"] = b"evil"
    entry = Entry(bad, sha256(b"evil"), 4, "2026-01-01T00:00:00.000000Z")
    snap = Snapshot("s1", "full", "lily", "mem", entry.mtime, entry.mtime, (entry,))
    t.objects["snapshots/s1.json"] = snap.to_json()
    out = tmp_path / "out"
    result = restore(t, out)
    assert result.restored == 0 and result.failed and "refused" in result.failed[0]["error"]
    assert not (tmp_path / "evil.jpg").exists() and not (tmp_path / "evil").exists()
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_restore_checks_bytes_and_never_overwrites(rig: Rig, tmp_path: Path) -> None:
    files = make_files(rig.src, 3)
    t = MemoryTarget("mem")
    rig.run(t)
    out = tmp_path / "restored"
    first = sorted(files)[0]
    (out / "Shoots" / first).parent.mkdir(parents=True)
    (out / "Shoots" / first).write_bytes(b"mine")
    result = restore(t, out)
    assert result.restored == 2 and len(result.skipped) == 1
    assert (out / "Shoots" / first).read_bytes() == b"mine"
    result = restore(t, out, overwrite=True)
    assert result.restored == 1 and result.already == 2 and result.ok
    assert {p: (out / "Shoots" / p).read_bytes() for p in files} == files
    # mtimes come back too
    src_mtime = int((rig.src / first).stat().st_mtime)
    assert int((out / "Shoots" / first).stat().st_mtime) == src_mtime
    # a damaged copy is never restored under its name
    key = f"originals/Shoots/{first}"
    t.objects[key] = b"x" * len(t.objects[key])
    (out / "Shoots" / first).unlink()
    result = restore(t, out, include=[f"Shoots/{first}"])
    assert result.failed and "damaged" in result.failed[0]["error"]
    assert not (out / "Shoots" / first).exists()
    assert not [p for p in out.rglob("*keepmark-tmp")]


@pytest.mark.parametrize("in_kernel", [True, False], ids=["kernel-copy", "read-hash-write"])
def test_restore_from_a_drive_checks_what_was_written(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_kernel: bool
) -> None:
    """From a drive the bytes are copied in the kernel and the copy read back and hashed (or,
    where the system has no such copy, read, hashed and written): either way a copy damaged on
    the drive, in place or cut short, is refused and nothing lands under its name."""
    import backup.runs.restore as restoring
    from backup.targets.copying import kernel_copy
    from backup.targets.local import LocalTarget

    copies: list[int | None] = []

    def spied(fd_in: int, fd_out: int, size: int, progress: object = None) -> int | None:
        copied = kernel_copy(fd_in, fd_out, size, progress) if in_kernel else None  # type: ignore[arg-type]
        copies.append(copied)
        return copied

    monkeypatch.setattr(restoring, "kernel_copy", spied)
    files = make_files(rig.src, 4, size=3_000_000)
    drive = LocalTarget("drive", tmp_path / "drive", "lily")
    assert rig.run(drive).status == "ok"
    flipped, cut, *good = sorted(files)
    on_drive = tmp_path / "drive" / "lily" / "originals" / "Shoots"
    data = bytearray((on_drive / flipped).read_bytes())
    data[len(data) // 2] ^= 0x01
    (on_drive / flipped).write_bytes(bytes(data))
    (on_drive / cut).write_bytes(files[cut][:1000])
    out = tmp_path / "restored"
    result = restore(LocalTarget("drive", tmp_path / "drive", "lily"), out)
    assert result.restored == 2 and sorted(f["path"] for f in result.failed) == [
        f"Shoots/{flipped}",
        f"Shoots/{cut}",
    ]
    assert all("damaged on drive" in f["error"] for f in result.failed), result.failed
    assert {p: (out / "Shoots" / p).read_bytes() for p in good} == {p: files[p] for p in good}
    assert not (out / "Shoots" / flipped).exists() and not (out / "Shoots" / cut).exists()
    assert not [p for p in out.rglob("*") if p.name.endswith("keepmark-tmp")]
    # the one cut short is refused by its size before a byte is copied
    assert len(copies) == 3 and all((c is not None) == in_kernel for c in copies)


def test_include_globs() -> None:
    assert matches("Shoots/2026/a.jpg", ["Shoots/2026"])
    assert matches("Shoots/2026/a.jpg", ["Shoots/*/a.jpg"])
    assert matches("Shoots/2026/a.jpg", ["*.jpg"])  # '*' crosses folders: every JPEG
    assert not matches("Shoots/2026/a.jpg", ["*.png"])
    assert not matches("Shoots/2026/a.jpg", ["Reels"])
    assert matches("Shoots/2026/a.jpg", [])


def test_snapshot_json_is_documented_shape(rig: Rig) -> None:
    make_files(rig.src, 2)
    t = MemoryTarget("mem")
    rig.run(t, "full")
    doc = json.loads(t.objects[f"snapshots/{list_ids(t)[0]}.json"])
    assert doc["format"] == "keepmark-snapshot" and doc["version"] == 1 and doc["kind"] == "full"
    assert set(doc["files"][0]) == {"path", "sha256", "size", "mtime"}
    assert doc["totals"]["files"] == 2


def test_restore_never_follows_a_link_out_of_the_folder(rig: Rig, tmp_path: Path) -> None:
    files = make_files(rig.src, 3)
    t = MemoryTarget("mem")
    rig.run(t)
    out, outside = tmp_path / "restored", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "Shoots").symlink_to(outside, target_is_directory=True)  # a folder that is a link out
    result = restore(t, out)
    assert result.restored == 0 and len(result.failed) == 3
    assert all("would land outside" in f["error"] for f in result.failed)
    assert list(outside.iterdir()) == []
    (out / "Shoots").unlink()
    first = sorted(files)[0]
    (out / "Shoots" / first).parent.mkdir(parents=True)
    (out / "Shoots" / first).symlink_to(outside / "victim.jpg")  # a file that is a link out
    result = restore(t, out, overwrite=True)
    assert result.restored == 2 and [f["path"] for f in result.failed] == [f"Shoots/{first}"]
    assert not (outside / "victim.jpg").exists()
