"""Signed ledger checkpoints and RFC 3161 timestamps: a real Ed25519 key in the state folder, a
real timestamp authority on 127.0.0.1 (openssl ts), one that goes offline and comes back, and
forged or rewritten records that `backup ledger verify` must catch."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import tomli_w

from inventory import Inventory
from inventory.ledger.chain import GENESIS, canonical_json, entry_hash
from inventory.ledger.checkpoint import CheckpointError, load_public, parse
from tests.conftest import run_backup
from tests.kit.tsa import LocalTSA


def proof_dir(home: Path, name: str = "lily") -> Path:
    return home / "state" / name / "proof"


def checkpoints(home: Path) -> list[Path]:
    return sorted((proof_dir(home) / "checkpoints").glob("checkpoint-*.json"))


def add_proof(home: Path, name: str, **keys: str) -> None:
    """Give the profile written by `backup init` a [proof] section of exactly these keys (in
    place of the one init may have written)."""
    import tomllib

    path = home / "profiles" / f"{name}.toml"
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    doc["proof"] = dict(keys)
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")


def scan(profile: str) -> None:
    r = run_backup("inventory", "scan", "-p", profile)
    assert r.code == 0, r


@pytest.fixture
def scanned(home: Path, sources: Path, profile: str) -> str:
    for i in range(3):
        (sources / f"caption-{i}.txt").write_text(f"caption {i}")
    scan(profile)
    return profile


def test_first_scan_creates_an_owner_only_key_and_a_signed_checkpoint(home: Path, scanned: str) -> None:
    folder = proof_dir(home)
    key = folder / "ledger-key.pem"
    assert key.is_file() and (folder / "ledger-key.pub.pem").is_file()
    if os.name != "nt":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    [path] = checkpoints(home)
    assert path.name == "checkpoint-00000003.json"
    cp = parse(json.loads(path.read_bytes()))
    assert path.read_bytes() == cp.file_bytes()  # the file is canonical: what a timestamp covers
    with Inventory.open(home / "state" / scanned / "inventory.sqlite", create=False) as inv:
        assert (cp.entries, cp.head) == inv.ledger_head()
    cp.verify(load_public((folder / "ledger-key.pub.pem").read_bytes()))

    # Same head: `ledger checkpoint` signs nothing new; the key is the same one.
    before = key.read_bytes()
    r = run_backup("ledger", "checkpoint", "-p", scanned, "--json")
    assert r.code == 0, r
    assert r.json()["new"] is False and r.json()["checkpoint"]["entries"] == 3
    assert key.read_bytes() == before and len(checkpoints(home)) == 1


def test_ledger_checkpoint_signs_new_entries_and_verify_reports_them(
    home: Path, sources: Path, scanned: str
) -> None:
    (sources / "new.txt").write_text("new")
    assert run_backup("inventory", "scan", "-p", scanned, "--json").code == 0
    assert [p.name for p in checkpoints(home)][-1] == "checkpoint-00000004.json"
    r = run_backup("ledger", "verify", "-p", scanned, "--json")
    assert r.code == 0, r
    doc = r.json()
    assert doc["ok"] and [c["entries"] for c in doc["checkpoints"]] == [3, 4]
    assert all(c["ok"] and c["timestamp"] is None for c in doc["checkpoints"])
    text = run_backup("ledger", "verify", "-p", scanned)
    assert "2 signed checkpoint(s) hold" in text.out


def test_empty_ledger_has_nothing_to_sign(home: Path, profile: str) -> None:
    scan(profile)  # no files at all
    r = run_backup("ledger", "checkpoint", "-p", profile)
    assert r.code == 1 and "nothing to sign" in r.err


def test_a_forged_checkpoint_fails_verify(home: Path, scanned: str) -> None:
    [path] = checkpoints(home)
    doc = json.loads(path.read_bytes())
    doc["time"] = "2020-01-01T00:00:00.000000Z"  # backdated: the signature no longer matches
    path.write_text(canonical_json(doc) + "\n")
    r = run_backup("ledger", "verify", "-p", scanned)
    assert r.code == 1
    assert "checkpoint 3: the signature does not match its content" in r.err


def rewrite_chain(db: Path, start: int) -> None:
    """Recompute every hash from ``start`` on, as a forger who knows the chain rule would."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT seq, time, type, data FROM ledger ORDER BY seq").fetchall()
    prev = GENESIS
    for seq, time, type_, data in rows:
        digest = entry_hash(prev, seq, time, type_, json.loads(data))
        if seq >= start:
            conn.execute("UPDATE ledger SET prev = ?, hash = ? WHERE seq = ?", (prev, digest, seq))
        prev = digest
    conn.commit()
    conn.close()


