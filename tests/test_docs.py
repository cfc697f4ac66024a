"""Docs that run: the README's commands are real commands, its exit-code table is the code's,
and docs/design.md describes every table and every profile key."""

from __future__ import annotations

import re
import shlex

import pytest

from backup.cli.main import build_parser
from backup.errors import EXIT_CODES
from backup.profile.validate import SECTIONS, TARGET_KEYS
from inventory.store.db import SCHEMA
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DESIGN = (REPO / "docs" / "design.md").read_text(encoding="utf-8")


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


def test_design_describes_every_table_and_profile_key() -> None:
    for table in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA):
        assert f"`{table}`" in DESIGN, table
    for column in re.findall(r"^\s+(\w+)\s+(?:TEXT|INTEGER)", SCHEMA, re.M):
        assert column in DESIGN, column
    for section, keys in SECTIONS.items():
        assert f"[{section}]" in DESIGN, section
        for key in keys:
            assert key in DESIGN, f"{section}.{key}"
    for keys in TARGET_KEYS.values():
        for key in keys:
            assert key in DESIGN, key


def test_design_describes_the_backup_formats() -> None:
    from backup.runs import catalog, layout, snapshot

    for table in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", catalog.SCHEMA):
        assert f"`{table}`" in DESIGN, table
    for column in re.findall(r"^\s+(\w+)\s+(?:TEXT|INTEGER)", catalog.SCHEMA, re.M):
        assert f"`{column}`" in DESIGN, column
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
    from backup.daemon import store

    for table in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", store.SCHEMA):
        assert f"`{table}`" in DESIGN, table
    for column in re.findall(r"^\s+(\w+)\s+(?:TEXT|INTEGER)", store.SCHEMA, re.M):
        assert f"`{column}`" in DESIGN, column
    for name in ("daemon.sqlite", "daemon.lock", "daemon.log", "KEEPMARK_CLOCK", "keepmark-<name>.service"):
        assert name in DESIGN, name
