"""``backup inventory export``: a CSV that Excel opens with Chinese names intact. It begins with
the UTF-8 byte order mark (Excel reads a CSV without one in the legacy code page), in a file and
on stdout, whatever the terminal's encoding; ``--no-bom`` leaves it out; JSON never has one."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.kit.media import jpeg

NAME = "春节_上海外滩.jpg"
FOLDER = "林美的相册"


def _export(*args: str, env: dict[str, str] | None = None) -> bytes:
    r = subprocess.run(
        [sys.executable, "-m", "backup", "inventory", "export", *args],
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode(errors="replace")
    return r.stdout


def _rows_as_excel_reads(data: bytes) -> list[dict[str, str]]:
    # Excel takes a CSV as UTF-8 only when it begins with the byte order mark.
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))


def test_csv_opens_in_excel_with_chinese_names(
    home: Path, profile: str, sources: Path, tmp_path: Path, cli: Any
) -> None:
    (sources / FOLDER).mkdir()
    jpeg(sources / FOLDER / NAME, seed=4)
    assert cli("inventory", "scan").code == 0

    out = tmp_path / "inventory.csv"
    r = cli("inventory", "export", "-o", str(out))
    assert r.code == 0, r
    rows = _rows_as_excel_reads(out.read_bytes())
    assert [row["path"] for row in rows] == [str(sources / FOLDER / NAME)]
    assert rows[0]["relpath"] == f"{FOLDER}/{NAME}" and rows[0]["kind"] == "image"

    # On stdout the same bytes, even where the terminal's encoding could not show the name.
    assert _export() == out.read_bytes()
    assert _export(env={"PYTHONIOENCODING": "ascii"}) == out.read_bytes()

    plain = _export("--no-bom")
    assert plain.startswith(b"sha256,path,") and plain == out.read_bytes()[3:]
    doc = _export("--json")
    assert doc.startswith(b"{") and json.loads(doc)["files"][0]["relpath"] == f"{FOLDER}/{NAME}"