def test_a_rewritten_chain_verifies_alone_but_not_against_the_checkpoint(home: Path, scanned: str) -> None:
    db = home / "state" / scanned / "inventory.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE ledger SET time = '2020-01-01T00:00:00.000000Z' WHERE seq = 2")
    conn.commit()
    conn.close()
    rewrite_chain(db, 2)
    r = run_backup("ledger", "verify", "-p", scanned, "--json")
    assert r.code == 1
    doc = r.json()
    assert doc["entries"] == 3 and doc["bad_entry"] is None  # the chain itself holds...
    assert any(
        "checkpoint 3" in p and "rewritten" in p for p in doc["problems"]
    )  # ...the checkpoint does not
    # And no new checkpoint is signed over the forged history.
    r = run_backup("ledger", "checkpoint", "-p", scanned)
    assert r.code == 2 and "not signing" in r.err


def test_cutting_the_last_entries_with_their_records_is_caught(home: Path, scanned: str) -> None:
    db = home / "state" / scanned / "inventory.sqlite"
    conn = sqlite3.connect(db)
    sha = conn.execute("SELECT json_extract(data, '$.sha256') FROM ledger WHERE seq = 3").fetchone()[0]
    for statement in (
        "DELETE FROM ledger WHERE seq = 3",
        "DELETE FROM sightings WHERE sha256 = ?",
        "DELETE FROM paths WHERE sha256 = ?",
        "DELETE FROM content WHERE sha256 = ?",
    ):
        conn.execute(statement, () if "ledger" in statement else (sha,))
    conn.commit()
    conn.close()
    r = run_backup("ledger", "verify", "-p", scanned)
    assert r.code == 1
    assert "checkpoint 3" in r.err and "has only 2: entries were removed" in r.err


# -- timestamps -------------------------------------------------------------------------------


def test_checkpoints_are_timestamped_and_the_token_verifies_offline(
    home: Path, sources: Path, profile: str, tsa: LocalTSA
) -> None:
    add_proof(home, profile, tsa_url=tsa.url, tsa_certificate=str(tsa.ca_pem))
    (sources / "a.txt").write_text("a")
    scan(profile)
    [path] = checkpoints(home)
    token, authority = path.with_suffix(".tsr"), path.with_suffix(".tsa.pem")
    assert token.is_file() and authority.read_bytes() == tsa.ca_pem.read_bytes()
    assert not path.with_suffix(".tsq").exists()
    r = run_backup("ledger", "verify", "-p", profile, "--json")
    assert r.code == 0, r
    stamp = r.json()["checkpoints"][0]["timestamp"]
    assert stamp["authority"] == "CN=Keepmark Test TSA" and stamp["time"].endswith("Z")
    # The text gives the token's time in this computer's local time (UTC+8 here).
    text = run_backup("ledger", "verify", "-p", profile, env={"TZ": "XST-8"})
    moment = datetime.fromisoformat(stamp["time"].replace("Z", "+00:00")) + timedelta(hours=8)
    assert f"at {moment:%Y-%m-%d %H:%M:%S} +08:00)" in text.out, text.out
    # The token is an ordinary RFC 3161 reply: OpenSSL verifies it with the stored files alone.
    if shutil.which("openssl"):
        ok = subprocess.run(
            ["openssl", "ts", "-verify", "-data", str(path), "-in", str(token), "-CAfile", str(authority)],
            capture_output=True,
            text=True,
        )
        assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stderr


