"""notice.txt is the creator's to fill in and sign: a template made from the sealed evidence,
outside the seal. Filling it in never breaks `backup prove --verify`, in a bundle written now or
in one written by an older Keepmark (which listed it among the sealed files); changing anything
sealed still does. Run as a user runs them, on a real photo, with a real timestamp authority."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import run_backup
from tests.test_prove import enrolled  # noqa: F401  (a fixture)

SIGNATURE = "Signed: Lily Chen, 2026-06-02"


def fill_in(notice: Path) -> None:
    """What the notice asks of the creator: every [fill in] field, and a signature."""
    text = notice.read_text(encoding="utf-8")
    assert text.count("[fill in]") >= 2, text
    values = iter(["Xiaohongshu", "+61 400 000 000", "Instagram, 2026-05-15", "x", "y", "z"])
    while "[fill in]" in text:
        text = text.replace("[fill in]", next(values), 1)
    text = text.replace("Signed: ______________________________", SIGNATURE)
    notice.write_text(text + "\n  Lily Chen (signed by hand)\n", encoding="utf-8")


def prove_out(bundle: Path, suspect: Path) -> None:
    r = run_backup("prove", str(suspect), "--out", str(bundle))
    assert r.code == 0, r


def test_filling_in_and_signing_the_notice_keeps_the_evidence_valid(
    enrolled: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "evidence"
    prove_out(bundle, enrolled["repost"])
    ev = json.loads((bundle / "evidence.json").read_text())
    assert "notice.txt" not in ev["files"] and ev["notice"]["sealed"] is False
    assert {"report.html", "proof/ledger-key.pub.pem"} <= set(ev["files"])

    fill_in(bundle / "notice.txt")
    assert (
        "[fill in]" not in (bundle / "notice.txt").read_text()
        and SIGNATURE in (bundle / "notice.txt").read_text()
    )
    r = run_backup("prove", "--verify", str(bundle))
    assert r.code == 0, r
    assert "Evidence holds" in r.out
    assert "notice.txt: the creator's to fill in and sign, not sealed (edited since" in r.out
    doc = run_backup("prove", "--verify", str(bundle), "--json").json()
    assert doc["ok"] is True and doc["problems"] == []
    assert doc["notice"] == {"file": "notice.txt", "sealed": False, "state": "edited"}

    # What is sealed stays sealed: the report, the evidence, the suspect's copy.
    for name, change in (
        ("report.html", lambda t: t.replace("Evidence of ownership", "Evidence of 0wnership", 1)),
        ("evidence.json", lambda t: t.replace(ev["original"]["first_seen"], "2020-01-01T00:00:00Z", 1)),
    ):
        copy = tmp_path / f"tampered-{name}"
        shutil.copytree(bundle, copy)
        text = (copy / name).read_text()
        assert change(text) != text
        (copy / name).write_text(change(text))
        r = run_backup("prove", "--verify", str(copy))
        assert r.code == 1 and "evidence does not hold" in r.err, (name, r)
        assert "notice.txt" not in r.err, r


def test_a_bundle_as_written_says_its_notice_is_unedited(
    enrolled: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "evidence"
    prove_out(bundle, enrolled["repost"])
    doc = run_backup("prove", "--verify", str(bundle), "--json").json()
    assert doc["ok"] and doc["notice"]["state"] == "as written"
    (bundle / "notice.txt").unlink()  # not part of the evidence: the creator may drop it too
    doc = run_backup("prove", "--verify", str(bundle), "--json").json()
    assert doc["ok"] and doc["notice"]["state"] == "missing"


def older_bundle(bundle: Path, home: Path, profile: str) -> None:
    """Make ``bundle`` what Keepmark wrote before the notice left the seal: notice.txt among the
    sealed ``files``, no ``notice`` key, signed by the profile's key."""
    from inventory.ledger.checkpoint import load_private, sign_document

    doc = json.loads((bundle / "evidence.json").read_text())
    written = doc.pop("notice")["sha256"]
    doc.pop("signature")
    doc["files"] = dict(sorted({**doc["files"], "notice.txt": written}.items()))
    key = load_private((home / "state" / profile / "proof" / "ledger-key.pem").read_bytes())
    doc = sign_document(key, doc)
    (bundle / "evidence.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    # Nor had it the signed SHA256SUMS that bundles carry now for the openssl commands.
    for name in ("SHA256SUMS", "SHA256SUMS.sig"):
        (bundle / name).unlink(missing_ok=True)


def test_an_older_bundle_that_sealed_the_notice_verifies_once_it_is_filled_in(
    enrolled: dict[str, Any],  # noqa: F811
    home: Path,
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "evidence"
    prove_out(bundle, enrolled["repost"])
    older_bundle(bundle, home, enrolled["profile"])
    doc = run_backup("prove", "--verify", str(bundle), "--json").json()
    assert doc["ok"] is True and doc["notice"]["state"] == "as written", doc

    fill_in(bundle / "notice.txt")
    r = run_backup("prove", "--verify", str(bundle))
    assert r.code == 0, r
    assert "notice.txt: the creator's to fill in and sign, not sealed (edited since" in r.out
    doc = run_backup("prove", "--verify", str(bundle), "--json").json()
    assert doc["ok"] is True and doc["notice"] == {"file": "notice.txt", "sealed": False, "state": "edited"}

    html = bundle / "report.html"
    html.write_text(html.read_text().replace("Evidence of ownership", "Evidence of 0wnership", 1))
    r = run_backup("prove", "--verify", str(bundle))
    assert r.code == 1 and "report.html: SHA-256" in r.err, r


def test_prove_out_makes_missing_parent_folders(
    enrolled: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "cases" / "2026" / "xiaohongshu" / "evidence"
    r = run_backup("prove", str(enrolled["repost"]), "--out", str(bundle))
    assert r.code == 0, r
    assert (bundle / "evidence.json").is_file()
    assert run_backup("prove", "--verify", str(bundle)).code == 0
    # A file where a folder should be: one line naming it, exit 2, the file untouched.
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    r = run_backup("prove", str(enrolled["repost"]), "--out", str(blocker / "evidence"))
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and str(blocker) in r.err, r
    assert blocker.read_text() == "mine"
