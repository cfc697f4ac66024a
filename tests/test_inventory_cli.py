"""``backup inventory show NAME``: a file name alone is found in any folder; when files of that
name hold different contents, each path is listed, one a line, and the command exits 2."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from backup.errors import EXIT_CANNOT_START, EXIT_FAILED
from tests.kit.media import jpeg


def _sha(cli: Any, ref: str, cwd: Path) -> str:
    r = cli("inventory", "show", "--json", ref, cwd=cwd)
    assert r.code == 0, r
    return str(r.json()["sha256"])


def test_show_by_name_in_any_folder(
    home: Path, profile: str, sources: Path, tmp_path: Path, cli: Any
) -> None:
    for folder in ("2026/March", "Exports", "a", "b"):
        (sources / folder).mkdir(parents=True)
    jpeg(sources / "2026" / "March" / "IMG_1.jpg", seed=1)
    jpeg(sources / "Exports" / "IMG_1.jpg", seed=2)  # the same name, another picture
    jpeg(sources / "2026" / "March" / "IMG_2.jpg", seed=3)
    for folder in ("a", "b"):  # the same name and the same bytes: one content
        (sources / folder / "caption.txt").write_text("a caption", encoding="utf-8")
    assert cli("inventory", "scan").code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    by_path = _sha(cli, str(sources / "2026" / "March" / "IMG_2.jpg"), elsewhere)
    assert _sha(cli, "IMG_2.jpg", elsewhere) == by_path
    text = cli("inventory", "show", "IMG_2.jpg", cwd=elsewhere)
    assert text.code == 0 and f"SHA-256:      {by_path}" in text.out, text
    assert _sha(cli, "caption.txt", elsewhere) == _sha(cli, str(sources / "a" / "caption.txt"), elsewhere)

    two = cli("inventory", "show", "IMG_1.jpg", cwd=elsewhere)
    assert two.code == EXIT_CANNOT_START and two.out == "", two
    lines = two.err.splitlines()
    assert lines[0].startswith("backup: error: IMG_1.jpg: 2 recorded files have this name"), two.err
    assert lines[1:] == [
        f"  {sources / '2026' / 'March' / 'IMG_1.jpg'}",
        f"  {sources / 'Exports' / 'IMG_1.jpg'}",
    ]
    doc = cli("inventory", "show", "--json", "IMG_1.jpg", cwd=elsewhere).json()
    assert doc["exit_code"] == EXIT_CANNOT_START
    assert doc["candidates"] == [
        str(sources / "2026" / "March" / "IMG_1.jpg"),
        str(sources / "Exports" / "IMG_1.jpg"),
    ]

    nothing = cli("inventory", "show", "IMG_9.jpg", cwd=elsewhere)
    assert nothing.code == EXIT_FAILED and "IMG_9.jpg: no record" in nothing.err, nothing

    # A file of that name in the working folder is still taken by its content.
    shutil.copy(sources / "Exports" / "IMG_1.jpg", elsewhere / "IMG_1.jpg")
    assert _sha(cli, "IMG_1.jpg", elsewhere) == _sha(cli, str(sources / "Exports" / "IMG_1.jpg"), elsewhere)
