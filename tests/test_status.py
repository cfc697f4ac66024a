"""``backup status``: a `backup full` or `backup incremental` run by hand is the last run of its
kind, as a run of the daemon is; times in its text are local, in --json as stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.backupkit import write_profile
from tests.daemonkit import Watch, daemon_runs, scheduled_profile, wait_for, wait_idle
from tests.kit.media import jpeg


def _last(cli: Any, env: dict[str, str] | None = None) -> dict[str, Any]:
    r = cli("status", "--json", env=env)
    assert r.code == 0, r
    return {s["kind"]: s["last"] for s in r.json()["schedules"]}


def test_runs_by_hand_are_the_last_runs(home: Path, tmp_path: Path, cli: Any) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    (src / "caption.txt").write_text("a caption", encoding="utf-8")
    write_profile(
        home,
        [src],
        [
            {"name": "drive", "type": "local", "path": str(tmp_path / "drive")},
            {"name": "usb", "type": "local", "path": str(tmp_path / "usb")},
        ],
    )
    assert _last(cli) == {"full": None, "incremental": None}
    assert "full (monthly 1 04:00): last never" in cli("status").out

    assert cli("full").code == 0, "full"
    last = _last(cli)
    assert last["incremental"] is None
    full = last["full"]
    assert full["result"] == "ok" and full["by"] == "hand" and full["targets"] == ["drive", "usb"]
    assert full["started"].endswith("Z") and full["finished"] >= full["started"]

    (src / "new.txt").write_text("new", encoding="utf-8")
    assert cli("incremental", "--target", "usb").code == 0
    inc = _last(cli)["incremental"]
    assert inc["result"] == "ok" and inc["by"] == "hand" and inc["targets"] == ["usb"]
    assert inc["started"] > full["started"]

    # In the text, local time: UTC+8 here (a POSIX TZ, no time zone database needed).
    text = cli("status", env={"TZ": "XST-8"})
    assert text.code == 0, text
    from datetime import datetime, timedelta

    started = datetime.fromisoformat(full["started"].replace("Z", "+00:00")) + timedelta(hours=8)
    line = next(x for x in text.out.splitlines() if x.startswith("full "))
    assert f"last {started:%Y-%m-%d %H:%M} +08:00 (ok, by hand)" in line, text.out
    assert "(ok, by hand, usb only)" in text.out, text.out


def test_a_run_by_hand_after_the_daemons(home: Path, tmp_path: Path, cli: Any) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    jpeg(src / "IMG_1.jpg", seed=1)
    scheduled_profile(home, src, tmp_path / "drive")
    # A new profile: the daemon makes its first full backup at once.
    with Watch(home) as w:
        wait_for(lambda: daemon_runs(home) and daemon_runs(home)[-1][2] == "ok", 60, "the first full")
        wait_idle(home)
        assert w.terminate() == 0
    last = _last(cli)
    assert last["full"]["by"] == "daemon" and last["full"]["result"] == "ok"
    assert last["incremental"] is None

    assert cli("incremental").code == 0
    last = _last(cli)
    assert last["full"]["by"] == "daemon"
    assert last["incremental"]["by"] == "hand" and last["incremental"]["result"] == "ok"

    assert cli("full").code == 0
    last = _last(cli)
    assert last["full"]["by"] == "hand" and last["full"]["started"] > last["incremental"]["started"]


def test_a_target_whose_drive_is_not_connected_is_away(home: Path, tmp_path: Path, cli: Any) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    (tmp_path / "here").mkdir()
    away = f"/media/keepmark-test-{tmp_path.name}/Keepmark"  # a drive's mount point, not mounted
    write_profile(
        home,
        [src],
        [
            {"name": "here", "type": "local", "path": str(tmp_path / "here")},
            {"name": "usb", "type": "local", "path": away},
        ],
    )
    doc = cli("status", "--json").json()
    assert {t["name"]: t["away"] for t in doc["targets"]} == {"here": False, "usb": True}
