"""The command line as a user meets it: help, version, exit codes, --profile and --json."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backup import __version__
from backup.cli.main import build_parser
from backup.errors import EXIT_CODES
from tests.conftest import run_backup


def all_commands() -> list[tuple[str, ...]]:
    """Every leaf command of the parser, e.g. ('inventory', 'scan')."""

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return [prefix]
        out: list[tuple[str, ...]] = []
        for name, child in subs[0].choices.items():
            out += walk(child, (*prefix, name))
        return out

    return walk(build_parser(), ())


COMMANDS = all_commands()


def test_the_commands_the_issue_names_exist() -> None:
    for cmd in [
        ("init",),
        ("profile", "list"),
        ("profile", "show"),
        ("profile", "check"),
        ("inventory", "scan"),
        ("inventory", "list"),
        ("inventory", "show"),
        ("inventory", "export"),
        ("ledger", "verify"),
        ("demo",),
    ]:
        assert cmd in COMMANDS


def test_console_script_is_installed() -> None:
    script = shutil.which(
        "backup", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )
    assert script, "the `backup` console script is not installed (pip install -e .)"
    proc = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_top_level_help_lists_commands_and_exit_codes() -> None:
    r = run_backup("--help")
    assert r.code == 0
    for name in ("demo", "init", "inventory", "ledger", "profile"):
        assert name in r.out
    for code in EXIT_CODES:
        assert f"{code}  {EXIT_CODES[code]}" in r.out
    assert "--profile" in r.out and "KEEPMARK_HOME" in r.out


def test_version() -> None:
    r = run_backup("--version")
    assert r.code == 0 and __version__ in r.out


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_profile_option(cmd: tuple[str, ...]) -> None:
    r = run_backup(*cmd, "--help")
    assert r.code == 0, r
    assert r.out.startswith("usage: backup " + " ".join(cmd))
    assert "--profile" in r.out, "every command takes --profile/-p"
    assert "exit codes:" in r.out
    description = r.out.split("\n\n")[1]
    assert len(description.strip()) > 20, "every command is described"


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c not in {("init",), ("demo",)}], ids=" ".join)
def test_reporting_commands_take_json(cmd: tuple[str, ...]) -> None:
    r = run_backup(*cmd, "--help")
    assert "--json" in r.out


def test_bad_arguments_exit_2() -> None:
    r = run_backup("inventory", "frobnicate")
    assert r.code == 2
    assert "invalid choice" in r.err
    r = run_backup("nosuch")
    assert r.code == 2


def test_usage_error_with_json_prints_one_json_document() -> None:
    r = run_backup("inventory", "list", "--json", "--bogus")
    assert r.code == 2
    doc = json.loads(r.out)
    assert doc["ok"] is False and doc["exit_code"] == 2


def test_no_profile_at_all_is_exit_2_with_advice(home: Path) -> None:
    r = run_backup("inventory", "list")
    assert r.code == 2
    assert "backup init" in r.err
    assert r.err.count("\n") == 1, "one line"


def test_group_without_subcommand_is_a_usage_error() -> None:
    r = run_backup("inventory")
    assert r.code == 2


@pytest.mark.parametrize(
    "cmd",
    [
        ("profile", "list"),
        ("profile", "show"),
        ("profile", "check"),
        ("inventory", "scan"),
        ("inventory", "list"),
        ("inventory", "export"),
        ("ledger", "verify"),
    ],
    ids=" ".join,
)
def test_json_output_is_one_document_and_nothing_else(
    cmd: tuple[str, ...], profile: str, sources: Path
) -> None:
    (sources / "note.txt").write_text("hello")
    assert run_backup("inventory", "scan", "-p", profile).code == 0
    r = run_backup(*cmd, "-p", profile, "--json")
    assert r.code == 0, r
    json.loads(r.out)  # exactly one JSON document: json.loads rejects trailing text


def test_profile_option_goes_after_the_command_and_env_works(profile: str, sources: Path, home: Path) -> None:
    run_backup("init", "other", "--account", "O", "--handle", "o", "--source", str(sources))
    assert run_backup("inventory", "list").code == 2, "two profiles: ambiguous without -p"
    assert run_backup("inventory", "list", "-p", profile).code == 0
    assert run_backup("inventory", "list", "--profile", profile).code == 0
    assert run_backup("inventory", "list", env={"KEEPMARK_PROFILE": profile}).code == 0


def test_a_command_line_builds_only_its_command_and_reads_the_same() -> None:
    """`backup NAME ...` builds the parser of NAME alone; its help, usage and defaults are those
    of the whole command line's, and an unknown name still lists every command."""

    def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return dict(sub.choices)

    whole = commands(build_parser())
    for name, parser in whole.items():
        alone = commands(build_parser(name))
        assert list(alone) == [name]
        assert alone[name].format_help() == parser.format_help()
        assert alone[name].get_default("handler") == parser.get_default("handler")
    assert list(commands(build_parser("no-such-command"))) == list(whole)
