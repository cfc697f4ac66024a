"""The inventory as CSV or JSON, for spreadsheets and scripts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from inventory.store.inventory import LIST_FIELDS


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(LIST_FIELDS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def to_json(rows: Sequence[dict[str, Any]], **header: Any) -> str:
    return json.dumps({**header, "files": list(rows)}, indent=2, ensure_ascii=False) + "\n"
