"""The account self-check: answers kept with their dates for the profile, and each question due
again when never answered, a week after a no, or once a yes has aged past its period."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backup.app.account import QUESTIONS, account_check, answer
from backup.errors import UsageError
from backup.profile.load import load
from tests.backupkit import write_profile

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)


def test_answers_are_dated_kept_and_asked_again_when_due(home: Path, tmp_path: Path) -> None:
    write_profile(home, [tmp_path], [])
    profile = load("lily")
    fresh = account_check(profile, NOW)
    assert fresh.due == len(QUESTIONS) and all(q["answer"] is None for q in fresh.items)
    answer(profile, "two_factor", True, NOW)
    after = answer(profile, "password_manager", False, NOW)
    by_id = {q["id"]: q for q in after.as_dict()["questions"]}
    assert by_id["two_factor"] == {
        "id": "two_factor",
        "question": "Two-factor sign-in is on for this account",
        "answer": "yes",
        "answered": "2026-12-06T10:00:00+00:00",
        "ask_again": "2027-03-06T10:00:00+00:00",
        "due": False,
    }
    assert by_id["password_manager"]["answer"] == "no" and not by_id["password_manager"]["due"]
    assert after.due == len(QUESTIONS) - 2
    stored = json.loads((home / "state" / "lily" / "account-check.json").read_text(encoding="utf-8"))
    assert stored["answers"]["two_factor"] == {"answer": "yes", "answered": "2026-12-06T10:00:00+00:00"}
    week = {q["id"]: q["due"] for q in account_check(profile, NOW + timedelta(days=8)).items}
    assert week["password_manager"] and not week["two_factor"]  # a no is asked again after a week
    later = {q["id"]: q["due"] for q in account_check(profile, NOW + timedelta(days=91)).items}
    assert later["two_factor"]
    with pytest.raises(UsageError, match="question 'pin'"):
        answer(profile, "pin", True, NOW)
