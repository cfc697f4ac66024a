"""The ``backup`` command: parse, call one library function, print. Each command lives in its
own module (``*_cmd.py``) and imports what it needs only when it runs."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from backup import __version__
from backup.cli import (
    appeal_cmd,
    check_cmd,
    demo_cmd,
    init_cmd,
    inventory_cmd,
    ledger_cmd,
    profile_cmd,
    prove_cmd,
    prune_cmd,
    publish_cmd,
    recover_cmd,
    repair_cmd,
    restore_cmd,
    run_cmd,
    service_cmd,
    snapshots_cmd,
    stamp_cmd,
    status_cmd,
    ui_cmd,
    verify_cmd,
    watch_cmd,
)
from backup.cli.common import EPILOG, Formatter, Parser, emit_json, warn
from backup.errors import DEBUG_ENV, EXIT_CANNOT_START, EXIT_FAILED, KeepmarkError, ProfileError

DESCRIPTION = """\
Keepmark protects a creator's photos and videos: a hashed, tamper-evident inventory of every
original, watermarked copies for publishing, and backups on several targets.

start here:
  backup demo                    see the whole flow on built-in samples
  backup init NAME --account "Lily Chen" --handle lily --source ~/Pictures/Shoots
  backup inventory scan          record every file of your source folders
  backup stamp                   write watermarked copies for publishing
  backup full                    back everything up to every target, checked by SHA-256
  backup incremental             back up what is new or changed (the weekly job)
  backup verify --read-data      read the backups back and check every byte
  backup repair                  upload again what verify found damaged
  backup ledger verify           check that the record has not been altered
  backup watch                   the daemon: record, stamp and back up new files as they come
  backup check                   grade your content safety, with a fix for each finding

Every command takes -p/--profile NAME|PATH (not needed with a single profile); reporting
commands take --json. KEEPMARK_HOME replaces the folder where profiles and state live.
"""


class _Unbuilt:
    """Stands in for the parsers of the commands a command line does not name: it takes their
    arguments and keeps nothing (building 30 argparse parsers costs a quick command its start)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        return None


class _OnlyOne:
    """The top-level subparsers, building only the command ``name``."""

    def __init__(self, sub: Any, name: str) -> None:
        self.sub, self.name, self.built = sub, name, False

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if name != self.name:
            return _Unbuilt()
        self.built = True
        return self.sub.add_parser(name, **kwargs)


def build_parser(only: str | None = None) -> Parser:
    """The whole command line; with ``only``, just that command (when it is one) under the
    same program, for running it: its usage, help and errors read the same."""
    parser = Parser(prog="backup", description=DESCRIPTION, epilog=EPILOG, formatter_class=Formatter)
    parser.add_argument("-V", "--version", action="version", version=f"backup (Keepmark) {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    chosen = _OnlyOne(sub, only) if only is not None else sub
    for module in (
        demo_cmd,
        init_cmd,
        inventory_cmd,
        stamp_cmd,
        run_cmd,
        verify_cmd,
        repair_cmd,
        snapshots_cmd,
        restore_cmd,
        recover_cmd,
        prune_cmd,
        ledger_cmd,
        profile_cmd,
        # proof of ownership
        prove_cmd,
        publish_cmd,
        appeal_cmd,
        # the daemon and where you stand
        watch_cmd,
        service_cmd,
        status_cmd,
        check_cmd,
        ui_cmd,
    ):
        module.register(chosen)
    if isinstance(chosen, _OnlyOne) and not chosen.built:
        return build_parser()
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line; return its exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words[0] if words and not words[0].startswith("-") else None)
    args = parser.parse_args(words)
    handler = getattr(args, "handler", None)
    if handler is None:  # a bare `backup`
        parser.print_help()
        return 0
    as_json = bool(getattr(args, "json", False))
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        warn("interrupted")
        return 130
    except BrokenPipeError:
        return quiet_broken_pipe()
    except KeepmarkError as exc:
        return report_error(exc, as_json)
    except Exception as exc:
        return report_crash(exc, words, as_json)


def report_error(exc: KeepmarkError, as_json: bool) -> int:
    """One line per problem on stderr (and a JSON document with --json); the exit code the
    error carries."""
    code = exc.exit_code
    problems = exc.problems if isinstance(exc, ProfileError) else []
    for p in problems:
        warn(f"profile error: {p.line(exc.file)}")  # type: ignore[attr-defined]
    if not problems:
        warn(f"error: {exc}")
    candidates = [str(c) for c in getattr(exc, "candidates", ())]
    for c in candidates:  # what an ambiguous name could mean, one a line
        print(f"  {c}", file=sys.stderr)
    if as_json:
        doc: dict[str, Any] = {"ok": False, "error": str(exc), "exit_code": code}
        if candidates:
            doc["candidates"] = candidates
        if isinstance(exc, ProfileError):
            doc["file"] = exc.file
            doc["problems"] = [p.as_dict() for p in problems]
        emit_json(doc)
    return code


def report_crash(exc: BaseException, words: Sequence[str], as_json: bool) -> int:
    """Something Keepmark did not expect: the traceback goes to the error log (and to stderr
    with ``KEEPMARK_DEBUG=1``); stderr gets one line naming the log."""
    from backup.cli.crashlog import record

    where = record(exc, ["backup", *words])
    if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
        traceback.print_exception(exc, file=sys.stderr)
    line = f"internal error: {type(exc).__name__}: {exc}"
    hint = f"details in {where}" if where is not None else "run again with KEEPMARK_DEBUG=1 for details"
    warn(f"{line} ({hint})")
    if as_json:
        emit_json(
            {"ok": False, "error": line, "log": str(where) if where else None, "exit_code": EXIT_FAILED}
        )
    return EXIT_FAILED


def quiet_broken_pipe() -> int:
    """The reader of our output went away (``backup ... | head``): end quietly, as a Unix
    tool does, without a second error when Python flushes stdout on exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> NoReturn:
    try:
        code = run(argv)
        # What is still buffered is written here, where a reader that went away is met
        # quietly, not by Python's flush at exit ("Exception ignored ... BrokenPipeError").
        sys.stdout.flush()
    except BrokenPipeError:
        code = quiet_broken_pipe()
    sys.exit(code)


__all__ = ["EXIT_CANNOT_START", "build_parser", "main", "run"]
