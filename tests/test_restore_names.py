"""``backup restore --include NAME``: a file name alone is found in any folder of the snapshot;
when several folders hold one, each is listed, one a line, nothing is restored, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backup.errors import EXIT_CANNOT_START
from tests.backupkit import tree, write_profile


def test_restore_a_file_by_its_name(home: Path, tmp_path: Path, cli: Any) -> None:
    src = tmp_path / "Shoots"
    for folder in ("2026/March", "Exports"):
        (src / folder).mkdir(parents=True)
    (src / "2026" / "March" / "IMG_0042.HEIC").write_bytes(b"heic bytes " * 100)
    (src / "2026" / "March" / "IMG_1.jpg").write_bytes(b"one " * 100)
    (src / "Exports" / "IMG_1.jpg").write_bytes(b"another " * 100)
    write_profile(home, [src], [{"name": "drive", "type": "local", "path": str(tmp_path / "drive")}])
    assert cli("full").code == 0

    to = tmp_path / "Restored"
    one = cli("restore", "--target", "drive", "--include", "IMG_0042.HEIC", "--to", str(to))
    assert one.code == 0, one
    assert tree(to) == {"Shoots/2026/March/IMG_0042.HEIC": b"heic bytes " * 100}

    again = tmp_path / "Again"
    two = cli("restore", "--target", "drive", "--include", "IMG_1.jpg", "--to", str(again))
    assert two.code == EXIT_CANNOT_START and not again.exists(), two
    lines = two.err.splitlines()
    assert lines[0].startswith("backup: error: IMG_1.jpg: 2 files in snapshot "), two.err
    assert lines[1:] == ["  Shoots/2026/March/IMG_1.jpg", "  Shoots/Exports/IMG_1.jpg"]
    doc = cli("restore", "--target", "drive", "--include", "IMG_1.jpg", "--to", str(again), "--json").json()
    assert doc["candidates"] == ["Shoots/2026/March/IMG_1.jpg", "Shoots/Exports/IMG_1.jpg"]

    # Its path settles it; a pattern on names takes every file it matches.
    path = cli("restore", "--target", "drive", "--include", "Shoots/Exports/IMG_1.jpg", "--to", str(again))
    assert path.code == 0 and tree(again) == {"Shoots/Exports/IMG_1.jpg": b"another " * 100}, path
    every = tmp_path / "Every"
    assert cli("restore", "--target", "drive", "--include", "IMG_*.jpg", "--to", str(every)).code == 0
    assert sorted(tree(every)) == ["Shoots/2026/March/IMG_1.jpg", "Shoots/Exports/IMG_1.jpg"]
