"""Times in text output are this computer's local time, with its offset; the JSON documents
keep them as stored, in UTC. One function formats them all (``backup.humanize.when``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from backup.humanize import when
from tests.backupkit import write_profile
from tests.kit.media import jpeg

EAST = {"TZ": "XST-8"}  # UTC+8 as a POSIX TZ: no time zone database needed


def _local(stamp: str, seconds: bool = True) -> str:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(hours=8)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " +08:00"


def test_text_output_in_local_time_json_in_utc(home: Path, tmp_path: Path, cli: Any) -> None:
    src = tmp_path / "Shoots"
    src.mkdir()
    photo = jpeg(src / "IMG_1.jpg", seed=1)
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(tmp_path / "drive")}])
    assert cli("full").code == 0

    shown = cli("inventory", "show", "--json", str(photo)).json()
    assert shown["first_seen"].endswith("Z") and all(e["time"].endswith("Z") for e in shown["ledger"])
    text = cli("inventory", "show", str(photo), env=EAST)
    assert text.code == 0, text
    assert f"First seen:   {_local(shown['first_seen'])}\n" in text.out, text.out
    assert f"  {photo}  (seen {_local(shown['paths'][0]['first_seen'])}, current)" in text.out
    first = shown["ledger"][0]
    assert f"  #{first['seq']} {_local(first['time'])} {first['type']} " in text.out

    listed = cli("inventory", "list", env=EAST)
    assert f"{_local(shown['first_seen'], seconds=False)}  {photo}" in listed.out, listed.out

    snaps = cli("snapshots", "--json").json()
    [snap] = snaps["targets"][0]["snapshots"]
    assert snap["time"].endswith("Z")
    text = cli("snapshots", env=EAST)
    assert f"  {snap['id']}  full         {_local(snap['time'])}  " in text.out, text.out

    status = cli("status", "--json").json()
    last = next(s for s in status["schedules"] if s["kind"] == "full")["last"]
    assert last["started"].endswith("Z")
    assert f"last {_local(last['started'], seconds=False)} (ok, by hand)" in cli("status", env=EAST).out


def test_one_formatter() -> None:
    # In this process's own zone, whatever it is: the same instant, written the local way.
    stamp = "2026-11-24T02:15:37.598092Z"
    local = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone()
    offset = local.strftime("%z")
    assert when(stamp) == f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"
    assert when(stamp, seconds=True).startswith(f"{local:%Y-%m-%d %H:%M:%S} ")
    assert when("2026-05-14") == "2026-05-14"  # a date alone
    assert when("2026-05-14T12:03:51") == "2026-05-14 12:03"  # a camera's clock, no offset: as written
    assert when(None) == "-" and when("not a time") == "not a time"
