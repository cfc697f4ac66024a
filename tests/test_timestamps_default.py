"""Trusted timestamps by default: `backup init` chooses a public RFC 3161 authority after saying
what is sent (only a hash), `--tsa` another and `--no-tsa` none; checkpoints signed offline wait
and are sent by the next scan or the daemon's retry, never an error exit; `backup check` finds
no authority, requests waiting for more than a day, and a token that does not verify.

No test reaches the network: the plugin ``tests.kit.tsa`` sets ``KEEPMARK_TSA_AUTHORITIES`` to
nothing for the whole run, and the tests that need a default authority point it at the local one
(root -> intermediate -> signer, its replies' certificates in reverse order), which counts what
it answers. The built-in public list is read (its URLs and certificates written into profiles)
but nothing is ever sent to it: no test here scans a profile that names it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from backup.profile.load import toml_loads
from tests.conftest import run_backup
from tests.daemonkit import wait_for
from tests.kit.tsa import LocalTSA


def _init(name: str, sources: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    return run_backup(
        "init", name, "--account", "Lily Chen", "--handle", "lily", "--source", str(sources), *extra, env=env
    )


def _proof(home: Path, name: str = "lily") -> dict[str, Any]:
    doc = toml_loads((home / "profiles" / f"{name}.toml").read_text(encoding="utf-8"))
    proof: dict[str, Any] = doc.get("proof", {})
    return proof


def _checkpoints(home: Path, name: str = "lily") -> list[Path]:
    return sorted((home / "state" / name / "proof" / "checkpoints").glob("checkpoint-*.json"))


def _offer(tmp_path: Path, tsa: LocalTSA) -> dict[str, str]:
    """The environment that offers the local authority as the only (so the default) one."""
    listing = tmp_path / "authorities.json"
    listing.write_text(
        json.dumps([{"key": "local", "name": "Local TSA", "url": tsa.url, "certificate": str(tsa.ca_pem)}])
    )
    return {"KEEPMARK_TSA_AUTHORITIES": str(listing)}


def _findings(name: str = "lily", env: dict[str, str] | None = None) -> list[dict[str, str]]:
    r = run_backup("check", "-p", name, "--json", env=env)
    assert r.code in (0, 1), r
    return [f for f in r.json()["findings"] if f["check"] == "trusted timestamp"]


def test_init_chooses_the_first_public_authority_and_says_what_is_sent(
    home: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backup.proof.authorities import BUILT_IN

    monkeypatch.delenv("KEEPMARK_TSA_AUTHORITIES")  # the built-in list (never contacted here)
    r = _init("lily", sources)
    assert r.code == 0, r
    first = BUILT_IN[0]
    assert f"Trusted timestamps: {first.name} ({first.url}), chosen by default" in r.out
    assert "Only the SHA-256 hash of each signed checkpoint is sent" in r.out
    proof = _proof(home)
    assert proof["tsa_url"] == first.url
    cert = Path(proof["tsa_certificate"])
    assert cert.parent == home / "authorities" and cert.read_bytes() == first.certificates
    text = (home / "profiles" / "lily.toml").read_text(encoding="utf-8")
    assert "as a SHA-256 hash" in text  # the profile says it too
    assert run_backup("profile", "check", "-p", "lily").code == 0

    # --tsa by key, --json: the choice and what is sent, in the document.
    r = _init("other", sources, "--tsa", "freetsa", "--json")
    assert r.code == 0, r
    doc = r.json()["timestamps"]
    assert doc["key"] == "freetsa" and doc["url"] == "https://freetsa.org/tsr" and doc["default"] is False
    assert "hash" in doc["sent"] and _proof(home, "other")["tsa_url"] == "https://freetsa.org/tsr"

    # --no-tsa: none; `backup check` then names the key and the fix.
    r = _init("none", sources, "--no-tsa", "--json")
    assert r.code == 0 and r.json()["timestamps"] is None, r
    assert "tsa_url" not in _proof(home, "none")
    [f] = _findings("none")
    assert f["severity"] == "medium" and f["problem"].startswith("proof.tsa_url: no trusted timestamp")
    assert "[proof]" in f["fix"] and first.url in f["fix"]
    fixed_cert = f["fix"].split("tsa_certificate = '")[1].split("'")[0]
    assert Path(fixed_cert).read_bytes() == first.certificates  # the fix names a real file


def test_bad_timestamp_choices_are_refused_before_anything_is_written(
    home: Path, sources: Path, tmp_path: Path
) -> None:
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    for extra, message in (
        (
            ("--tsa", "http://tsa.example/tsr"),
            "--tsa http://tsa.example/tsr: give the authority's CA certificate",
        ),
        (("--tsa", "nosuch"), "--tsa nosuch: not an http(s) address nor an offered authority"),
        (("--tsa", "https://t.example", "--tsa-certificate", str(not_pem)), f"--tsa-certificate {not_pem}"),
        (("--tsa", "https://t.example", "--tsa-certificate", str(tmp_path / "no")), "No such file"),
        (("--tsa", "https://t.example", "--no-tsa"), "--no-tsa with --tsa"),
        (("--tsa-certificate", str(not_pem)), "--tsa-certificate needs --tsa URL"),
    ):
        r = _init("lily", sources, *extra)
        assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1, (extra, r)
        assert not (home / "profiles" / "lily.toml").exists()


def test_any_authority_by_address_with_its_certificate(
    home: Path, sources: Path, tmp_path: Path, chained_tsa: LocalTSA
) -> None:
    r = _init("lily", sources, "--tsa", chained_tsa.url, "--tsa-certificate", str(chained_tsa.ca_pem))
    assert r.code == 0, r
    proof = _proof(home)
    assert proof["tsa_url"] == chained_tsa.url
    assert Path(proof["tsa_certificate"]).read_bytes() == chained_tsa.ca_pem.read_bytes()
    (sources / "a.txt").write_text("a")
    assert run_backup("inventory", "scan", "-p", "lily").code == 0
    [cp] = _checkpoints(home)
    assert cp.with_suffix(".tsr").is_file() and chained_tsa.answered == 1


def test_default_authority_offline_waits_then_is_sent_and_check_follows(
    home: Path, sources: Path, tmp_path: Path, chained_tsa: LocalTSA
) -> None:
    env = _offer(tmp_path, chained_tsa)
    r = _init("lily", sources, env=env)
    assert r.code == 0 and "Local TSA" in r.out, r
    assert _proof(home)["tsa_url"] == chained_tsa.url

    # Offline: the scan signs, the request waits, and the scan exits 0.
    chained_tsa.online = False
    (sources / "a.txt").write_text("a")
    r = run_backup("inventory", "scan", "-p", "lily")
    assert r.code == 0, r
    [cp] = _checkpoints(home)
    assert cp.with_suffix(".tsq").is_file() and not cp.with_suffix(".tsr").exists()
    assert _findings() == []  # waiting less than a day is no finding
    later = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    [f] = _findings(env={"KEEPMARK_CLOCK": later})
    assert f["problem"].startswith("proof.tsa_url: 1 checkpoint(s) have waited more than 1 day")
    assert "connect to the internet" in f["fix"]

    # Back online: the next scan (finding nothing new) sends it.
    chained_tsa.online = True
    r = run_backup("inventory", "scan", "-p", "lily")
    assert r.code == 0, r
    assert cp.with_suffix(".tsr").is_file() and not cp.with_suffix(".tsq").exists()
    assert chained_tsa.answered == 1
    assert _findings(env={"KEEPMARK_CLOCK": later}) == []
    v = run_backup("ledger", "verify", "-p", "lily", "--json")
    assert v.code == 0 and v.json()["checkpoints"][0]["timestamp"]["authority"] == "CN=Keepmark Test TSA", v
    if shutil.which("openssl"):  # the kept root and the reply's own certificates are enough
        token, kept = cp.with_suffix(".tsr"), cp.with_suffix(".tsa.pem")
        ok = subprocess.run(
            ["openssl", "ts", "-verify", "-data", str(cp), "-in", str(token), "-CAfile", str(kept)],
            capture_output=True,
            text=True,
        )
        assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stderr

    # A token that no longer verifies is a finding, named by key.
    token = cp.with_suffix(".tsr")
    damaged = bytearray(token.read_bytes())
    damaged[-10] ^= 0xFF
    token.write_bytes(bytes(damaged))
    [f] = _findings()
    assert f["problem"].startswith("proof.tsa_certificate: the newest trusted timestamp does not verify")


def test_the_daemon_sends_waiting_timestamps_when_the_authority_is_back(
    home: Path, sources: Path, tmp_path: Path, chained_tsa: LocalTSA
) -> None:
    from backup.app.profiles import load
    from backup.app.timestamps import send_timestamps
    from backup.app.watch import ProfileJobs, settings_for
    from backup.daemon.daemon import Daemon

    assert _init("lily", sources, env=_offer(tmp_path, chained_tsa)).code == 0
    chained_tsa.online = False
    (sources / "a.txt").write_text("a")
    assert run_backup("inventory", "scan", "-p", "lily").code == 0
    [cp] = _checkpoints(home)
    assert cp.with_suffix(".tsq").is_file()

    profile = load("lily")

    class Jobs(ProfileJobs):
        def send_timestamps(self) -> tuple[list[int], list[int], list[str]]:
            report = send_timestamps(self.profile)
            return report.sent, report.pending, report.errors

    daemon = Daemon(settings_for(profile), Jobs(profile), timestamp_retry=0.2)
    thread = threading.Thread(target=daemon.run, name="test-daemon")
    thread.start()
    try:
        wait_for(daemon._reconciled.is_set, 60, "the reconciliation")
        wait_for(lambda: daemon._state == "idle", 60, "the daemon to be idle")  # every pass done
        assert not cp.with_suffix(".tsr").exists()  # still offline: it waits, the daemon runs on
        chained_tsa.online = True  # nothing changes in the sources: only the retry can send it
        wait_for(lambda: cp.with_suffix(".tsr").exists(), 30, "the timestamp")
        wait_for(lambda: daemon.timestamps_sent == 1, 10, "the count")
    finally:
        daemon.stop()
        thread.join(30)
    assert not thread.is_alive() and daemon.error is None
    assert not cp.with_suffix(".tsq").exists()


def _recorded_without_an_authority(
    home: Path, sources: Path, tmp_path: Path, tsa: LocalTSA, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Profile lily made with --no-tsa while the local authority is offered (to this process
    too), one file recorded: its checkpoint, signed without a timestamp."""
    env = _offer(tmp_path, tsa)
    monkeypatch.setenv("KEEPMARK_TSA_AUTHORITIES", env["KEEPMARK_TSA_AUTHORITIES"])
    assert _init("lily", sources, "--no-tsa").code == 0
    (sources / "a.txt").write_text("a")
    assert run_backup("inventory", "scan", "-p", "lily").code == 0
    [cp] = _checkpoints(home)
    return cp


