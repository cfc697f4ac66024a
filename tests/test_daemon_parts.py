"""The daemon's parts on their own: the schedule rules, the settler, the path filter, the
service files, notifications, and `backup check` / `backup status` on real backups."""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from backup.daemon.schedule import due, last_slot, next_slot
from backup.daemon.settle import Settler
from backup.profile.schedule import parse_slot
from tests.backupkit import write_profile
from tests.daemonkit import wait_for
from tests.kit.tools import fake_tool

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def utc_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def run(started: str, result: str = "ok") -> dict[str, Any]:
    return {"started": at(started).isoformat(), "finished": at(started).isoformat(), "result": result}


def test_slots_in_local_time(utc_zone: None) -> None:
    weekly = parse_slot("weekly sun 03:00")
    assert last_slot(weekly, at("2026-11-25T10:00:00")) == at("2026-11-22T03:00:00")
    assert next_slot(weekly, at("2026-11-25T10:00:00")) == at("2026-11-29T03:00:00")
    assert last_slot(weekly, at("2026-11-22T03:00:00")) == at("2026-11-22T03:00:00")
    monthly = parse_slot("monthly 1 04:00")
    assert last_slot(monthly, at("2026-11-20T10:00:00")) == at("2026-11-01T04:00:00")
    assert next_slot(monthly, at("2026-12-01T04:00:00")) == at("2027-01-01T04:00:00")
    assert last_slot(parse_slot("off"), at("2026-11-20T10:00:00")) is None


def test_due_rules(utc_zone: None) -> None:
    created = at("2026-11-01T00:00:00")
    weekly = "weekly sun 03:00"
    now = at("2026-12-09T10:00:00")  # two Sundays (29 Nov, 6 Dec) missed: one run
    d = due("incremental", weekly, now, created=created, last_good=run("2026-11-23T03:00:00"), last_any=None)
    assert d is not None and d.reason == "slot 2026-12-06T03:00+00:00"
    # served since the last slot: not due
    assert (
        due("incremental", weekly, now, created=created, last_good=run("2026-12-06T03:01:00"), last_any=None)
        is None
    )
    # a full run counts as an incremental
    assert (
        due(
            "incremental",
            weekly,
            now,
            created=created,
            last_good=None,
            last_any=None,
            last_full_good=run("2026-12-07T04:00:00"),
        )
        is None
    )
    # the first incremental waits for its first slot after the daemon first ran
    assert (
        due(
            "incremental",
            weekly,
            at("2026-11-05T10:00:00"),
            created=at("2026-11-02T09:00:00"),  # a Monday, after Sunday's slot
            last_good=None,
            last_any=None,
        )
        is None
    )
    # a new profile gets its full at once
    d = due(
        "full", "monthly 1 04:00", at("2026-11-05T10:00:00"), created=created, last_good=None, last_any=None
    )
    assert d is not None and d.reason == "new profile"
    # a failed run is retried an hour later, not before
    failed = run("2026-12-09T09:30:00", "failed")
    last = run("2026-11-23T03:00:00")
    assert due("incremental", weekly, now, created=created, last_good=last, last_any=failed) is None
    later = now + timedelta(minutes=31)
    d = due("incremental", weekly, later, created=created, last_good=last, last_any=failed)
    assert d is not None and d.reason == "retry"
    # an interrupted run is run again at once
    d = due(
        "full",
        "monthly 1 04:00",
        now,
        created=created,
        last_good=run("2026-12-01T04:00:00"),
        last_any=run("2026-12-09T09:59:00", "interrupted"),
    )
    assert d is not None and d.reason == "interrupted"
    assert due("full", "off", now, created=created, last_good=None, last_any=None) is None


