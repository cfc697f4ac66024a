"""The account self-check: what Keepmark cannot measure about the creator's platform account, asked
of the creator. Each answer is dated and kept for the profile (``account-check.json`` in its state
folder); a question is due again when it was never answered, when the answer was no (a week
later), or when the answer has aged past the question's period. Shown apart from what Keepmark
measured (``backup check``): these are the creator's word."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from backup.errors import StateError, UsageError
from backup.home import state_dir
from backup.profile.model import Profile
from inventory.atomic import atomic_write_text

FILE = "account-check.json"
ASK_AGAIN_AFTER_NO = timedelta(days=7)


class Question(NamedTuple):
    id: str
    text: str  # English; the app shows its translation
    every: timedelta  # a yes is asked again after this long


QUESTIONS = (
    Question("two_factor", "Two-factor sign-in is on for this account", timedelta(days=90)),
    Question("password_manager", "Its password is kept in a password manager", timedelta(days=180)),
    Question("login_devices", "You reviewed the devices signed in to it", timedelta(days=30)),
    Question("password_changed", "Its password was changed within the last six months", timedelta(days=182)),
)
BY_ID = {q.id: q for q in QUESTIONS}


@dataclass
class AccountCheck:
    profile: str
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def due(self) -> int:
        return sum(1 for item in self.items if item["due"])

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "due": self.due, "questions": self.items}


def _path(profile: Profile) -> Any:
    return state_dir(profile.name) / FILE


def _answers(profile: Profile) -> dict[str, dict[str, str]]:
    path = _path(profile)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StateError(f"{path}: cannot be read ({exc}); answer the account questions again") from exc
    answers = doc.get("answers") if isinstance(doc, dict) else None
    return answers if isinstance(answers, dict) else {}


def account_check(profile: Profile, now: datetime | None = None) -> AccountCheck:
    """Each question with its last answer, when it was given, and whether it is due."""
    now = now or datetime.now(timezone.utc)
    answers = _answers(profile)
    report = AccountCheck(profile.name)
    for q in QUESTIONS:
        given = answers.get(q.id) or {}
        answer, answered = given.get("answer"), given.get("answered")
        when = datetime.fromisoformat(answered) if answered else None
        if when is None or answer not in ("yes", "no"):
            due, due_since = True, None
        else:
            again = when + (q.every if answer == "yes" else ASK_AGAIN_AFTER_NO)
            due, due_since = now >= again, again.isoformat(timespec="seconds")
        report.items.append(
            {
                "id": q.id,
                "question": q.text,
                "answer": answer if answer in ("yes", "no") else None,
                "answered": answered,
                "ask_again": due_since,
                "due": due,
            }
        )
    return report


def answer(profile: Profile, question: str, yes: bool, now: datetime | None = None) -> AccountCheck:
    """Record the creator's answer to ``question`` (dated now); the check as it stands after."""
    if question not in BY_ID:
        raise UsageError(f"question {question!r}: one of {', '.join(BY_ID)}")
    now = now or datetime.now(timezone.utc)
    answers = _answers(profile)
    answers[question] = {"answer": "yes" if yes else "no", "answered": now.isoformat(timespec="seconds")}
    path = _path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"answers": answers}, indent=2, sort_keys=True) + "\n")
    return account_check(profile, now)
