"""Keepmark's errors and the exit codes they mean.

The library raises these and never prints or exits; the CLI edge turns one into a single line
on stderr and its exit code. The README's table of exit codes follows from ``EXIT_CODES``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from inventory.errors import EXIT_CANNOT_START as EXIT_CANNOT_START
from inventory.errors import EXIT_FAILED as EXIT_FAILED
from inventory.errors import EXIT_OK as EXIT_OK
from inventory.errors import KeepmarkError as KeepmarkError

DEBUG_ENV = "KEEPMARK_DEBUG"

EXIT_CODES = {
    EXIT_OK: "all done",
    EXIT_FAILED: (
        "finished, but some files or targets failed (each one is reported); or an internal "
        "error (one line names the log that holds its details)"
    ),
    EXIT_CANNOT_START: (
        "could not start: bad arguments, a bad or missing profile, an unusable state directory"
    ),
}


class UsageError(KeepmarkError):
    """The command was asked for something it cannot do as given."""


class ProfileNotFound(KeepmarkError):
    """No profile matches ``--profile``, or none was given and it is ambiguous."""


class Problem(NamedTuple):
    """One thing wrong with a profile: where (the key), what, and how to fix it."""

    key: str
    message: str
    fix: str = ""

    def line(self, file: str) -> str:
        text = f"{file}: {self.key}: {self.message}"
        return f"{text}; {self.fix}" if self.fix else text

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "message": self.message, "fix": self.fix}


class ProfileError(KeepmarkError):
    """A profile that cannot be used. Carries every problem found, each naming its key."""

    def __init__(self, file: str, problems: Sequence[Problem]) -> None:
        self.file = file
        self.problems = list(problems)
        first = self.problems[0].line(file) if self.problems else f"{file}: invalid profile"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class StateError(KeepmarkError):
    """The profile's state (its inventory database) cannot be opened."""


class NothingFound(KeepmarkError):
    """A lookup finished and found nothing."""

    exit_code = EXIT_FAILED


class TargetFailed(KeepmarkError):
    """A backup target could not be used for a command that needs that one target."""

    exit_code = EXIT_FAILED