def test_offline_authority_requests_wait_and_are_sent_when_it_comes_back(
    home: Path, sources: Path, profile: str, tsa: LocalTSA
) -> None:
    add_proof(home, profile, tsa_url=tsa.url, tsa_certificate=str(tsa.ca_pem))
    tsa.online = False
    (sources / "a.txt").write_text("a")
    scan(profile)  # the scan records and signs; the timestamp request waits
    [path] = checkpoints(home)
    assert path.with_suffix(".tsq").is_file() and not path.with_suffix(".tsr").exists()
    r = run_backup("ledger", "checkpoint", "-p", profile)
    assert r.code == 1 and "waiting" in r.err and "503" in r.err
    v = run_backup("ledger", "verify", "-p", profile, "--json")
    assert v.code == 0 and v.json()["checkpoints"][0]["timestamp"] == "pending"

    (sources / "b.txt").write_text("b")
    scan(profile)  # still offline: two requests wait, oldest first
    assert len([p for p in checkpoints(home) if p.with_suffix(".tsq").exists()]) == 2

    tsa.online = True
    r = run_backup("ledger", "checkpoint", "-p", profile, "--json")
    assert r.code == 0, r
    assert r.json()["timestamps"]["sent"] == [1, 2]
    for p in checkpoints(home):
        assert p.with_suffix(".tsr").is_file() and not p.with_suffix(".tsq").exists()
    v = run_backup("ledger", "verify", "-p", profile, "--json")
    assert v.code == 0 and all(isinstance(c["timestamp"], dict) for c in v.json()["checkpoints"])


def test_a_damaged_token_or_a_foreign_authority_fails_verify(
    home: Path, sources: Path, profile: str, tsa: LocalTSA, tmp_path: Path
) -> None:
    from tests.kit.tsa import make_authority

    add_proof(home, profile, tsa_url=tsa.url, tsa_certificate=str(tsa.ca_pem))
    (sources / "a.txt").write_text("a")
    scan(profile)
    [path] = checkpoints(home)
    token = path.with_suffix(".tsr")
    good = token.read_bytes()
    damaged = bytearray(good)
    damaged[-10] ^= 0xFF  # inside the signature
    token.write_bytes(bytes(damaged))
    r = run_backup("ledger", "verify", "-p", profile)
    assert r.code == 1 and "checkpoint 1: timestamp checkpoint-00000001.tsr" in r.err

    token.write_bytes(good)
    other, _, _ = make_authority(tmp_path / "other", cn="Someone Else")
    path.with_suffix(".tsa.pem").write_bytes(other.read_bytes())
    r = run_backup("ledger", "verify", "-p", profile)
    assert r.code == 1 and "does not verify" in r.err


def test_token_library_checks_the_imprint_and_the_nonce(tsa: LocalTSA) -> None:
    from inventory.ledger import timestamp

    data = b'{"entries":1}\n'
    request = timestamp.build_request(data)
    reply = timestamp.send(tsa.url, request)
    nonce = timestamp.request_nonce(request)
    info = timestamp.verify(reply, data, tsa.ca_pem.read_bytes(), nonce=nonce)
    assert info.authority == "CN=Keepmark Test TSA"
    with pytest.raises(timestamp.TimestampError, match="Mismatch between messages"):
        timestamp.verify(reply, data + b" ", tsa.ca_pem.read_bytes())
    with pytest.raises(timestamp.TimestampError, match="Nonce"):
        timestamp.verify(reply, data, tsa.ca_pem.read_bytes(), nonce=(nonce or 0) + 1)
    tsa.online = False
    with pytest.raises(timestamp.Unreachable):
        timestamp.send(tsa.url, request)


def test_checkpoint_module_rejects_a_checkpoint_signed_by_another_key(home: Path, scanned: str) -> None:
    from inventory.ledger.checkpoint import new_key, sign

    [path] = checkpoints(home)
    mine = parse(json.loads(path.read_bytes()))
    forged = sign(new_key(), mine.profile, mine.entries, mine.head, mine.time)
    forged.verify()  # valid on its own...
    with pytest.raises(CheckpointError, match="not by this profile's key"):
        forged.verify(load_public((proof_dir(home) / "ledger-key.pub.pem").read_bytes()))