def test_runs_made_without_the_daemon_serve_its_schedule(utc_zone: None, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from backup.daemon.schedule import due_runs
    from backup.daemon.store import DaemonStore

    schedule = SimpleNamespace(incremental="weekly sun 03:00", full="monthly 1 04:00")
    now = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)  # a Wednesday
    with DaemonStore(tmp_path / "daemon.sqlite") as store:
        store.created(datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc))
        # Nothing yet: the first full backup at once; the incremental waits for it.
        due = due_runs(schedule, store, now)
        assert due["full"] is not None and due["full"].reason == "new profile"
        # A `backup full` by hand on Friday 20th serves the full and the incremental until
        # Sunday's slot, which it does not.
        by_hand = {"full": datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)}
        due = due_runs(schedule, store, now, by_hand)
        assert due["full"] is None
        assert due["incremental"] is not None and due["incremental"].reason.startswith("slot 2026-11-22")
        # An incremental by hand on Monday 23rd serves Sunday's slot.
        by_hand["incremental"] = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
        assert due_runs(schedule, store, now, by_hand) == {"full": None, "incremental": None}
        # A run of the daemon's that was interrupted, then made good by hand: not run again.
        rid = store.run_started("incremental", "slot", datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc))
        store.interrupted(now)
        assert store.last_run("incremental")["result"] == "interrupted"  # type: ignore[index]
        assert due_runs(schedule, store, now, by_hand)["incremental"] is None
        assert due_runs(schedule, store, now, {"full": by_hand["full"]})["incremental"] is not None
        # Times after the daemon's now (another clock) do not count.
        later = {"full": now + timedelta(days=1)}
        assert due_runs(schedule, store, now, later)["full"] is not None
        assert rid > 0


def test_settler_waits_for_the_write_to_end(tmp_path: Path) -> None:
    # A clock of its own: the decisions are exact, however loaded the machine.
    now = [1000.0]
    settler = Settler(0.6, lambda paths: None, clock=lambda: now[0])

    def first_ready(path: str, limit: float) -> float:
        """Look every 0.05 s (of the fake clock); the time at which ``path`` is handed on."""
        start = now[0]
        while now[0] - start < limit:
            now[0] += 0.05
            if settler.check() == [path]:
                return now[0] - start
        raise AssertionError(f"{path} not ready after {limit} s")

    path = tmp_path / "growing.bin"
    with open(path, "wb") as f:
        for _ in range(8):  # 1.2 s of appends, each well inside the settle time
            f.write(os.urandom(10_000))
            f.flush()
            settler.touch(str(path))
            now[0] += 0.15
            assert settler.check() == []
    # The last append was 0.15 s ago: ready once 0.6 s have passed without news or growth.
    waited = first_ready(str(path), 2.0) + 0.15
    assert 0.6 <= waited <= 0.85, waited
    # a close-write is ready after a short quiet spell, not the whole settle time
    other = tmp_path / "closed.bin"
    other.write_bytes(b"x" * 100)
    settler.touch(str(other), closed=True)
    assert 0.25 <= first_ready(str(other), 1.0) < 0.6
    # news about a file resets its wait
    settler.touch(str(other))
    now[0] += 0.5
    assert settler.check() == []
    settler.touch(str(other))
    assert first_ready(str(other), 2.0) >= 0.6
    # a file deleted before it settled is forgotten
    gone = tmp_path / "gone.bin"
    gone.write_bytes(b"y")
    settler.touch(str(gone))
    gone.unlink()
    now[0] += 0.2
    assert settler.check() == [] and len(settler) == 0


def test_settler_awaits_the_close_write_once_writes_were_seen(tmp_path: Path) -> None:
    """Where closes are reported: a file created and written to waits for its close-write
    however long the writer pauses; a copy that sets the file's time after closing it (an
    attribute change, reported as a modification) does not; a held file comes back."""
    now = [1000.0]
    settler = Settler(0.2, lambda paths: None, clock=lambda: now[0], closes=True, open_wait=30.0)

    def look(seconds: float) -> list[str]:
        ready: list[str] = []
        for _ in range(round(seconds / 0.05)):
            now[0] += 0.05
            ready += settler.check()
        return ready

    slow = tmp_path / "export.mp4"
    with open(slow, "wb") as f:
        settler.touch(str(slow), created=True)
        for _ in range(3):  # pauses ten times the settle time
            f.write(os.urandom(1000))
            f.flush()
            settler.touch(str(slow), modified=True)
            assert look(2.0) == []
    settler.touch(str(slow), closed=True)
    assert look(0.5) == [str(slow)]
    # cp -p: created, written, closed, then its time set (a "modified" event after the close)
    copied = tmp_path / "copy.jpg"
    copied.write_bytes(b"x" * 100)
    for kind in ("created", "modified", "closed", "modified"):
        settler.touch(str(copied), **{kind: True})
    assert look(0.5) == [str(copied)]
    # a file seen to change with no close-write: a writer has it open
    grown = tmp_path / "grown.mov"
    grown.write_bytes(b"y" * 10)
    settler.touch(str(grown))
    assert look(0.15) == []  # looked at once
    with open(grown, "ab") as f:
        f.write(b"more")
    assert look(5.0) == []
    assert look(30.0) == [str(grown)]  # open and unchanged for open_wait: taken all the same
    # a held file comes back after its delay; news about it ends the hold at once
    settler.hold(str(copied), 3.0)
    assert settler.holding() and look(2.9) == []
    assert look(0.2) == [str(copied)] and not settler.holding()
    settler.hold(str(copied), 3.0)
    settler.touch(str(copied), closed=True)
    assert look(0.5) == [str(copied)] and not settler.holding()


