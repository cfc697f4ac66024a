"""A bundle checks without Keepmark: the commands of its VERIFY.txt, parsed out of it and run
with bash exactly as written in the unzipped bundle, pass on a fresh bundle, and on a bundle with
one byte changed (the suspect's copy, a ledger entry, a checkpoint, a timestamp token, ...) the
commands that read that file fail and only those. Checkpoints signed before they carried a
Merkle root (version 1) and bundles of the version 1 format still verify."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from backup.proof.verifytext import commands
from tests.conftest import run_backup
from tests.test_prove import enrolled  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("openssl", "bash", "sha256sum", "xxd")),
    reason="needs openssl, bash, sha256sum and xxd",
)


def run_all(folder: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    text = (folder / "VERIFY.txt").read_text(encoding="utf-8")
    return {
        c: subprocess.run(["bash", "-c", c], cwd=folder, capture_output=True, text=True, timeout=60)
        for c in commands(text)
    }


def failed(results: dict[str, subprocess.CompletedProcess[str]]) -> set[str]:
    return {c for c, r in results.items() if r.returncode != 0}


def flip_byte(path: Path, at: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if at is None else at % len(data)
    data[i] = ord("0") if data[i] != ord("0") else ord("1")
    path.write_bytes(bytes(data))


def prove_zip(proved: dict[str, Any], tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A bundle written with --zip (and --lang zh), unzipped: its folder and evidence."""
    r = run_backup(
        "prove", str(proved["repost"]), "--out", str(tmp_path / "case"), "--zip", "--lang", "zh", "--json"
    )
    assert r.code == 0, r
    zipped = tmp_path / "case.zip"
    assert r.json()["bundle"] == str(zipped) and zipped.is_file() and not (tmp_path / "case").exists()
    assert run_backup("prove", "--verify", str(zipped)).code == 0  # the zip itself checks too
    with zipfile.ZipFile(zipped) as z:
        assert {n.split("/", 1)[0] for n in z.namelist()} == {"case"}
        z.extractall(tmp_path / "unzipped")
    folder = tmp_path / "unzipped" / "case"
    return folder, json.loads((folder / "evidence.json").read_text(encoding="utf-8"))


