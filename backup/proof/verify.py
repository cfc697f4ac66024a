"""Re-check an evidence bundle offline: the files against their SHA-256, the suspect's copy,
the ledger chain, the original's record against the entries that recorded it, the checkpoint
signatures and the timestamp tokens. Needs nothing but the bundle."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.errors import UsageError
from backup.proof import evidence as evmod
from backup.proof import verifytext
from backup.proof.evidence import FORMAT, VERSIONS
from backup.proof.notice import FILE as NOTICE
from inventory.ledger import chain as ledger
from inventory.ledger import checkpoint as cpmod
from inventory.ledger import merkle
from inventory.ledger import timestamp as tsmod

EVIDENCE = "evidence.json"


@dataclass
class BundleReport:
    path: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    timestamps: list[dict[str, Any]] = field(default_factory=list)
    notice: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "problems": self.problems,
            "checked": self.checked,
            "timestamps": self.timestamps,
            "notice": self.notice,
        }

    def notice_line(self) -> str | None:
        """What the report says of notice.txt: the creator's to edit, not sealed."""
        if self.notice is None:
            return None
        state = {
            "as written": "as Keepmark wrote it",
            "edited": "edited since Keepmark wrote it",
            "missing": "not in the bundle",
        }[self.notice["state"]]
        return f"{self.notice['file']}: the creator's to fill in and sign, not sealed ({state})"


def load(path: Path) -> tuple[dict[str, Any], Path]:
    """The evidence document and the bundle folder, from the folder or its evidence.json."""
    file = path / EVIDENCE if path.is_dir() else path
    try:
        doc = json.loads(file.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"{path}: no evidence bundle here (no {EVIDENCE})") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{file}: not a readable evidence file ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UsageError(f"{file}: not a Keepmark evidence file")
    if doc.get("version") not in VERSIONS:
        raise UsageError(
            f"{file}: evidence version {doc.get('version')!r}; this Keepmark reads versions "
            f"{', '.join(map(str, VERSIONS))}"
        )
    return doc, file.parent


def _sha_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def verify_bundle(path: Path) -> BundleReport:
    """Check the bundle at ``path``: its folder, its evidence.json, or a zip of it."""
    if path.is_file() and path.suffix.lower() == ".zip":
        import tempfile

        with tempfile.TemporaryDirectory(prefix="keepmark-verify-") as tmp:
            report = verify_bundle(_unzip(path, Path(tmp)))
            report.path = str(path)
            return report
    doc, folder = load(path)
    report = BundleReport(str(path))
    bad = report.problems.append
    try:
        _files(doc, folder, report)
        if doc["version"] == 1:
            entries = _chain(doc["ledger"]["entries"], report)
        else:
            entries = _entries(doc, folder, report)
        _original(doc, entries, report)
        _checkpoints(doc, entries, report, folder)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        bad(f"evidence.json is malformed: {type(exc).__name__} {exc}")
    return report


