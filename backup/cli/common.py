"""What every command shares: ``--profile``, ``--json``, printing, and turning errors into one
line and an exit code. Kept free of heavy imports: start-up time is part of every command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from backup.errors import EXIT_CODES
from backup.home import PROFILE_ENV


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=min(100, _columns()))


def _columns() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


EPILOG = "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors also reported as JSON when ``--json`` was asked for."""

    def error(self, message: str) -> Any:
        from backup.errors import EXIT_CANNOT_START

        self.print_usage(sys.stderr)
        line = f"{self.prog}: error: {message}"
        print(line, file=sys.stderr)
        if "--json" in sys.argv[1:]:
            emit_json({"ok": False, "error": line, "exit_code": EXIT_CANNOT_START})
        sys.exit(EXIT_CANNOT_START)


def add_profile(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-p",
        "--profile",
        metavar="NAME|PATH",
        default=os.environ.get(PROFILE_ENV) or None,
        help="profile name ($KEEPMARK_HOME/profiles/NAME.toml, then ./profiles/NAME.toml) or a .toml "
        "path; may be left out when there is only one profile (env: KEEPMARK_PROFILE)",
    )


def add_json(
    p: argparse.ArgumentParser, what: str = "print one JSON document on stdout and nothing else"
) -> None:
    p.add_argument("--json", action="store_true", help=what)


def command(sub: Any, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """A subcommand parser with Keepmark's help layout."""
    return sub.add_parser(  # type: ignore[no-any-return]
        name,
        help=summary,
        description=description,
        epilog=EPILOG,
        formatter_class=Formatter,
    )


def group(sub: Any, name: str, summary: str, description: str) -> Any:
    """A command with subcommands (``backup inventory ...``); returns where to add them."""
    parser = command(sub, name, summary, description)
    return parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser, required=True)


def leaf(
    sub: Any,
    name: str,
    summary: str,
    description: str,
    handler: Callable[[argparse.Namespace], int],
    *,
    json_help: str = "print one JSON document on stdout and nothing else",
) -> argparse.ArgumentParser:
    """A reporting command that runs ``handler``: with ``-p/--profile`` and ``--json``."""
    parser = command(sub, name, summary, description)
    add_profile(parser)
    add_json(parser, json_help)
    parser.set_defaults(handler=handler)
    return parser


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def out(line: str = "") -> None:
    print(line)


def warn(line: str) -> None:
    print(f"backup: {line}", file=sys.stderr)


def add_targets(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--target",
        metavar="NAME",
        action="append",
        default=[],
        help="this target only (repeatable; default: every target of the profile)",
    )


def add_snapshot(p: argparse.ArgumentParser) -> None:
    p.add_argument("--snapshot", metavar="ID", help="this snapshot (an id or its start), not the latest")
