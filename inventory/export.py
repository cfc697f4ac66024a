"""The inventory as CSV or JSON, for spreadsheets and scripts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from inventory.store.inventory import LIST_FIELDS

BOM = "\ufeff"  # the UTF-8 byte order mark: how Excel knows a CSV file is UTF-8


def to_csv(rows: Sequence[dict[str, Any]], *, bom: bool = True) -> str:
    """One header line, then one line per row. It starts with the UTF-8 byte order mark unless
    not ``bom``: without it, Excel reads the file in the computer's legacy code page, and a
    Chinese or Japanese name comes out as mojibake."""
    out = io.StringIO()
    if bom:
        out.write(BOM)
    writer = csv.DictWriter(out, fieldnames=list(LIST_FIELDS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def to_json(rows: Sequence[dict[str, Any]], **header: Any) -> str:
    return json.dumps({**header, "files": list(rows)}, indent=2, ensure_ascii=False) + "\n"