def test_settler_thread_hands_ready_files_on(tmp_path: Path) -> None:
    ready: list[str] = []
    settler = Settler(0.3, ready.extend)
    settler.start()
    try:
        path = tmp_path / "photo.jpg"
        path.write_bytes(b"x" * 1000)
        settler.touch(str(path))
        wait_for(lambda: ready, 30, "the file handed on")
        assert ready == [str(path)] and len(settler) == 0
    finally:
        settler.stop()
    assert not any(t.name == "keepmark-settle" for t in threading.enumerate())


def test_settler_holds_a_file_until_it_is_handed_on(tmp_path: Path) -> None:
    """The daemon's idle state reads ``holding()``: true from the first notice until
    ``on_ready`` has returned, also while the file is neither pending nor handed on yet."""
    handing, release = threading.Event(), threading.Event()

    def on_ready(paths: list[str]) -> None:
        handing.set()
        release.wait(30)

    settler = Settler(0.1, on_ready)
    assert not settler.holding()
    settler.start()
    try:
        path = tmp_path / "photo.jpg"
        path.write_bytes(b"x")
        before = settler.last_news
        settler.touch(str(path), closed=True)
        assert settler.holding() and settler.last_news > before
        assert handing.wait(30)
        assert len(settler) == 0 and settler.holding()  # taken, still on its way
        release.set()
        wait_for(lambda: not settler.holding(), 10, "the hand-over to end")
    finally:
        release.set()
        settler.stop()


def test_the_daemon_says_when_it_is_idle(home: Path, tmp_path: Path) -> None:
    """meta state: busy from the start, idle once reconciled and quiet; busy again while a new
    file settles, idle once it went through, with one more pass counted. The daemon runs in
    this process; its threads are joined by the end."""
    from backup.app.watch import daemon_for
    from backup.profile.load import load
    from tests.daemonkit import daemon_state, derivative_count, recorded_paths, wait_idle
    from tests.kit.media import jpeg

    src = tmp_path / "Shoots"
    src.mkdir()
    write_profile(
        home, [src], [], schedule={"incremental": "off", "full": "off"}, watch={"settle_seconds": 1.5}
    )
    d = daemon_for(load("lily"))
    t = threading.Thread(target=d.run, name="test-daemon")
    t.start()
    try:
        assert wait_idle(home) == 1  # the reconciliation
        with open(src / "notes.txt", "w", encoding="utf-8") as f:  # a write still going on
            f.write("being written")
            f.flush()
            wait_for(
                lambda: d.settler.holding() and daemon_state(home)[0] == "busy",
                10,
                "busy while the settler holds a file",
            )
        assert recorded_paths(home) == set()
        photo = jpeg(src / "IMG_1.jpg", seed=1)
        assert wait_idle(home, after=1) >= 2
        assert recorded_paths(home) == {str(src / "notes.txt"), str(photo)}
        assert derivative_count(home) == 1
    finally:
        d.stop()
        t.join(30)
    assert not t.is_alive() and d.error is None