def test_a_checkpoint_signs_the_merkle_root_of_the_ledger(home: Path, scanned: str) -> None:
    """Version 2: the root over entries 1..entries is signed, and `ledger verify` recomputes it;
    a checkpoint whose root is not the ledger's fails even when its key signed it."""
    from inventory.ledger import merkle
    from inventory.ledger.checkpoint import load_private, sign

    [path] = checkpoints(home)
    cp = parse(json.loads(path.read_bytes()))
    with Inventory.open(home / "state" / scanned / "inventory.sqlite", create=False) as inv:
        hashes = [str(row[5]) for row in inv.ledger_rows()]
    assert cp.version == 2 and cp.root == merkle.root(hashes[: cp.entries])
    assert run_backup("ledger", "verify", "-p", scanned).code == 0
    key = load_private((proof_dir(home) / "ledger-key.pem").read_bytes())
    wrong = sign(key, cp.profile, cp.entries, cp.head, cp.time, root=merkle.root(hashes[: cp.entries - 1]))
    path.write_bytes(wrong.file_bytes())
    r = run_backup("ledger", "verify", "-p", scanned)
    assert r.code == 1 and f"checkpoint {cp.entries}: its Merkle root" in r.err, r


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"tsa_url": "ftp://tsa.example"}, "proof.tsa_url: 'ftp://tsa.example' is not an http(s) URL"),
        ({"tsa_url": "https://tsa.example/tsr"}, "proof.tsa_url: needs tsa_certificate"),
        ({"contact_email": "lily at example"}, "proof.contact_email: 'lily at example' is not an email"),
        ({"tsa_urll": "https://x"}, "proof.tsa_urll"),
    ],
)
def test_proof_section_is_validated(home: Path, profile: str, keys: dict[str, str], message: str) -> None:
    add_proof(home, profile, **keys)
    r = run_backup("profile", "check", "-p", profile)
    assert r.code == 2 and message in r.err, r


def test_a_missing_authority_certificate_is_reported_by_profile_check(home: Path, profile: str) -> None:
    add_proof(home, profile, tsa_url="https://tsa.example/tsr", tsa_certificate="nowhere/ca.pem")
    r = run_backup("profile", "check", "-p", profile)
    assert r.code == 2 and "proof.tsa_certificate" in r.err and "does not exist" in r.err


def test_a_lost_key_is_replaced_and_earlier_checkpoints_still_verify(
    home: Path, sources: Path, scanned: str
) -> None:
    folder = proof_dir(home)
    old_id = parse(json.loads(checkpoints(home)[0].read_bytes())).key_id
    (folder / "ledger-key.pem").unlink()
    (sources / "later.txt").write_text("later")
    scan(scanned)
    first, second = (parse(json.loads(p.read_bytes())) for p in checkpoints(home))
    assert first.key_id == old_id and second.key_id != old_id
    assert (folder / f"ledger-key.{old_id}.pub.pem").is_file()
    r = run_backup("ledger", "verify", "-p", scanned, "--json")
    assert r.code == 0 and [c["ok"] for c in r.json()["checkpoints"]] == [True, True], r
    # Without any public key, no checkpoint can be trusted.
    for p in folder.glob("ledger-key*.pub.pem"):
        p.unlink()
    r = run_backup("ledger", "verify", "-p", scanned)
    assert r.code == 1 and "public key is missing" in r.err


def test_an_authority_configured_later_timestamps_the_newest_checkpoint(
    home: Path, scanned: str, tsa: LocalTSA
) -> None:
    [path] = checkpoints(home)
    assert not path.with_suffix(".tsr").exists()
    add_proof(home, scanned, tsa_url=tsa.url, tsa_certificate=str(tsa.ca_pem))
    r = run_backup("ledger", "checkpoint", "-p", scanned, "--json")
    assert r.code == 0 and r.json()["new"] is False and r.json()["timestamps"]["sent"] == [3], r
    assert path.with_suffix(".tsr").is_file() and not path.with_suffix(".tsq").exists()


