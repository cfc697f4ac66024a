"""Docs that run: the README's commands are real commands, its exit-code table is the code's,
and docs/design.md describes every table and every profile key."""

from __future__ import annotations

import re
import shlex

import pytest

from backup.cli.main import build_parser
from backup.errors import EXIT_CODES
from backup.profile.validate import SECTIONS, TARGET_KEYS
from inventory.store import catalog, queue
from inventory.store.db import SCHEMA
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DESIGN = (REPO / "docs" / "design.md").read_text(encoding="utf-8")


def schema_columns(schema: str) -> dict[str, dict[str, str]]:
    """{table: {column: its declaration after the name}}, in the schema's order."""
    tables: dict[str, dict[str, str]] = {}
    for table, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\)", schema, re.S):
        columns = {}
        for line in body.splitlines():
            found = re.match(r"\s*(\w+)\s+((?:TEXT|INTEGER|REAL|BLOB)\b.*?),?$", line)
            if found:
                columns[found[1]] = found[2]
        tables[table] = columns
    return tables


def section(text: str, heading: str) -> str:
    """The part of ``text`` from the heading line that starts with ``heading`` to the next
    heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = next(m.start() for m in re.finditer(rf"^{re.escape(heading)}", text, re.M))
    rest = text[start:].split("\n", 1)[1]
    stop = re.search(rf"^#{{1,{len(level)}}} ", rest, re.M)
    return rest[: stop.start()] if stop else rest


def table_rows(text: str) -> dict[str, str]:
    """{column: the row's type cell} of the Markdown table rows of ``text`` whose first cell
    names columns (`` `a` `` or `` `a`, `b` ``)."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 2:
            for name in re.findall(r"`(\w+)`", cells[0]):
                assert name not in rows, f"{name} described twice"
                rows[name] = cells[1]
    return rows


def listed_columns(text: str) -> dict[str, list[str]]:
    """{table: its columns in order} from list items ``- `table` (`col`, `col` TYPE, ...)``."""
    return {
        table: re.findall(r"`(\w+)`", columns)
        for table, columns in re.findall(r"^- `(\w+)` \(([^)]*)\)", text, re.M)
    }


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    first, second = (b.strip() for b in sh_blocks(README)[:2])
    assert "pip install ." in first and "backup demo" in first
    assert "pip install -e '.[test]'" in second and "pytest --slow" in second
    assert README.index(first) < README.index("## ")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci


def readme_commands() -> list[list[str]]:
    commands = []
    for block in sh_blocks(README):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("backup "):
                commands.append(shlex.split(line)[1:])
    return commands


@pytest.mark.parametrize("argv", readme_commands(), ids=lambda a: " ".join(a[:2]))
def test_every_readme_command_parses(argv: list[str]) -> None:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        assert exc.code == 0, f"backup {' '.join(argv)} does not parse"
        return
    assert getattr(args, "handler", None) is not None


def test_readme_exit_code_table_is_the_codes() -> None:
    for code, meaning in EXIT_CODES.items():
        assert f"| {code} | {meaning} |" in README


def test_design_describes_every_inventory_column_in_its_table() -> None:
    """Each table of the inventory schema has its section under "### Tables", and that
    section's rows describe exactly its columns, in order, each with its declared type and
    whether it is NOT NULL and the PRIMARY KEY. (A column named anywhere else does not count.)"""
    tables = section(DESIGN, "### Tables")
    documented = re.findall(r"^#### `(\w+)`", tables, re.M)
    schema = schema_columns(SCHEMA)
    assert documented == list(schema), "the sections under '### Tables' are not the schema's tables"
    for table, columns in schema.items():
        rows = table_rows(section(tables, f"#### `{table}`"))
        assert list(rows) == list(columns), f"{table}: rows {list(rows)}, columns {list(columns)}"
        for column, declared in columns.items():
            described = rows[column]
            assert described.split()[0] == declared.split()[0], f"{table}.{column}: type"
            for constraint in ("NOT NULL", "PRIMARY KEY"):
                assert (constraint in described) == (constraint in declared), (
                    f"{table}.{column}: {constraint}"
                )


def test_design_describes_every_profile_key() -> None:
    for name, keys in SECTIONS.items():
        assert f"[{name}]" in DESIGN, name
        for key in keys:
            assert key in DESIGN, f"{name}.{key}"
    for keys in TARGET_KEYS.values():
        for key in keys:
            assert key in DESIGN, key


def test_design_describes_the_backup_formats() -> None:
    from backup.runs import layout, snapshot

    described = listed_columns(section(DESIGN, "### The backup catalog"))
    for table, columns in schema_columns(catalog.SCHEMA).items():
        assert described.get(table) == list(columns), f"backups.sqlite {table}: {described.get(table)}"
    assert list(described) == list(schema_columns(catalog.SCHEMA))
    for part in (layout.ORIGINALS, layout.VERSIONS, layout.SNAPSHOTS, "inventory.sqlite", "profile.toml"):
        assert part.rstrip("/") in DESIGN, part
    assert snapshot.FORMAT in DESIGN and f"version {snapshot.VERSION}" in DESIGN
    for key in (
        "format",
        "id",
        "kind",
        "profile",
        "target",
        "started",
        "finished",
        "totals",
        "failed",
        "files",
    ):
        assert f"`{key}`" in DESIGN, key


def test_design_describes_the_proof_formats() -> None:
    from backup.proof import evidence, store
    from inventory.ledger import checkpoint

    for name in (store.KEY_FILE, store.PUBLIC_FILE, "checkpoints/", ".tsq", ".tsr", ".tsa.pem"):
        assert name in DESIGN, name
    assert f"`{checkpoint.FORMAT}`, {checkpoint.VERSION}" in DESIGN
    assert f"`{evidence.FORMAT}`, {evidence.VERSION}" in DESIGN
    for key in ("entries", "head", "time", "key", "key_id", "signature", "profile"):
        assert f"`{key}`" in DESIGN, key
    for key in ("suspect", "match", "original", "ledger", "public_key", "checkpoints", "backups", "files"):
        assert f"| `{key}` |" in DESIGN, key
    for name in ("evidence.json", "report.html", "notice.txt", "`publication`"):
        assert name in DESIGN, name


def test_design_describes_matching_as_the_code_does() -> None:
    import json

    from inventory.match import find as match
    from inventory.match import index as match_index
    from inventory.match import video as match_video
    from inventory.match.hashes import hash_params_for
    from inventory.match.params import WINDOWS

    section = DESIGN[DESIGN.index("## Matching") : DESIGN.index("## Format changes")]
    for name in WINDOWS:
        assert f"`{name}`" in section, name
    for variant, windows in match.VARIANT_WINDOWS.items():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{variant}` |"))
        described = "all seven" if len(windows) == len(WINDOWS) else ", ".join(f"`{w}`" for w in windows)
        assert f"| {described} |" in row, variant
    assert match_index.MAGIC.decode() in section and f"`version` ({match_index.FORMAT_VERSION})" in section
    assert f"within **{match.PHASH_ACCEPT} bits**" in section
    assert f"**{match.INLIERS_ACCEPT} inliers**" in section
    assert (
        f"(within\n   {match.CANDIDATE_MAX} bits)" in section
        or f"within {match.CANDIDATE_MAX} bits" in section
    )
    assert f"nearest {match.MAX_CONFIRM} are read" in section
    assert f"within **{match_video.FRAME_NEAR} bits**" in section
    assert f"**{round(match_video.ALIGNED_RATIO * 100)}%**" in section
    # The hash_params example is what the code writes for a photo (library versions aside).
    example = next(line for line in DESIGN.splitlines() if line.startswith('{"dhash"'))
    want, got = json.loads(hash_params_for("image")), json.loads(example)
    for key in ("imagehash", "pillow"):
        want.pop(key), got.pop(key)
    assert got == want


def test_design_describes_the_daemon_state() -> None:
    described = listed_columns(section(DESIGN, "### `daemon.sqlite`"))
    for table, columns in schema_columns(queue.SCHEMA).items():
        assert described.get(table) == list(columns), f"daemon.sqlite {table}: {described.get(table)}"
    assert list(described) == list(schema_columns(queue.SCHEMA))
    for name in (
        "daemon.sqlite",
        "daemon.lock",
        "daemon.log",
        "activity.jsonl",
        "KEEPMARK_CLOCK",
        "keepmark-<name>.service",
    ):
        assert name in DESIGN, name