def test_path_filter(home: Path, tmp_path: Path) -> None:
    from backup.app.watch import settings_for
    from backup.profile.load import load

    src = tmp_path / "Shoots"
    src.mkdir()
    path = write_profile(home, [src], [])
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "[sources]\n", '[sources]\nignore = ["*.lrcat", "Cache/"]\n', 1
        ),
        encoding="utf-8",
    )
    f = settings_for(load("lily")).filter
    s = str(src)
    assert f.wanted(f"{s}/2026/IMG_1.HEIC") and f.wanted(f"{s}/notes.txt")
    for junk in (
        "a.part",
        "b.crdownload",
        "c.tmp",
        "~$doc.docx",
        ".DS_Store",
        "._IMG.jpg",
        ".hidden.jpg",
        ".git/x.jpg",
        "x.lrcat",
        "Cache/thumb.jpg",
        "Lightroom/Cache/thumb.jpg",
    ):
        assert not f.wanted(f"{s}/{junk}"), junk
    assert not f.wanted(str(tmp_path / "elsewhere.jpg"))
    assert not f.wanted(str(home / "state" / "lily" / "x.jpg"))


@pytest.mark.skipif(os.name == "nt", reason="shell stand-ins")
def test_service_install_status_uninstall_systemd(home: Path, tmp_path: Path, cli: Any) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    write_profile(home, [src], [])
    bin_dir = tmp_path / "bin"
    calls = fake_tool(bin_dir, "systemctl")
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    unit = tmp_path / "config" / "systemd" / "user" / "keepmark-lily.service"

    dry = cli("service", "install", "--dry-run", "--platform", "linux", env=env)
    assert dry.code == 0, dry
    assert "ExecStart=" in dry.out and " -m backup watch -p " in dry.out and not unit.exists()
    assert f"Environment=KEEPMARK_HOME={home}" in dry.out

    done = cli("service", "install", "--platform", "linux", "--json", env=env)
    assert done.code == 0, done
    text = unit.read_text(encoding="utf-8")
    assert "Restart=on-failure" in text and "WantedBy=default.target" in text
    assert calls.read_text().splitlines() == [
        "--user daemon-reload",
        "--user enable --now keepmark-lily.service",
    ]
    status = cli("service", "status", "--platform", "linux", "--json", env=env).json()
    assert status["installed"] is True and status["loaded"] is True

    gone = cli("service", "uninstall", "--platform", "linux", env=env)
    assert gone.code == 0, gone
    assert not unit.exists()
    assert "--user disable --now keepmark-lily.service" in calls.read_text()

    # a service manager that refuses: the file is written, the failure named, exit 1
    fake_tool(bin_dir, "systemctl", code=1)
    refused = cli("service", "install", "--platform", "linux", env=env)
    assert refused.code == 1 and "failed" in refused.err and unit.exists()


def test_service_files_for_macos_and_windows(home: Path, tmp_path: Path, cli: Any) -> None:
    import plistlib

    src = tmp_path / "Shoots"
    src.mkdir()
    write_profile(home, [src], [])
    mac = cli("service", "install", "--dry-run", "--platform", "macos", "--json")
    assert mac.code == 0, mac
    doc = mac.json()
    plist = plistlib.loads(doc["text"].encode("utf-8"))
    assert plist["Label"] == "com.keepmark.lily"
    assert plist["ProgramArguments"][1:] == [
        "-m",
        "backup",
        "watch",
        "-p",
        str(home / "profiles" / "lily.toml"),
    ]
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] == {"SuccessfulExit": False}
    assert doc["file"].endswith("Library/LaunchAgents/com.keepmark.lily.plist")
    win = cli("service", "install", "--platform", "windows")
    assert win.code == 0, win
    assert "schtasks /Create" in win.out and "ONLOGON" in win.out


@pytest.mark.skipif(os.name == "nt", reason="shell stand-ins")
def test_failed_scheduled_run_notifies(home: Path, tmp_path: Path) -> None:
    from tests.daemonkit import Watch, daemon_profile, daemon_runs, wait_for

    src = tmp_path / "Shoots"
    src.mkdir()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the drive should be", encoding="utf-8")
    daemon_profile(
        home,
        [src],
        [{"name": "drive", "type": "local", "path": str(blocker / "Keepmark")}],
        schedule={"incremental": "weekly sun 03:00", "full": "monthly 1 04:00"},
    )
    bin_dir = tmp_path / "bin"
    calls = fake_tool(bin_dir, "notify-send")
    with Watch(home, {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}) as w:
        wait_for(lambda: calls.exists(), 60, "a notification")
        assert w.terminate() == 0
    assert daemon_runs(home) == [("full", "new profile", "failed")]
    assert "backup failed" in calls.read_text(encoding="utf-8")