def test_a_scan_that_finds_nothing_new_signs_nothing(home: Path, sources: Path, scanned: str) -> None:
    """Backup runs note their snapshots in the ledger; the next scan, finding nothing new,
    leaves them for the next checkpoint instead of signing one per run."""
    from backup.app.workspace import open_inventory
    from backup.profile.load import load

    with open_inventory(load(scanned)) as inv:
        inv.note("snapshot", {"target": "drive", "snapshot": "x", "kind": "full", "files": 3, "bytes": 1})
    scan(scanned)
    assert len(checkpoints(home)) == 1
    (sources / "new.txt").write_text("new")
    scan(scanned)
    assert len(checkpoints(home)) == 2
    with open_inventory(load(scanned)) as inv:
        inv.note("snapshot", {"target": "drive", "snapshot": "y", "kind": "full", "files": 4, "bytes": 1})
    assert run_backup("ledger", "checkpoint", "-p", scanned).code == 0  # asked for: signed
    assert len(checkpoints(home)) == 3
    assert run_backup("ledger", "verify", "-p", scanned).code == 0


def test_every_target_gets_the_proof_files_as_they_are_now(home: Path, sources: Path, tmp_path: Path) -> None:
    """The key's public half and the checkpoints reach the target; a replaced key (same name,
    same size) and a new checkpoint reach it on the next incremental run."""
    drive = tmp_path / "drive"
    init = ["init", "lily", "--account", "Lily", "--handle", "lily", "--source", str(sources)]
    assert run_backup(*init, "--target", str(drive)).code == 0
    (sources / "a.txt").write_text("first")
    assert run_backup("incremental", "-p", "lily").code == 0
    folder = proof_dir(home)
    [copied] = [p for p in drive.rglob("ledger-key.pub.pem")]
    assert copied.read_bytes() == (folder / "ledger-key.pub.pem").read_bytes()
    old_public = copied.read_bytes()

    (folder / "ledger-key.pem").unlink()  # lost: the next checkpoint makes a new key
    (sources / "b.txt").write_text("second")
    assert run_backup("incremental", "-p", "lily").code == 0
    assert run_backup("incremental", "-p", "lily").code == 0  # and a run with nothing new
    now_public = (folder / "ledger-key.pub.pem").read_bytes()
    assert now_public != old_public and len(now_public) == len(old_public)
    assert copied.read_bytes() == now_public
    there = sorted(p.name for p in copied.parent.rglob("checkpoint-*.json"))
    assert there == [p.name for p in checkpoints(home)] and len(there) == 2