def _unzip(path: Path, into: Path) -> Path:
    """Extract a bundle's zip (refusing names that would land outside ``into``); the folder
    holding its evidence.json."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                target = (into / name).resolve()
                if not target.is_relative_to(into.resolve()):
                    raise UsageError(f"{path}: holds {name!r}, outside the bundle; not extracted")
            z.extractall(into)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{path}: not a readable zip ({exc})") from exc
    found = sorted(into.rglob(EVIDENCE), key=lambda p: len(p.parts))
    if not found:
        raise UsageError(f"{path}: no evidence bundle in this zip (no {EVIDENCE})")
    return found[0].parent


def _notice(doc: dict[str, Any], folder: Path, report: BundleReport) -> None:
    """notice.txt is the creator's to edit: outside the seal (an older Keepmark listed it among
    the sealed files; there too an edited notice is reported, never a problem)."""
    meta = doc.get("notice")
    written = meta.get("sha256") if isinstance(meta, dict) else doc.get("files", {}).get(NOTICE)
    if written is None and not (folder / NOTICE).exists():
        return
    got = _sha_file(folder / NOTICE)
    state = "missing" if got is None else "as written" if got == written else "edited"
    report.notice = {"file": NOTICE, "sealed": False, "state": state}


def _files(doc: dict[str, Any], folder: Path, report: BundleReport) -> None:
    _notice(doc, folder, report)
    sealed = {k: v for k, v in doc.get("files", {}).items() if k != NOTICE}
    for name, expected in sorted(sealed.items()):
        got = _sha_file(folder / name)
        if got is None:
            report.problems.append(f"{name}: missing from the bundle")
        elif got != expected:
            report.problems.append(f"{name}: SHA-256 {got} does not match the evidence's {expected}")
    if sealed:
        report.checked.append(f"SHA-256 of {len(sealed)} sealed files in the bundle")
    if doc.get("version", 1) >= 2:
        _sums(doc, folder, report)
    suspect = doc["suspect"]
    got = _sha_file(folder / suspect["copy"])
    if got is None:
        report.problems.append(f"{suspect['copy']}: the suspect's copy is missing from the bundle")
    elif got != suspect["sha256"]:
        report.problems.append(
            f"suspect: SHA-256 of {suspect['copy']} is {got}, the evidence says {suspect['sha256']}"
        )
    else:
        report.checked.append(f"suspect's SHA-256 {got}")


def _sums(doc: dict[str, Any], folder: Path, report: BundleReport) -> None:
    """Version 2: SHA256SUMS, signed by the bundle's key, lists every file but the notice."""
    listing, sig = folder / verifytext.SUMS, folder / verifytext.SUMS_SIG
    if not listing.exists() and not sig.exists():
        return  # only the openssl commands need it; evidence.json's signature seals the files
    try:
        data, signature = listing.read_bytes(), sig.read_bytes()
    except OSError:
        report.problems.append(f"{verifytext.SUMS} or {verifytext.SUMS_SIG}: missing from the bundle")
        return
    try:
        key = cpmod.load_public(str(doc.get("public_key")).encode("ascii"))
        key.verify(signature, data)
    except Exception:  # InvalidSignature, a bad key: either way the list is not the signed one
        report.problems.append(f"{verifytext.SUMS}: its signature ({verifytext.SUMS_SIG}) does not match it")
        return
    count = 0
    for line in data.decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        got = _sha_file(folder / name)
        if got != digest:
            state = "missing" if got is None else f"SHA-256 {got}"
            report.problems.append(f"{name}: {state}, but {verifytext.SUMS} says {digest}")
        count += 1
    report.checked.append(f"{verifytext.SUMS}: signed, and {count} files match it")


def _entries(doc: dict[str, Any], folder: Path, report: BundleReport) -> dict[int, dict[str, Any]]:
    """Version 2: each carried entry's hash recomputed (and its text file's SHA-256 is that
    hash), and the chain of entries up to a version 1 checkpoint when there is one."""
    ledger_doc = doc["ledger"]
    found: dict[int, dict[str, Any]] = {}
    if ledger_doc.get("chain"):
        found = _chain(ledger_doc["chain"], report)
        if not found:
            return {}
    bad = 0
    for e in ledger_doc["entries"]:
        digest = ledger.entry_hash(e["prev"], e["seq"], e["time"], e["type"], e["data"])
        if digest != e["hash"]:
            report.problems.append(
                f"ledger: entry {e['seq']}: its content does not match its hash "
                f"(stored {str(e['hash'])[:12]}..., recomputed {digest[:12]}...)"
            )
            bad += 1
            continue
        name = evmod.entry_file(e["seq"])
        if _sha_file(folder / name) != digest:
            report.problems.append(f"{name}: not the text of ledger entry {e['seq']} (its SHA-256 differs)")
            bad += 1
            continue
        found[e["seq"]] = e
    if bad:
        return {}
    if not found:
        report.problems.append("ledger: no entries in the evidence")
        return {}
    n = len(ledger_doc["entries"])
    report.checked.append(
        f"{n} ledger {'entry' if n == 1 else 'entries'} of the original, each hash recomputed"
    )
    return found


