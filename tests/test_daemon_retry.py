"""A real-time backup that failed is tried again while the daemon runs: a real ``backup watch``
daemon, an important folder, and a backup drive that is unplugged (its folder goes away) when
a photo arrives and plugged in again later. The photo reaches the drive without a restart and
without waiting for a scheduled run, and ``backup status`` lists it, and why, while it waits."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.daemonkit import Watch, daemon_profile, daemon_runs, query, state, wait_for, wait_idle
from tests.kit.faultproxy import FaultProxy
from tests.kit.hashing import file_sha256 as sha
from tests.kit.media import jpeg
from tests.kit.s3 import S3Server

pytestmark = pytest.mark.skipif(os.name == "nt", reason="signals and inotify: POSIX")


def waiting(cli: Any) -> list[dict[str, Any]]:
    r = cli("status", "--json")
    assert r.code == 0, r
    return list(r.json()["backups_waiting"])


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_photo_dropped_while_the_drive_is_away_is_copied_when_it_comes_back(
    home: Path, tmp_path: Path, cli: Any, polling: bool
) -> None:
    src = tmp_path / "Shoots"
    important = src / "Client Work"
    important.mkdir(parents=True)
    first = jpeg(important / "first.jpg", seed=1)
    mount = tmp_path / "usb"  # the drive, mounted here while it is plugged in
    drive = mount / "Backups"
    drive.mkdir(parents=True)
    watch = {"polling": True, "poll_interval": 0.5} if polling else {}
    daemon_profile(
        home,
        [src],
        [{"name": "drive", "type": "local", "path": str(drive)}],
        important=[important],
        schedule={"incremental": "weekly sun 03:00", "full": "off"},
        watch=watch,
    )
    originals = drive / "lily" / "originals" / "Shoots" / "Client Work"
    away = tmp_path / "usb-unplugged"
    with Watch(home) as w:
        wait_for(lambda: (originals / "first.jpg").exists(), 60, "the first photo on the drive")
        passes = wait_idle(home)
        os.rename(mount, away)  # unplugged: the drive's folder is gone
        urgent = jpeg(important / "contract-shoot.jpg", seed=3)
        wait_for(lambda: waiting(cli), 60, "the photo listed as waiting")
        (row,) = waiting(cli)
        assert row["path"] == str(urgent) and row["target"] == "drive"
        assert str(drive) in row["error"] and "connected" in row["error"]  # why it waits
        assert row["attempts"] >= 1 and row["since"] and row["next_try"]
        text = cli("status")
        assert "real-time backups waiting: 1" in text.out and "contract-shoot.jpg -> drive" in text.out
        wait_idle(home, passes)  # nothing under way while it waits for the drive
        assert waiting(cli), "the wait ended while the drive was away"
        os.rename(away, mount)  # plugged in again
        wait_for(lambda: (originals / "contract-shoot.jpg").exists(), 60, "the photo on the drive")
        wait_for(lambda: not waiting(cli), 30, "the wait to end")
        assert w.proc.poll() is None  # the same daemon: no restart
        code = w.terminate()
    assert code == 0, w.text()
    assert (originals / "contract-shoot.jpg").read_bytes() == urgent.read_bytes()
    assert (originals / "first.jpg").read_bytes() == first.read_bytes()
    assert "target drive is back" in w.text()  # sent when the drive came back, not on a timer
    assert daemon_runs(home) == []  # no scheduled run did it
    catalog = state(home) / "backups.sqlite"
    stored = dict(query(catalog, "SELECT key, sha256 FROM stored WHERE target = 'drive'"))
    assert stored["originals/Shoots/Client Work/contract-shoot.jpg"] == sha(urgent)
    kinds = {r[0] for r in query(catalog, "SELECT kind FROM runs")}
    assert kinds == {"realtime"}


def test_photo_dropped_while_the_remote_does_not_answer_is_sent_once_it_answers_again(
    home: Path, tmp_path: Path, cli: Any, s3_server: S3Server
) -> None:
    """An S3 bucket behind a proxy that stops answering (every connection closed at once) and
    later answers again: the photo waits, listed with the reason, and is sent by a retry."""
    src = tmp_path / "Shoots"
    important = src / "Client Work"
    important.mkdir(parents=True)
    jpeg(important / "first.jpg", seed=1)
    bucket = s3_server.make_bucket()
    prefix = "lily/originals/Shoots/Client Work/"
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    with FaultProxy("127.0.0.1", port) as proxy:
        entry = {**s3_server.target_entry(bucket, name="cloud"), "endpoint_url": proxy.url}
        daemon_profile(home, [src], [entry], important=[important])
        with Watch(home) as w:
            keys = lambda: set(s3_server.object_keys(bucket))  # noqa: E731
            wait_for(lambda: prefix + "first.jpg" in keys(), 60, "the first photo in the bucket")
            passes = wait_idle(home)
            proxy.drop_connections(1_000_000)  # the remote does not answer
            urgent = jpeg(important / "contract-shoot.jpg", seed=3)
            wait_for(lambda: waiting(cli), 120, "the photo listed as waiting")
            (row,) = waiting(cli)
            assert row["path"] == str(urgent) and row["target"] == "cloud" and row["error"]
            wait_idle(home, passes)
            assert prefix + "contract-shoot.jpg" not in keys()
            proxy.clear()  # it answers again
            wait_for(lambda: prefix + "contract-shoot.jpg" in keys(), 120, "the photo in the bucket")
            wait_for(lambda: not waiting(cli), 30, "the wait to end")
            assert w.proc.poll() is None  # the same daemon: no restart
            code = w.terminate()
    assert code == 0, w.text()
    body = s3_server.client.get_object(Bucket=bucket, Key=prefix + "contract-shoot.jpg")["Body"].read()
    assert body == urgent.read_bytes()
    assert daemon_runs(home) == []  # no scheduled run did it


def test_an_older_daemon_state_opens_and_gains_the_retries_table(tmp_path: Path) -> None:
    """daemon.sqlite as Keepmark 0.1.0 wrote it (queue, runs, meta): opened as it is, its rows
    kept, the ``retries`` table added; the backoff grows and is capped."""
    import sqlite3
    from datetime import datetime, timedelta, timezone

    from backup.daemon.retry import RETRY_FIRST, RETRY_MOST, next_try
    from backup.daemon.store import DaemonStore

    db = tmp_path / "daemon.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(
        """
        CREATE TABLE queue (path TEXT PRIMARY KEY, added TEXT NOT NULL,
                            attempts INTEGER NOT NULL DEFAULT 0, error TEXT);
        CREATE TABLE runs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, reason TEXT NOT NULL,
                           started TEXT NOT NULL, finished TEXT, result TEXT, detail TEXT);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO queue (path, added) VALUES ('/Shoots/a.jpg', '2026-11-20T10:00:00+00:00');
        INSERT INTO meta VALUES ('created', '2026-11-01T10:00:00+00:00');
        """
    )
    conn.commit()
    conn.close()
    now = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
    with DaemonStore(db) as store:
        assert store.take(10) == ["/Shoots/a.jpg"] and store.meta("created") == "2026-11-01T10:00:00+00:00"
        assert store.backups_waiting() == []
        store.backup_failed("drive", ["/Shoots/b.jpg"], "the drive is away", now, lambda n: next_try(now, n))
        store.backup_failed("drive", ["/Shoots/b.jpg"], "still away", now, lambda n: next_try(now, n))
        (row,) = store.backups_waiting()
        assert row["attempts"] == 2 and row["error"] == "still away" and row["since"] == now.isoformat()
        assert row["next_try"] == (now + timedelta(seconds=2 * RETRY_FIRST)).isoformat()
        store.backup_sent("drive", ["/Shoots/b.jpg"])
        assert store.backups_waiting() == []
    assert next_try(now, 50) == now + timedelta(seconds=RETRY_MOST)


def test_retries_wait_with_backoff_go_at_once_when_the_target_is_back(tmp_path: Path) -> None:
    """The retry rules on their own (a real store, jobs that say what a test tells them): a
    failed file is due after RETRY_FIRST seconds, not before; a drive seen away and then back
    is due at once; a file sent waits no more; a scheduled run that reached the target ends
    its waits; a remote (reachable unknown) is tried on the timer only."""
    from datetime import datetime, timedelta

    from backup.daemon.clock import Clock
    from backup.daemon.jobs import Delivery
    from backup.daemon.retry import RETRY_FIRST, Retries
    from backup.daemon.store import DaemonStore

    class Jobs:
        def __init__(self) -> None:
            self.there: dict[str, bool | None] = {"drive": False, "cloud": None}
            self.tried: list[tuple[str, list[str]]] = []

        def reachable(self, target: str) -> bool | None:
            return self.there[target]

        def retry(self, target: str, paths: Any) -> Delivery:
            self.tried.append((target, list(paths)))
            if self.there[target] is False:
                return Delivery(target, [], list(paths), "away")
            return Delivery(target, list(paths), [], "")

    class Later(Clock):
        def __init__(self) -> None:
            super().__init__()
            self.ahead = timedelta(0)

        def now(self) -> datetime:
            return super().now() + self.ahead

    jobs, clock = Jobs(), Later()
    with DaemonStore(tmp_path / "daemon.sqlite") as store:
        retries = Retries(store, jobs, clock)  # type: ignore[arg-type]
        retries.note([Delivery("drive", [], ["/a.jpg", "/b.jpg"], "the drive is away")])
        retries.note([Delivery("cloud", [], ["/a.jpg"], "connection refused")])
        assert retries.due() == []  # too soon, and the drive is away
        jobs.there["drive"] = True
        assert retries.due() == ["drive"]  # back: at once
        assert retries.run(["drive"]) == 2 and jobs.tried == [("drive", ["/a.jpg", "/b.jpg"])]
        assert [(w["path"], w["target"]) for w in store.backups_waiting()] == [("/a.jpg", "cloud")]
        clock.ahead = timedelta(seconds=RETRY_FIRST - 1)
        assert retries.due() == []
        clock.ahead = timedelta(seconds=RETRY_FIRST + 1)
        assert retries.due() == ["cloud"]  # the timer
        retries.reached("cloud")  # a scheduled run reached it
        assert store.backups_waiting() == [] and retries.due() == []