def test_signing_reads_the_newest_checkpoint_not_all_of_them(
    home: Path, sources: Path, scanned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon that has signed for a year keeps thousands of checkpoints: a scan reads the
    newest, and the requests waiting for a timestamp, not every file."""
    from backup.app.workspace import open_inventory, proof_store
    from backup.profile.load import load
    from backup.proof import store as store_mod

    for i in range(4):
        (sources / f"more-{i}.txt").write_text(f"more {i}")
        scan(scanned)
    assert len(checkpoints(home)) == 5
    read: list[str] = []
    real = store_mod._read

    def counting(path: Path) -> store_mod.Stored:
        read.append(path.name)
        return real(path)

    monkeypatch.setattr(store_mod, "_read", counting)
    proof = proof_store(load(scanned))
    with open_inventory(load(scanned)) as inv:
        assert proof.checkpoint(inv).new is False  # nothing new to sign
        assert read == [checkpoints(home)[-1].name]
        inv.note("publication", {"sha256": "0" * 64, "platform": "x", "url": "https://example.com/p"})
        assert proof.checkpoint(inv).new is True
    assert len(read) == 2 and len(checkpoints(home)) == 6
    assert run_backup("ledger", "verify", "-p", scanned).code == 0


# -- replies as real authorities send them ----------------------------------------------------


def _der_certificates(reply: bytes) -> list[bytes]:
    """The DER certificates of a reply, in the order the reply carries them."""
    from tests.kit.tsa import _children, _tlv

    _, s, e = _tlv(reply, 0)
    token = _children(reply, s, e)[1]
    _, cs, ce = _tlv(reply, _children(reply, token[2], token[3])[1][2])
    certs = next(c for c in _children(reply, cs, ce) if c[0] == 0xA0)
    return [reply[off:end] for _, off, _, end in _children(reply, certs[2], certs[3])]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_a_chained_reply_verifies_whatever_the_order_of_its_certificates(tmp_path: Path) -> None:
    """Root -> intermediate -> signer: the profile keeps only the root, so the intermediate must
    be found among the reply's certificates, which come in whatever order the authority likes
    (openssl itself sends them unsorted, which strict DER readers refuse)."""
    from inventory.ledger import timestamp
    from tests.kit.tsa import make_authority

    tsa = LocalTSA(tmp_path / "tsa", chain=True, send_root=True)
    other, _, _ = make_authority(tmp_path / "other", cn="Someone Else")
    root = tsa.ca_pem.read_bytes()
    try:
        orders: list[str | list[int] | None] = [None, "reverse", "shuffle", [1, 2, 0], [2, 0, 1]]
        seen = set()
        for order in orders:
            tsa.order = order
            data = f"checkpoint {order}".encode()
            request = timestamp.build_request(data)
            reply = timestamp.send(tsa.url, request)
            certs = _der_certificates(reply)
            assert len(certs) == 3 and reply == tsa.replies[-1]
            seen.add(tuple(certs))
            info = timestamp.verify(reply, data, root, nonce=timestamp.request_nonce(request))
            assert (
                info.authority == "CN=Keepmark Test TSA" and info.digest == hashlib.sha256(data).hexdigest()
            )
            # what openssl accepts, as openssl reads it: the reply, and the token against the root
            path, data_file = tmp_path / "r.tsr", tmp_path / "data"
            path.write_bytes(reply)
            data_file.write_bytes(data)
            shown = subprocess.run(
                ["openssl", "ts", "-reply", "-in", str(path), "-text"], capture_output=True
            )
            assert shown.returncode == 0 and b"Status: Granted." in shown.stdout, shown.stderr
            checked = subprocess.run(
                [
                    "openssl",
                    "ts",
                    "-verify",
                    "-in",
                    str(path),
                    "-data",
                    str(data_file),
                    "-CAfile",
                    str(tsa.ca_pem),
                ],
                capture_output=True,
            )
            assert checked.returncode == 0, checked.stderr
            # the chain is checked: another authority's root does not do
            with pytest.raises(timestamp.TimestampError, match="does not verify"):
                timestamp.verify(reply, data, other.read_bytes())
            # the certificates kept beside a token are the reply's own
            pem = timestamp.embedded_certificates_pem(reply)
            assert pem.count(b"BEGIN CERTIFICATE") == 3
        assert len(seen) >= 4  # the orders really differed
    finally:
        tsa.close()


def test_granted_with_modifications_is_a_granted_token(tsa: LocalTSA) -> None:
    from inventory.ledger import timestamp

    data = b"mods"
    reply = timestamp.send(tsa.url, timestamp.build_request(data))
    at = reply.index(b"\x02\x01\x00")  # PKIStatusInfo's status, the first INTEGER in the reply
    assert at < 10
    mods = reply[:at] + b"\x02\x01\x01" + reply[at + 3 :]
    assert timestamp.verify(mods, data, tsa.ca_pem.read_bytes()).authority == "CN=Keepmark Test TSA"
    refused = reply[:at] + b"\x02\x01\x02" + reply[at + 3 :]
    with pytest.raises(timestamp.TimestampError, match="refused"):
        timestamp.verify(refused, data, tsa.ca_pem.read_bytes())
    assert timestamp.readable(b"not DER at all") == b"not DER at all"
    with pytest.raises(timestamp.TimestampError, match="not a timestamp reply"):
        timestamp.verify(b"\x30\x03\x02\x01", data, tsa.ca_pem.read_bytes())


def test_checkpoints_keep_the_authoritys_reply_as_sent(
    home: Path, sources: Path, profile: str, chained_tsa: LocalTSA
) -> None:
    add_proof(home, profile, tsa_url=chained_tsa.url, tsa_certificate=str(chained_tsa.ca_pem))
    (sources / "a.txt").write_text("a")
    scan(profile)
    [path] = checkpoints(home)
    assert path.with_suffix(".tsr").read_bytes() == chained_tsa.replies[-1]  # reversed, unsorted
    r = run_backup("ledger", "verify", "-p", profile, "--json")
    assert r.code == 0 and r.json()["checkpoints"][0]["timestamp"]["authority"] == "CN=Keepmark Test TSA", r
