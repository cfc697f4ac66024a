"""``backup publish list``: the publications recorded with ``backup publish add``, oldest first,
in text (local times) and as JSON (times as stored, UTC); all, or those of one original.
(Imported publications: tests/test_publish_import.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.kit.media import jpeg

INSTAGRAM = "https://www.instagram.com/p/C7xYz12/"
REPOST = "https://www.xiaohongshu.com/explore/64f0a1b2000000001e03c7d9"


def test_publish_list(home: Path, profile: str, sources: Path, cli: Any) -> None:
    sunset = jpeg(sources / "2026" / "sunset.jpg", seed=7)
    harbour = jpeg(sources / "2025" / "harbour.jpg", seed=8)
    assert cli("inventory", "scan").code == 0
    empty = cli("publish", "list")
    assert empty.code == 0 and "No publications recorded yet" in empty.out, empty
    assert cli("publish", "list", "--json").json() == {"profile": "lily", "count": 0, "publications": []}

    add = ["publish", "add", "--platform"]
    assert cli(*add, "Instagram", "--url", INSTAGRAM, "--date", "2026-05-15", str(sunset)).code == 0
    stamp = cli("stamp", "--json")
    assert stamp.code == 0, stamp
    stamped = next(Path(stamp.json()["output"]).rglob("harbour*.jpg"))
    assert cli(*add, "Xiaohongshu", "--url", REPOST, str(stamped)).code == 0

    doc = cli("publish", "list", "--json").json()
    assert doc["count"] == 2
    first, second = doc["publications"]
    assert (first["platform"], first["url"], first["date"]) == ("Instagram", INSTAGRAM, "2026-05-15")
    assert first["path"] == str(sunset) and first["copy"] is None
    assert (first["source"], first["caption"], first["export"], first["export_sha256"]) == (
        "add",
        None,
        None,
        None,
    )
    assert second["platform"] == "Xiaohongshu" and second["path"] == str(harbour)
    assert second["copy"] and second["copy"] != second["sha256"]
    assert first["seq"] < second["seq"] and first["recorded"].endswith("Z")
    shown = cli("inventory", "show", "--json", str(harbour)).json()
    assert second["sha256"] == shown["sha256"]

    # Only one original's, by its name in any folder.
    one = cli("publish", "list", "--json", "sunset.jpg").json()
    assert [p["url"] for p in one["publications"]] == [INSTAGRAM]

    text = cli("publish", "list", env={"TZ": "XST-8"})
    assert text.code == 0, text
    lines = text.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        f"2026-05-15  Instagram  {INSTAGRAM}  {sunset}  [entry {first['seq']}, recorded "
    )
    recorded = datetime.fromisoformat(first["recorded"].replace("Z", "+00:00")) + timedelta(hours=8)
    assert lines[0].endswith(f"recorded {recorded:%Y-%m-%d %H:%M} +08:00]"), lines[0]
    assert f"Xiaohongshu  {REPOST}  {harbour} (stamped copy {second['copy'][:12]} posted)" in lines[1]