def _chain(entries: list[dict[str, Any]], report: BundleReport) -> dict[int, dict[str, Any]]:
    if not entries:
        report.problems.append("ledger: no entries in the evidence")
        return {}
    prev = entries[0]["prev"]
    expected_seq = entries[0]["seq"]
    for e in entries:
        if e["seq"] != expected_seq:
            report.problems.append(f"ledger: entry {expected_seq} is missing (found {e['seq']})")
            return {}
        if e["prev"] != prev:
            report.problems.append(
                f"ledger: entry {e['seq']}: its link to entry {e['seq'] - 1} does not match"
            )
            return {}
        digest = ledger.entry_hash(prev, e["seq"], e["time"], e["type"], e["data"])
        if digest != e["hash"]:
            report.problems.append(
                f"ledger: entry {e['seq']}: its content does not match its hash "
                f"(stored {str(e['hash'])[:12]}..., recomputed {digest[:12]}...)"
            )
            return {}
        prev, expected_seq = digest, expected_seq + 1
    report.checked.append(f"ledger chain of entries {entries[0]['seq']}-{entries[-1]['seq']}")
    return {e["seq"]: e for e in entries}


def _original(doc: dict[str, Any], entries: dict[int, dict[str, Any]], report: BundleReport) -> None:
    if not entries:
        return
    bad = report.problems.append
    original, match = doc["original"], doc["match"]
    sha = original["sha256"]
    if match["sha256"] != sha:
        bad(f"match: names {match['sha256']} but the original is {sha}")
    first = entries.get(doc["ledger"]["first"])
    if first is None or first["type"] != "original" or first["data"].get("sha256") != sha:
        bad(f"original: no 'original' ledger entry records SHA-256 {sha}")
        return
    data = first["data"]
    for key in ("size", "kind", "format", "capture_time", "width", "height", "duration_ms", "phash", "dhash"):
        if key in data and original.get(key) != data[key]:
            bad(
                f"original: {key} {original.get(key)!r} differs from ledger entry {first['seq']} "
                f"({data[key]!r})"
            )
    if data.get("path") not in original.get("paths", []):
        bad(f"original: paths do not include {data.get('path')!r}, where ledger entry {first['seq']} saw it")
    if original.get("first_seen") != first["time"]:
        bad(f"original: first_seen {original.get('first_seen')!r} differs from ledger entry {first['seq']}")
    recorded = {(e["data"].get("url"), e["seq"]) for e in entries.values() if e["type"] == "publication"}
    for p in original.get("publications", []):
        if (p.get("url"), p.get("seq")) not in recorded:
            bad(f"publication {p.get('url')}: not in the ledger entries of the evidence")
    copy = (match.get("details") or {}).get("derivative") or {}
    copies = {d.get("sha256") for d in original.get("derivatives", [])}
    as_copy = copy.get("sha256") == doc["suspect"]["sha256"] and copy.get("sha256") in copies
    if match["method"] == "exact" and doc["suspect"]["sha256"] != sha and not as_copy:
        bad("match: 'exact' but the suspect's SHA-256 is neither the original's nor a recorded copy's")
    if not report.problems:
        report.checked.append(f"original {sha} recorded by ledger entry {first['seq']} at {first['time']}")