def test_check_grades_and_status(home: Path, tmp_path: Path, cli: Any) -> None:
    src = tmp_path / "Shoots"
    (src / "2026").mkdir(parents=True)
    (src / "2026" / "a.txt").write_text("caption", encoding="utf-8")
    drive = tmp_path / "drive"
    far = tmp_path / "far"
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(drive)}])

    before = cli("check", "--json")
    assert before.code == 1, before
    doc = before.json()
    assert doc["grade"] == "high-risk" and doc["ok"] is False
    problems = {f["check"] for f in doc["findings"]}
    assert {"targets", "last incremental", "last full", "verify", "object lock"} <= problems
    assert all(f["fix"] for f in doc["findings"])

    # two targets, one off-site (rclone's on-the-fly local backend stands in for a cloud),
    # a full backup and a verify that reads the data back: only Object Lock is missing, and the
    # drive is a folder on the same disk as the source
    write_profile(
        home,
        [src],
        [
            {"name": "drive", "type": "local", "path": str(drive)},
            {"name": "cloud", "type": "rclone", "remote": f":local:{far}"},
        ],
    )
    assert cli("full").code == 0
    assert cli("verify", "--read-data").code == 0
    after = cli("check", "--json")
    assert after.code == 0, after
    doc = after.json()
    assert doc["grade"] == "pass"
    assert {f["check"] for f in doc["findings"]} == {"object lock", "same disk", "trusted timestamp"}
    text = cli("check")
    assert text.code == 0 and "PASS" in text.out and "fix:" in text.out

    status = cli("status", "--json")
    assert status.code == 0, status
    st = status.json()
    assert st["daemon"]["running"] is False and st["queue"] == 0
    assert [t["name"] for t in st["targets"]] == ["drive", "cloud"]
    assert all(t["snapshot"] and t["age_seconds"] is not None for t in st["targets"])
    assert st["not_on_every_target"] == 0
    # The full backup made by hand serves the schedule: nothing is due now.
    assert all(s["next"] not in ("now", None) for s in st["schedules"]), st["schedules"]
    (src / "2026" / "b.txt").write_text("new caption", encoding="utf-8")
    assert cli("inventory", "scan").code == 0
    st = cli("status", "--json").json()
    assert st["not_on_every_target"] == 1 and st["not_on_every_target_files"] == [str(src / "2026" / "b.txt")]
    assert cli("status").code == 0

    # a broken ledger is high-risk
    import sqlite3

    conn = sqlite3.connect(home / "state" / "lily" / "inventory.sqlite")
    conn.execute("UPDATE ledger SET data = replace(data, 'a.txt', 'z.txt') WHERE seq = 1")
    conn.commit()
    conn.close()
    broken = cli("check", "--json")
    assert broken.code == 1 and "ledger" in {f["check"] for f in broken.json()["findings"]}