def test_verify_commands_pass_then_fail_where_a_byte_changed(
    enrolled: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    folder, ev = prove_zip(enrolled, tmp_path)
    text = (folder / "VERIFY.txt").read_text(encoding="utf-8")
    assert text.index("仅用 OpenSSL 核验") < text.index("checking it with OpenSSL alone")  # zh first
    fresh = run_all(folder)
    assert not failed(fresh), {c: r.stderr for c, r in fresh.items() if r.returncode}
    cmds = list(fresh)
    cps = [cp["file"] for cp in ev["checkpoints"]]
    stamp = ev["checkpoints"][0]["timestamp"]
    assert isinstance(stamp, dict)
    # What the issue asks for, each present: file hashes, Ed25519, RFC 3161, inclusion.
    assert "sha256sum -c SHA256SUMS" in cmds
    for cp in cps:
        signed = cp.replace(".json", ".signed")
        assert any(c.startswith("openssl pkeyutl -verify") and f"-rawin -in {signed}" in c for c in cmds)
    assert any(c.startswith(f"openssl ts -verify -data {cps[0]} -in {stamp['token_file']}") for c in cmds)
    inclusion = [c for c in cmds if " is in checkpoint " in c]
    assert len(inclusion) == len(ev["ledger"]["proofs"]) >= len(ev["ledger"]["entries"])
    assert "Verification: OK" in fresh[next(c for c in cmds if c.startswith("openssl ts"))].stdout

    entry = f"proof/entries/entry-{ev['ledger']['first']:08d}.txt"
    path_file = next(p.relative_to(folder).as_posix() for p in (folder / "proof" / "entries").glob("*.path"))
    cases = [
        ("suspect.jpg", None),
        (entry, None),
        (path_file, 5),  # the side letter's neighbour: a sibling hash
        (cps[0], None),
        (stamp["token_file"], -1),  # the last byte: the authority's signature
        (cps[-1].replace(".json", ".signed"), None),
        ("SHA256SUMS", 3),
    ]
    for name, at in cases:
        copy = tmp_path / "tampered"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(folder, copy)
        flip_byte(copy / name, at)
        bad = failed(run_all(copy))
        reads = {c for c in cmds if name in c}
        if name != "SHA256SUMS":
            reads.add("sha256sum -c SHA256SUMS")
        assert bad, name
        assert bad <= reads, (name, bad - reads)
        must = {c for c in reads if "SHA256SUMS" in c or c.startswith(("openssl ts", "openssl pkeyutl"))}
        if name in (entry, path_file):
            must |= {c for c in reads if " is in checkpoint " in c}
        assert must <= bad, (name, must - bad)
        # Keepmark's own check says no as well.
        assert run_backup("prove", "--verify", str(copy)).code == 1, name


def test_the_bundle_names_no_other_file(enrolled: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "evidence"
    assert run_backup("prove", str(enrolled["repost"]), "--out", str(out)).code == 0
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".txt", ".html", ".path", ".signed"):
            assert "other.jpg" not in path.read_text(encoding="utf-8"), path


def _to_version_1(home: Path, profile: str, checkpoint: Path) -> None:
    """Replace a version 2 checkpoint with the version 1 one the same key would have signed
    (no Merkle root), as a Keepmark before version 2 made it; its timestamp files go."""
    from inventory.ledger import checkpoint as cpmod

    doc = json.loads(checkpoint.read_text())
    key = cpmod.load_private((checkpoint.parent.parent / "ledger-key.pem").read_bytes())
    old = cpmod.sign(key, doc["profile"], doc["entries"], doc["head"], doc["time"])
    assert old.version == 1 and "root" not in old.as_dict()
    for suffix in (".tsr", ".tsa.pem", ".tsq"):
        checkpoint.with_suffix(suffix).unlink(missing_ok=True)
    checkpoint.write_bytes(old.file_bytes())


def test_a_version_1_checkpoint_still_proves_and_verifies(
    enrolled: dict[str, Any],  # noqa: F811
    home: Path,
    tmp_path: Path,
) -> None:
    proof = next(home.glob("state/*/proof"))
    kept = sorted((proof / "checkpoints").glob("checkpoint-*.json"))
    # The original's record is covered first by the checkpoint of the first scan: make it an
    # old one; the checkpoints after it stay version 2.
    _to_version_1(home, enrolled["profile"], kept[0])
    assert run_backup("ledger", "verify", "-p", enrolled["profile"]).code == 0
    out = tmp_path / "evidence"
    assert run_backup("prove", str(enrolled["repost"]), "--out", str(out)).code == 0
    ev = json.loads((out / "evidence.json").read_text())
    first, newest = ev["checkpoints"][0]["checkpoint"], ev["checkpoints"][-1]["checkpoint"]
    assert first["version"] == 1 and newest["version"] == 2
    # The chain up to the version 1 checkpoint is carried, as before; the rest by audit paths.
    assert [e["seq"] for e in ev["ledger"]["chain"]][-1] == first["entries"]
    assert {p["checkpoint"] for p in ev["ledger"]["proofs"]} == {newest["entries"]}
    r = run_backup("prove", "--verify", str(out))
    assert r.code == 0, r
    results = run_all(out)
    assert not failed(results), {c: r.stderr for c, r in results.items() if r.returncode}
    assert any(f"chain to checkpoint {first['entries']}: OK" in r.stdout for r in results.values())
    # A changed entry of the chain breaks the chain command.
    chain_file = next((out / "proof" / "chain").glob("entry-*.txt"))
    flip_byte(chain_file)
    bad = failed(run_all(out))
    assert any("proof/chain/" in c for c in bad) and "sha256sum -c SHA256SUMS" in bad


def test_a_version_1_bundle_still_verifies(
    enrolled: dict[str, Any],  # noqa: F811
    home: Path,
    tmp_path: Path,
) -> None:
    """A bundle in the format before version 2 (the chain of entries, version 1 checkpoints,
    no SHA256SUMS): rebuilt from a bundle whose checkpoints are version 1, signed as then."""
    from inventory.ledger import checkpoint as cpmod

    proof = next(home.glob("state/*/proof"))
    for checkpoint in sorted((proof / "checkpoints").glob("checkpoint-*.json")):
        _to_version_1(home, enrolled["profile"], checkpoint)
    out = tmp_path / "evidence"
    assert run_backup("prove", str(enrolled["repost"]), "--out", str(out)).code == 0
    ev = json.loads((out / "evidence.json").read_text())
    assert not ev["ledger"]["proofs"] and ev["ledger"]["chain"]
    old = {k: v for k, v in ev.items() if k != "signature"}
    old["version"] = 1
    old["ledger"] = {"first": ev["ledger"]["first"], "entries": ev["ledger"]["chain"]}
    for name in ("SHA256SUMS", "SHA256SUMS.sig", "VERIFY.txt"):
        (out / name).unlink()
    shutil.rmtree(out / "proof" / "entries", ignore_errors=True)
    shutil.rmtree(out / "proof" / "chain")
    old["files"] = {
        k: v
        for k, v in old["files"].items()
        if not k.startswith(("proof/entries/", "proof/chain/", "VERIFY"))
        and not k.endswith((".signed", ".sig"))
    }
    for item in old["checkpoints"]:
        item.pop("signed_file")
        item.pop("signature_file")
    key = cpmod.load_private((proof / "ledger-key.pem").read_bytes())
    signed = cpmod.sign_document(key, old)
    (out / "evidence.json").write_text(json.dumps(signed, indent=2, ensure_ascii=False) + "\n")
    r = run_backup("prove", "--verify", str(out), "--json")
    assert r.code == 0, r
    assert r.json()["ok"] is True
    # One changed entry of the old chain still fails it.
    signed["ledger"]["entries"][0]["data"]["size"] += 1
    (out / "evidence.json").write_text(json.dumps(signed, indent=2))
    assert run_backup("prove", "--verify", str(out)).code == 1
    assert base64.b64decode(signed["signature"]["value"])  # it was signed as a real old one was


def _rfc6962_root(leaves: list[str]) -> bytes:
    """MTH from RFC 6962 2.1, written out independently of inventory.ledger.merkle."""
    import hashlib

    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + bytes.fromhex(leaves[0])).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc6962_root(leaves[:k]) + _rfc6962_root(leaves[k:])).digest()


def test_merkle_tree_is_rfc_6962_and_audit_paths_bind_the_position() -> None:
    import hashlib

    from inventory.ledger import merkle

    for n in (1, 2, 3, 5, 8, 13, 33):
        hashes = [hashlib.sha256(f"entry {i}".encode()).hexdigest() for i in range(n)]
        want = _rfc6962_root(hashes).hex()
        tree = merkle.Tree(hashes)
        assert tree.root() == merkle.root(hashes) == want
        assert merkle.roots_at(hashes, [n, n + 1]) == {n: want}
        for seq in range(1, n + 1):
            path = tree.path(seq)
            assert merkle.root_from_path(hashes[seq - 1], seq, n, path) == want
            if path:  # the same path claimed at another position, or with a side swapped, fails
                swapped = [("R" if s == "L" else "L", h) for s, h in path[:1]] + path[1:]
                with pytest.raises(merkle.MerkleError, match="wrong side"):
                    merkle.root_from_path(hashes[seq - 1], seq, n, swapped)
                with pytest.raises(merkle.MerkleError):
                    merkle.root_from_path(hashes[seq - 1], seq, n, path[:-1])
    with pytest.raises(merkle.MerkleError):
        merkle.root([])
