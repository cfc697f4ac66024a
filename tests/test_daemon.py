"""``backup watch`` as a creator runs it: a real subprocess on a temporary profile, real files
dropped, written slowly, moved in, added while it was down; kill -9 and SIGTERM. Every test
asserts on the files, the inventory and the ledger (the log only tells when to look)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.daemonkit import (
    Watch,
    daemon_profile,
    daemon_runs,
    derivative_count,
    inventory,
    ledger_types,
    outputs,
    queue_length,
    recorded_paths,
    scheduled_profile,
    state,
    wait_for,
    wait_idle,
)
from tests.kit.hashing import file_sha256 as sha
from tests.kit.hashing import sha256
from tests.kit.media import jpeg

pytestmark = pytest.mark.skipif(os.name == "nt", reason="signals and inotify: POSIX")


def test_dropped_at_once_recorded_and_stamped_once_junk_left_out(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src], ignore=["*.lrcat"])
    stamped = home.parent / "Stamped"
    with Watch(home, args=("--json",)) as w:
        photos = [jpeg(src / "2026" / f"IMG_{i:03d}.jpg", (320, 240), seed=i) for i in range(12)]
        (src / "2026" / "captions.txt").write_text("golden hour", encoding="utf-8")
        junk = [
            "clip.mp4.part",
            "dl.crdownload",
            "x.tmp",
            "~$notes.docx",
            ".DS_Store",
            "._IMG_000.jpg",
            ".hidden.jpg",
            "catalog.lrcat",
        ]
        for name in junk:
            (src / "2026" / name).write_bytes(b"not content")
        wait_for(lambda: derivative_count(home) >= 12, 60, "12 stamped copies")
        wait_for(lambda: queue_length(home) == 0, 10, "an empty queue")
        wait_idle(home)  # anything more would be under way now
        code = w.terminate()
    assert code == 0, w.text()
    summary = json.loads(w.stdout.read_text(encoding="utf-8"))  # what it did, on exit
    assert summary["stamped"] == 12 and summary["failed"] == 0 and summary["queue"] == 0
    expected = {str(p) for p in photos} | {str(src / "2026" / "captions.txt")}
    assert recorded_paths(home) == expected
    assert outputs(stamped) == sorted(f"Shoots/2026/IMG_{i:03d}.jpg" for i in range(12))
    types = ledger_types(home)
    assert types["original"] == 13 and types["derivative"] == 12
    for p in photos:  # the recorded content is the file's, whole
        assert inventory(home, "SELECT sha256 FROM paths WHERE path = ?", str(p)) == [(sha(p),)]


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_slow_write_processed_once_after_it_ends(home: Path, tmp_path: Path, polling: bool) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    # Each chunk comes 0.3 s after the last; the settle time leaves a loaded machine a wide margin.
    watch = (
        {"polling": True, "poll_interval": 0.5, "settle_seconds": 2.5} if polling else {"settle_seconds": 2.5}
    )
    daemon_profile(home, [src], watch=watch)
    data = jpeg(tmp_path / "big.jpg", (1600, 1200), seed=7).read_bytes()
    target = src / "IMG_BIG.jpg"
    with Watch(home) as w:
        chunks = 18
        step = len(data) // chunks + 1
        with open(target, "wb") as f:
            for i in range(chunks):  # about 5.4 s of writing, twice the settle time
                f.write(data[i * step : (i + 1) * step])
                f.flush()
                time.sleep(0.3)
                assert str(target) not in recorded_paths(home), "recorded while still being written"
        wait_for(lambda: derivative_count(home) >= 1, 60, "the stamped copy")
        wait_idle(home)  # a second look at the file would be under way now
        code = w.terminate()
    assert code == 0, w.text()
    assert inventory(home, "SELECT sha256 FROM paths") == [(sha256(data),)]
    assert inventory(home, "SELECT count(*) FROM sightings") == [(1,)]  # never a partial content
    types = ledger_types(home)
    assert types["original"] == 1 and types["derivative"] == 1 and "path" not in types
    assert outputs(home.parent / "Stamped") == ["Shoots/IMG_BIG.jpg"]


def test_moved_and_renamed_in(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src])
    outside = tmp_path / "Downloads"
    with Watch(home) as w:
        # a file moved in (AirDrop, a download folder), a whole folder moved in (camera import)
        one = jpeg(outside / "AirDrop.jpg", seed=1)
        os.rename(one, src / "AirDrop.jpg")
        for i in range(3):
            jpeg(outside / "DCIM" / f"DSC_{i}.jpg", seed=10 + i)
        os.rename(outside / "DCIM", src / "DCIM")
        # "Save as": written under a temporary name, renamed into place
        tmp = src / ".edit.jpg.tmp"
        jpeg(tmp, seed=20)
        os.rename(tmp, src / "edit.jpg")
        wait_for(lambda: derivative_count(home) >= 5, 60, "5 stamped copies")
        wait_idle(home)
        code = w.terminate()
    assert code == 0, w.text()
    assert recorded_paths(home) == {
        str(src / "AirDrop.jpg"),
        str(src / "edit.jpg"),
        *(str(src / "DCIM" / f"DSC_{i}.jpg") for i in range(3)),
    }
    assert ledger_types(home)["derivative"] == 5


def test_files_added_while_down_are_picked_up_on_start(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src])
    with Watch(home) as w:
        jpeg(src / "before.jpg", seed=1)
        wait_for(lambda: derivative_count(home) >= 1, 60, "the first copy")
        assert w.terminate() == 0
    added = [jpeg(src / "while-down" / f"IMG_{i}.jpg", seed=30 + i) for i in range(4)]
    with Watch(home) as w:
        wait_for(lambda: derivative_count(home) >= 5, 60, "the copies of what arrived while down")
        assert w.terminate() == 0
    assert recorded_paths(home) == {str(src / "before.jpg"), *(str(p) for p in added)}
    assert ledger_types(home)["derivative"] == 5


@pytest.mark.slow
def test_kill_9_mid_burst_then_restart_handles_every_file_exactly_once(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src])
    staging = tmp_path / "staging"
    names = [f"IMG_{i:03d}.jpg" for i in range(60)]
    for i, name in enumerate(names):
        jpeg(staging / name, (1600, 1200), seed=i)
    with Watch(home) as w:
        for name in names:
            shutil.copyfile(staging / name, src / name)
        wait_for(lambda: derivative_count(home) >= 3, 120, "the burst under way")
        w.kill()
    done_before = derivative_count(home)
    assert done_before < len(names), "the burst finished before the kill: make it bigger"
    assert queue_length(home) > 0 or len(recorded_paths(home)) < len(names)
    with Watch(home) as w:
        wait_for(lambda: derivative_count(home) >= len(names) and queue_length(home) == 0, 180, "all 60")
        wait_idle(home)
        assert w.terminate() == 0
    assert recorded_paths(home) == {str(src / n) for n in names}
    types = ledger_types(home)
    assert types["original"] == 60 and types["derivative"] == 60  # nothing twice
    assert derivative_count(home) == 60
    assert outputs(home.parent / "Stamped") == sorted(f"Shoots/{n}" for n in names)
    assert inventory(home, "SELECT count(*) FROM (SELECT source FROM derivatives GROUP BY source)") == [(60,)]


def test_sigterm_mid_burst_exits_0_at_the_next_file_and_the_rest_follows(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src])
    names = [f"IMG_{i:03d}.jpg" for i in range(10)]
    with Watch(home) as w:
        for i, name in enumerate(names):
            jpeg(src / name, (1600, 1200), seed=i)
        wait_for(lambda: derivative_count(home) >= 1, 120, "the burst under way")
        code = w.terminate()
    assert code == 0, w.text()
    with Watch(home) as w:
        wait_for(lambda: derivative_count(home) >= 10 and queue_length(home) == 0, 180, "the rest")
        assert w.terminate() == 0
    assert ledger_types(home)["derivative"] == 10
    assert outputs(home.parent / "Stamped") == sorted(f"Shoots/{n}" for n in names)


# The daemon under a main thread that blocks SIGTERM, beside a thread that does not: the kernel
# must hand the signal to that thread, and the handler runs only once the main thread is back in
# the interpreter (an untimed wait there never returns: the daemon would not stop).
SIGNAL_TO_ANOTHER_THREAD = """
import runpy, signal, sys, threading, time
threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
sys.argv[0] = "backup"
runpy.run_module("backup", run_name="__main__")
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_sigterm_the_kernel_hands_to_another_thread_still_stops_the_daemon(
    home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src])
    with Watch(home, python=("-c", SIGNAL_TO_ANOTHER_THREAD)) as w:
        wait_idle(home)
        code = w.terminate()
    assert code == 0, w.text()
    assert "stopped; 0 files wait in the queue" in w.text()