def test_a_profile_without_an_authority_is_given_one_later(
    home: Path, sources: Path, tmp_path: Path, tsa: LocalTSA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``use_authority`` (the app's "Use this authority"): the profile's [proof] gets the two keys
    in place (its comments kept), the newest checkpoint is timestamped at once and the finding
    goes; a key not offered changes nothing; an authority out of reach leaves the request waiting."""
    from backup.app.profiles import load
    from backup.app.timestamps import use_authority
    from backup.errors import UsageError

    cp = _recorded_without_an_authority(home, sources, tmp_path, tsa, monkeypatch)
    assert not cp.with_suffix(".tsr").exists() and _findings()
    file = home / "profiles" / "lily.toml"
    before = file.read_text(encoding="utf-8")
    with pytest.raises(UsageError, match=r"^tsa: 'nosuch' is not one of the authorities offered \(local\)$"):
        use_authority(load("lily"), "nosuch")
    assert file.read_text(encoding="utf-8") == before

    used = use_authority(load("lily"), "local")
    assert (len(used.sent), used.waiting, used.error) == (1, 0, None)
    proof = _proof(home)
    assert proof["tsa_url"] == tsa.url
    assert Path(proof["tsa_certificate"]).read_bytes() == tsa.ca_pem.read_bytes()
    after = file.read_text(encoding="utf-8")
    assert [line for line in before.splitlines() if line.startswith("#")] == [
        line for line in after.splitlines() if line.startswith("#")
    ]  # the creator's file as it was, the two keys added
    assert cp.with_suffix(".tsr").is_file() and tsa.answered == 1
    assert _findings() == []

    # another profile, nothing recorded yet: set, nothing to send
    assert _init("mei", sources, "--no-tsa").code == 0
    used = use_authority(load("mei"), "local")
    assert (used.sent, used.waiting, used.error) == ([], 0, None) and _proof(home, "mei")[
        "tsa_url"
    ] == tsa.url
    # a third, the authority out of reach: set all the same, the request waits for the daemon
    assert _init("ana", sources, "--no-tsa").code == 0
    assert run_backup("inventory", "scan", "-p", "ana").code == 0
    tsa.online = False
    used = use_authority(load("ana"), "local")
    assert used.sent == [] and used.waiting == 1 and used.error
    assert _proof(home, "ana")["tsa_url"] == tsa.url


@pytest.mark.slow
def test_the_dashboard_offers_an_authority_and_uses_it(
    home: Path, sources: Path, tmp_path: Path, tsa: LocalTSA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a real browser: a profile made without an authority has its "trusted timestamp"
    finding with the authorities offered; "Use this authority" sets it, timestamps the newest
    checkpoint, and the finding is gone. The API (bearer) refuses a key not offered."""
    from playwright.sync_api import expect

    from tests.browserkit import chromium, shot, ui_server

    cp = _recorded_without_an_authority(home, sources, tmp_path, tsa, monkeypatch)
    env = {"KEEPMARK_TSA_AUTHORITIES": os.environ["KEEPMARK_TSA_AUTHORITIES"]}
    with chromium() as browser, ui_server(home, "lily", env=env) as ui:
        bad = ui.bearer("/api/timestamps", "POST", body=json.dumps({"tsa": "nosuch"}))
        assert bad.status == 400 and bad.json()["error"].startswith("tsa: 'nosuch' is not one of")
        offered = ui.bearer("/api/timestamps").json()
        assert offered["tsa_url"] is None and [a["key"] for a in offered["offered"]] == ["local"]
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(ui.url)
        finding = page.locator("li.finding", has=page.get_by_text("Trusted timestamp", exact=True))
        expect(finding).to_contain_text("no trusted timestamp")
        expect(finding.get_by_label("Timestamp authority")).to_have_value("local")
        shot(page, "dashboard-tsa")
        finding.get_by_role("button", name="Use this authority").click()
        expect(page.get_by_role("status")).to_have_text(
            "Trusted timestamps are set up: your newest checkpoint is timestamped."
        )
        expect(
            page.locator("li.finding", has=page.get_by_text("Trusted timestamp", exact=True))
        ).to_have_count(0)
        context.close()
        assert ui.bearer("/api/timestamps").json()["tsa_url"] == tsa.url
    assert cp.with_suffix(".tsr").is_file() and _proof(home)["tsa_url"] == tsa.url