def test_on_battery_false_waits_for_mains_power(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon in this process (its threads joined by the end, as the fixture checks), with
    psutil's answer replaced: on battery, the due full backup waits and says so."""
    from backup.app.watch import daemon_for
    from backup.daemon import daemon as daemon_module
    from backup.daemon.store import DaemonStore, daemon_db_path
    from backup.profile.load import load

    src = tmp_path / "Shoots"
    src.mkdir()
    drive = tmp_path / "drive"
    write_profile(
        home,
        [src],
        [{"name": "drive", "type": "local", "path": str(drive)}],
        schedule={"on_battery": False},
        watch={"settle_seconds": 0.2},
    )
    plugged = threading.Event()
    monkeypatch.setattr(daemon_module, "on_battery", lambda: not plugged.is_set())
    d = daemon_for(load("lily"), schedule_tick=0.2)
    t = threading.Thread(target=d.run, name="test-daemon")
    t.start()
    try:
        state = home / "state" / "lily"

        def waiting() -> str | None:
            if not daemon_db_path(state).exists():
                return None
            with DaemonStore(daemon_db_path(state)) as store:
                return store.meta("waiting")

        wait_for(waiting, 20, "the full run to wait for mains power")
        with DaemonStore(daemon_db_path(state)) as store:
            assert store.meta("waiting") == "full run waits for mains power"
            assert store.last_run("full") is None
        assert not (drive / "lily" / "snapshots").exists()
        plugged.set()  # mains power: the full backup runs
        wait_for(lambda: list((drive / "lily" / "snapshots").glob("*-full-*.json")), 30, "the full backup")
    finally:
        d.stop()
        t.join(30)
    assert not t.is_alive()


def test_daemon_store_queue_and_runs(tmp_path: Path) -> None:
    from backup.daemon.store import MAX_ATTEMPTS, DaemonStore

    now = datetime.now(UTC)
    with DaemonStore(tmp_path / "daemon.sqlite") as store:
        store.enqueue(["/s/a.jpg", "/s/b.jpg"], now)
        store.enqueue(["/s/a.jpg"], now)  # queued once
        assert store.take(10) == ["/s/a.jpg", "/s/b.jpg"] and store.queue_length() == 2
        for _ in range(MAX_ATTEMPTS):
            store.failed("/s/b.jpg", "the inventory cannot be opened")
        assert store.take(10) == ["/s/a.jpg"]
        assert store.stuck() == [
            {"path": "/s/b.jpg", "attempts": 3, "error": "the inventory cannot be opened"}
        ]
        store.done(["/s/a.jpg"])
        assert store.queue_length() == 0
        run_id = store.run_started("full", "new profile", now)
        assert store.last_run("full", ("ok", "partial")) is None
    with DaemonStore(tmp_path / "daemon.sqlite") as store:  # killed: found on the next start
        assert store.interrupted(now) == ["full"]
        assert store.last_run("full")["result"] == "interrupted"  # type: ignore[index]
        store.run_finished(run_id, "ok", now, {"files": 3})
        assert store.last_run("full", ("ok",))["detail"] == {"files": 3}  # type: ignore[index]
        assert store.created(now) == now and store.created(now + timedelta(days=1)) == now


def test_a_source_folder_that_appears_later_is_watched(home: Path, tmp_path: Path) -> None:
    """A source on a drive that was not connected when the daemon started: watched (and its
    files recorded and stamped) once it appears. The daemon runs in this process; its threads
    are joined by the end."""
    from backup.app.watch import daemon_for
    from backup.profile.load import load
    from tests.daemonkit import derivative_count, recorded_paths
    from tests.kit.media import jpeg

    here, drive = tmp_path / "Shoots", tmp_path / "Card" / "DCIM"
    here.mkdir()
    write_profile(
        home,
        [here, drive],
        [],
        schedule={"incremental": "off", "full": "off"},
        watch={"settle_seconds": 0.2},
    )
    d = daemon_for(load("lily"), rewatch=0.3)
    t = threading.Thread(target=d.run, name="test-daemon")
    t.start()
    try:
        wait_for(lambda: d.watcher is not None and d._reconciled.is_set(), 30, "the start")
        assert d.unwatched == [str(drive)]
        first = jpeg(drive / "DSC_0001.jpg", seed=1)  # the card is inserted
        wait_for(lambda: derivative_count(home) >= 1, 30, "the card's photo")
        assert d.unwatched == []
        second = jpeg(drive / "DSC_0002.jpg", seed=2)  # now seen by the watcher
        wait_for(lambda: derivative_count(home) >= 2, 30, "a photo added later")
    finally:
        d.stop()
        t.join(30)
    assert recorded_paths(home) == {str(first), str(second)}
    assert d.error is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="notify-send stand-in")
def test_a_worse_health_grade_is_announced(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backup.app.watch import daemon_for
    from backup.daemon.store import DaemonStore
    from backup.profile.load import load

    src = tmp_path / "Shoots"
    src.mkdir()
    write_profile(home, [src], [])
    bin_dir = tmp_path / "bin"
    calls = fake_tool(bin_dir, "notify-send")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    d = daemon_for(load("lily"))
    with DaemonStore(tmp_path / "daemon.sqlite") as store:
        d.store = store
        store.set_meta("grade", "high-risk")
        d.after_run()  # no worse: quiet
        assert not calls.exists()
        store.set_meta("grade", "pass")
        d.after_run()  # worse than last time: announced
        assert store.meta("grade") == "high-risk"
    assert "lily is now high-risk" in calls.read_text(encoding="utf-8")