def test_one_daemon_per_profile(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "Shoots"
    src.mkdir()
    daemon_profile(home, [src])
    with Watch(home) as w:
        second = cli("watch", "-p", "lily", timeout=30)
        assert second.code == 2 and "already runs" in second.err
        status = cli("status", "--json")
        assert status.code == 0, status
        assert status.json()["daemon"] == {"running": True, "pid": w.proc.pid}
        assert w.terminate() == 0
    assert cli("status", "--json").json()["daemon"]["running"] is False
    log = (state(home) / "daemon.log").read_text(encoding="utf-8")  # the rotating log file
    assert f"pid {w.proc.pid}" in log and "stopped;" in log


def test_important_folder_is_backed_up_at_once(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "Shoots"
    important = src / "Client Work"
    important.mkdir(parents=True)
    drive = tmp_path / "drive"
    drive.mkdir()
    daemon_profile(
        home, [src], [{"name": "drive", "type": "local", "path": str(drive)}], important=[important]
    )
    originals = drive / "lily" / "originals" / "Shoots"
    with Watch(home) as w:
        urgent = jpeg(important / "contract-shoot.jpg", seed=3)
        (important / "release.pdf").write_bytes(b"%PDF-1.4 model release")
        normal = jpeg(src / "holiday.jpg", seed=4)
        for name in ("release.pdf", "contract-shoot.jpg"):
            wait_for(lambda n=name: (originals / "Client Work" / n).exists(), 60, "the real-time backup")  # type: ignore[misc]
        wait_for(lambda: derivative_count(home) >= 2, 60, "both stamped")
        wait_idle(home)
        assert w.terminate() == 0
    assert (originals / "Client Work" / "contract-shoot.jpg").read_bytes() == urgent.read_bytes()
    assert not (originals / "holiday.jpg").exists()  # waits for the next scheduled run
    catalog = state(home) / "backups.sqlite"
    from tests.daemonkit import query

    stored = {r[0]: r[1] for r in query(catalog, "SELECT key, sha256 FROM stored WHERE target = 'drive'")}
    assert stored["originals/Shoots/Client Work/contract-shoot.jpg"] == sha(urgent)
    assert "originals/Shoots/holiday.jpg" not in stored
    assert normal.exists()
    assert query(catalog, "SELECT kind, status FROM runs") == [("realtime", "ok")] * len(
        query(catalog, "SELECT 1 FROM runs")
    )


def one_photo_on_a_schedule(home: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A scheduled profile over a folder with one photo, backed up to a local drive: the
    folder, and where the drive's snapshots go."""
    src = tmp_path / "Shoots"
    src.mkdir()
    jpeg(src / "IMG_1.jpg", seed=1)
    drive = tmp_path / "drive"
    scheduled_profile(home, src, drive)
    return src, drive / "lily" / "snapshots"


def _last_result(home: Path) -> object:
    runs = daemon_runs(home) if (state(home) / "daemon.sqlite").exists() else []
    return runs[-1][2] if runs else None


def test_missed_weekly_slot_runs_once_after_start(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    src, snapshots = one_photo_on_a_schedule(home, tmp_path)

    def kinds() -> list[str]:
        return sorted(p.name.split("-")[1] for p in snapshots.glob("*.json")) if snapshots.exists() else []

    utc = {"TZ": "UTC"}
    # A brand-new profile on Friday 20 November: its first full backup at once.
    with Watch(home, {**utc, "KEEPMARK_CLOCK": "2026-11-20T10:00:00"}) as w:
        wait_for(lambda: kinds() == ["full"], 60, "the first full backup")
        wait_for(lambda: _last_result(home) == "ok", 60, "the run recorded as done")
        assert w.terminate() == 0
    # The laptop was off on Sunday 22 November at 03:00; started on Wednesday 25, the missed
    # slot runs once.
    (src / "IMG_2.txt").write_text("new", encoding="utf-8")
    with Watch(home, {**utc, "KEEPMARK_CLOCK": "2026-11-25T10:00:00"}) as w:
        wait_for(lambda: kinds() == ["full", "incremental"], 60, "the missed incremental")
        wait_for(lambda: _last_result(home) == "ok", 60, "the run recorded as done")
        wait_idle(home)  # the schedule looked at again after the run: nothing more is due
        status = cli("status", "--json", env={**utc, "KEEPMARK_CLOCK": "2026-11-25T10:05:00"})
        assert w.terminate() == 0
    assert kinds() == ["full", "incremental"]  # once, not once per missed slot
    assert daemon_runs(home) == [
        ("full", "new profile", "ok"),
        ("incremental", "slot 2026-11-22T03:00+00:00", "ok"),
    ]
    doc = status.json()
    inc = next(s for s in doc["schedules"] if s["kind"] == "incremental")
    assert inc["last"]["result"] == "ok" and inc["next"] == "2026-11-29T03:00+00:00"
    assert doc["targets"][0]["snapshot"].split("-")[1] == "incremental"
    assert doc["not_on_every_target"] == 0
    # Started again the same day: nothing is due.
    with Watch(home, {**utc, "KEEPMARK_CLOCK": "2026-11-25T11:00:00"}) as w:
        assert wait_idle(home) == 1  # the reconciliation only: no file was new
        assert w.terminate() == 0
    assert kinds() == ["full", "incremental"]
    manifest = json.loads(sorted(snapshots.glob("*incremental*.json"))[0].read_text(encoding="utf-8"))
    assert {e["path"] for e in manifest["files"]} >= {"Shoots/IMG_1.jpg", "Shoots/IMG_2.txt"}


def test_a_full_backup_made_by_hand_is_not_repeated_by_the_daemon(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _src, snapshots = one_photo_on_a_schedule(home, tmp_path)
    assert cli("full").code == 0
    assert len(list(snapshots.glob("*.json"))) == 1
    with Watch(home) as w:
        wait_idle(home)  # reconciled, and the schedule looked at: nothing is due
        assert w.terminate() == 0
    assert daemon_runs(home) == [] and len(list(snapshots.glob("*.json"))) == 1


@pytest.mark.slow
def test_run_interrupted_by_shutdown_is_completed_on_next_start(home: Path, tmp_path: Path) -> None:
    from tests.backupkit import make_files, tree
    from tests.daemonkit import query

    src = tmp_path / "Shoots"
    files = make_files(src, 300, size=300_000)
    drive = tmp_path / "drive"
    scheduled_profile(home, src, drive)
    db = state(home) / "daemon.sqlite"
    with Watch(home) as w:
        wait_for(lambda: query(db, "SELECT 1 FROM runs WHERE finished IS NULL"), 60, "the full run under way")
        code = w.terminate()
    assert code == 0, w.text()
    first = daemon_runs(home)
    assert first == [("full", "new profile", None)], "the run finished before the shutdown: more data"
    with Watch(home) as w:
        wait_for(
            lambda: len(daemon_runs(home)) == 2 and daemon_runs(home)[1][2] == "ok", 120, "the run again"
        )
        assert w.terminate() == 0
    assert daemon_runs(home) == [("full", "new profile", "interrupted"), ("full", "interrupted", "ok")]
    assert tree(drive / "lily" / "originals" / "Shoots") == files
    assert len(list((drive / "lily" / "snapshots").glob("*-full-*.json"))) == 1


def test_stamped_copies_beside_the_originals_are_never_taken_for_new_files(
    home: Path, tmp_path: Path
) -> None:
    from tests.backupkit import write_profile

    src = tmp_path / "Shoots"
    src.mkdir()
    write_profile(
        home,
        [src],
        [],
        watermark={"output": str(src / "Published"), "suffix": "-wm"},
        schedule={"incremental": "off", "full": "off"},
        watch={"settle_seconds": 0.3},
    )
    with Watch(home) as w:
        photos = [jpeg(src / f"IMG_{i}.jpg", seed=i) for i in range(2)]
        wait_for(lambda: derivative_count(home) >= 2, 60, "2 stamped copies")
        wait_idle(home)  # a copy taken for a new file would be held, queued or in hand: not idle
        assert w.terminate() == 0
    assert recorded_paths(home) == {str(p) for p in photos}
    assert outputs(src / "Published") == ["Shoots/IMG_0-wm.jpg", "Shoots/IMG_1-wm.jpg"]
    assert ledger_types(home)["derivative"] == 2


def test_a_profile_changed_while_it_runs_applies_from_the_next_file(home: Path, tmp_path: Path) -> None:
    """The watermark changed while the daemon runs (as the app's designer or a hand edit does):
    the next file is stamped the new way, without a restart; a profile broken by an edit leaves
    the last good one in use, and the log says both."""
    from backup.profile.edit import with_keys

    src = tmp_path / "Shoots"
    src.mkdir()
    profile = daemon_profile(home, [src])
    stamped = home.parent / "Stamped"
    with Watch(home) as w:
        jpeg(src / "IMG_0.jpg", seed=0)
        wait_for(lambda: derivative_count(home) >= 1, 60, "the first stamped copy")
        wait_idle(home)
        text, _ = with_keys(profile.read_text(encoding="utf-8"), "watermark", {"suffix": "-v2"})
        profile.write_text(text, encoding="utf-8")
        jpeg(src / "IMG_1.jpg", seed=1)
        wait_for(lambda: derivative_count(home) >= 2, 60, "the second stamped copy")
        wait_idle(home)
        profile.write_text(text.replace("[watermark]", "[watermark\n", 1), encoding="utf-8")  # broken
        jpeg(src / "IMG_2.jpg", seed=2)
        wait_for(lambda: derivative_count(home) >= 3, 60, "the third stamped copy")
        wait_idle(home)
        assert w.terminate() == 0
    assert outputs(stamped) == ["Shoots/IMG_0.jpg", "Shoots/IMG_1-v2.jpg", "Shoots/IMG_2-v2.jpg"]
    log = (state(home) / "daemon.log").read_text(encoding="utf-8")
    assert "profile lily changed; read again" in log
    assert "profile lily changed but does not read" in log and "still using it as it was" in log