def _checkpoints(
    doc: dict[str, Any], entries: dict[int, dict[str, Any]], report: BundleReport, folder: Path
) -> None:
    bad = report.problems.append
    pem = doc.get("public_key")
    if not doc["checkpoints"]:
        bad("no signed checkpoint covers the original's record")
        return
    try:
        trusted = cpmod.load_public(str(pem).encode("ascii"))
    except (ValueError, cpmod.CheckpointError) as exc:
        bad(f"public key: not usable ({exc})")
        return
    try:
        cpmod.verify_document(trusted, doc, "evidence.json")
        report.checked.append(f"evidence.json signed by key {cpmod.key_id(trusted)}")
    except cpmod.CheckpointError as exc:
        bad(str(exc))
    keys = {cpmod.key_id(trusted): trusted}
    for pem_text in doc.get("earlier_keys", []):
        try:
            earlier = cpmod.load_public(str(pem_text).encode("ascii"))
        except (ValueError, cpmod.CheckpointError) as exc:
            bad(f"earlier key: not usable ({exc})")
            continue
        keys[cpmod.key_id(earlier)] = earlier
    for item in doc["checkpoints"]:
        try:
            cp = cpmod.parse(item["checkpoint"])
            cp.verify(keys.get(cp.key_id, trusted))
        except cpmod.CheckpointError as exc:
            bad(str(exc))
            continue
        if not entries:
            continue  # the entries did not verify: said above
        if doc["version"] >= 2 and not _signed_files(item, cp, folder, report):
            continue
        if cp.root is not None:
            if not _included(doc, entries, cp, report):
                continue
        else:
            entry = entries.get(cp.entries)
            if entry is None:
                bad(f"checkpoint {cp.entries}: its entry is not in the evidence's ledger entries")
                continue
            if entry["hash"] != cp.head:
                bad(
                    f"checkpoint {cp.entries}: signed head {cp.head[:12]}... but entry {cp.entries} is "
                    f"{entry['hash'][:12]}..."
                )
                continue
        report.checked.append(f"checkpoint {cp.entries} signed {cp.time} by key {cp.key_id}")
        stamp = item.get("timestamp")
        if not isinstance(stamp, dict):
            continue
        try:
            token = base64.b64decode(stamp["token"], validate=True)
            info = tsmod.verify(token, cp.file_bytes(), stamp["authority_certificate"].encode("ascii"))
        except (tsmod.TimestampError, binascii.Error, ValueError) as exc:
            bad(f"checkpoint {cp.entries}: timestamp: {exc}")
            continue
        if info.time != stamp.get("time") or info.digest != stamp.get("digest"):
            bad(
                f"checkpoint {cp.entries}: the token says {info.time}, digest {info.digest[:12]}...; the "
                f"evidence says {stamp.get('time')}, digest {str(stamp.get('digest'))[:12]}..."
            )
            continue
        fingerprint = _fingerprint(stamp["authority_certificate"])
        report.timestamps.append(
            {**info.as_dict(), "checkpoint": cp.entries, "authority_sha256": fingerprint}
        )
        report.checked.append(
            f"checkpoint {cp.entries} timestamped {info.time} by {info.authority} "
            f"(authority certificate SHA-256 {fingerprint})"
        )


def _signed_files(item: dict[str, Any], cp: cpmod.Checkpoint, folder: Path, report: BundleReport) -> bool:
    """Version 2: the checkpoint's .signed and .sig files are its signed bytes and signature."""
    for name, want in (
        (evmod.signed_file(item["file"]), cp.signed_bytes()),
        (evmod.sig_file(item["file"]), cp.signature_bytes()),
    ):
        try:
            ok = (folder / name).read_bytes() == want
        except OSError:
            ok = False
        if not ok:
            report.problems.append(f"{name}: missing or not checkpoint {cp.entries}'s")
            return False
    return True


def _included(
    doc: dict[str, Any], entries: dict[int, dict[str, Any]], cp: cpmod.Checkpoint, report: BundleReport
) -> bool:
    """Version 2 checkpoint: every carried entry it covers is under its Merkle root."""
    assert cp.root is not None
    proofs = {
        int(p["entry"]): p["path"] for p in doc["ledger"].get("proofs", []) if p["checkpoint"] == cp.entries
    }
    covered = [e for e in doc["ledger"]["entries"] if e["seq"] <= cp.entries and e["seq"] in entries]
    ok = True
    for e in covered:
        path = proofs.get(e["seq"])
        if path is None:
            report.problems.append(f"checkpoint {cp.entries}: no audit path for ledger entry {e['seq']}")
            ok = False
            continue
        try:
            got = merkle.root_from_path(e["hash"], e["seq"], cp.entries, path)
        except merkle.MerkleError as exc:
            report.problems.append(f"checkpoint {cp.entries}: ledger entry {e['seq']}: {exc}")
            ok = False
            continue
        if got != cp.root:
            report.problems.append(
                f"checkpoint {cp.entries}: ledger entry {e['seq']} is not under its Merkle root "
                f"(the audit path leads to {got[:12]}..., the checkpoint signed {cp.root[:12]}...)"
            )
            ok = False
    if ok and covered:
        report.checked.append(
            f"checkpoint {cp.entries}: {len(covered)} ledger {'entry' if len(covered) == 1 else 'entries'} "
            "of the original under its Merkle root"
        )
    return ok


def _fingerprint(pem: str) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    certs = tsmod.load_certificates(pem.encode("ascii"), "authority certificate")
    return hashlib.sha256(certs[0].public_bytes(Encoding.DER)).hexdigest()
