"""The evidence bundle that ``backup prove`` writes (docs/design.md, "The evidence bundle")::

    DIR/
      evidence.json            every fact, the original's ledger entries and their audit paths,
                               checkpoints, timestamp tokens; it lists the SHA-256 of every
                               file written before it
      report.html              one self-contained printable page
      notice.txt               a pre-filled copyright notice to fill in and sign: a template
                               made from the evidence, outside the seal (not in ``files``)
      VERIFY.txt               the openssl commands that check all of it, Chinese and English
      SHA256SUMS, .sig         the SHA-256 of every file but the notice (sha256sum -c), signed
      suspect<.ext>            a copy of the suspect file
      proof/ledger-key.pub.pem, proof/checkpoint-<n>.json, .tsr, .tsa.pem,
            checkpoint-<n>.signed (the exact bytes signed), .sig (the raw signature)
      proof/entries/entry-<seq>.txt                the exact text each entry's hash is over
      proof/entries/entry-<seq>.in-<n>.path        its audit path to checkpoint n's root

The bundle is built in a hidden temporary folder beside DIR and renamed to DIR when complete:
a crash leaves no folder named DIR, only a temporary one that is clearly not a bundle. With
``zip``, the folder is zipped (under one folder named after the zip) and written atomically
instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backup.errors import UsageError
from backup.proof import evidence, notice, report, verifytext
from backup.proof.store import ProofStore
from inventory.atomic import TMP_SUFFIX, atomic_path, fsync_dir, fsync_file
from inventory.ledger import chain as ledger
from inventory.ledger import checkpoint as cpmod
from inventory.ledger.checkpoint import sign_document

if TYPE_CHECKING:
    from inventory.match.find import Match, Suspect


@dataclass
class ProveResult:
    suspect: Suspect
    match: Match | None
    bundle: Path | None = None
    evidence: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "suspect": self.suspect.as_dict(),
            "match": self.match.as_dict() if self.match else None,
            "bundle": str(self.bundle) if self.bundle else None,
        }


def check_out(out: Path, *, zipped: bool = False) -> None:
    if zipped:
        if out.exists():
            raise UsageError(f"{out}: already exists; choose a new file name for the zip")
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(
            f"{out}: already exists and is not an empty folder; choose a new folder for the bundle"
        )
    above = out.parent
    while not above.exists() and above != above.parent:
        above = above.parent  # missing parent folders are made when the bundle is written
    if not above.is_dir():
        raise UsageError(f"{above}: not a folder; choose another place for the bundle")


def zip_path(out: Path) -> Path:
    """Where ``--zip`` writes: ``out`` itself when it ends in ``.zip``, else ``out.zip``."""
    return out if out.suffix.lower() == ".zip" else out.with_name(out.name + ".zip")


def _make_parent(out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out.parent}: cannot create the folder ({exc.strerror or exc})") from exc


def zip_bundle(bundle: Path, dst: Path, top: str) -> None:
    """``bundle``'s files zipped under the folder ``top``, written atomically to ``dst``:
    unzipped, ``top/`` is a bundle ``backup prove --verify`` accepts. The one way to zip one."""
    with atomic_path(dst) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo(f"{top}/"), b"")
        for path in sorted(bundle.rglob("*")):
            rel = path.relative_to(bundle).as_posix()
            if path.is_dir():
                z.writestr(zipfile.ZipInfo(f"{top}/{rel}/"), b"")
            else:
                z.write(path, f"{top}/{rel}")


class SealedFolder:
    """A folder written file by file into a hidden temporary folder beside ``out`` (each file
    fsynced; its SHA-256 noted for ``SHA256SUMS`` unless it is left out of the seal), then put
    in place at once: renamed to ``out``, or zipped into ``out`` holding one folder named after
    it. An interrupted write leaves only the hidden folder, removed on the way out."""

    def __init__(self, out: Path) -> None:
        _make_parent(out)
        self.out = out
        self.tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=TMP_SUFFIX))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, 0o777 & ~umask)  # an ordinary folder once renamed: it is meant to be shared
        self.sums: dict[str, str] = {}

    def put(self, name: str, data: bytes, *, sealed: bool = True) -> str:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        digest = hashlib.sha256(data).hexdigest()
        if sealed:
            self.sums[name] = digest
        return digest

    def copy(self, name: str, src: str, sha256: str) -> None:
        shutil.copyfile(src, self.tmp / name)
        fsync_file(self.tmp / name)
        self.sums[name] = sha256

    def seal(self, key: Any) -> None:
        """``SHA256SUMS`` of every sealed file, and its Ed25519 signature by ``key``."""
        listing = sums_text(self.sums)
        self.put(verifytext.SUMS, listing, sealed=False)
        self.put(verifytext.SUMS_SIG, key.sign(listing), sealed=False)

    def finish(self, *, zipped: bool = False, zip_to: Path | None = None) -> None:
        """In place: ``out`` zipped (``zipped``), or renamed to ``out`` (and zipped besides into
        ``zip_to``, when given)."""
        for folder in {p.parent for p in self.tmp.rglob("*")} | {self.tmp}:
            fsync_dir(folder)
        if zipped:
            zip_bundle(self.tmp, self.out, self.out.stem)
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        if zip_to is not None:
            zip_bundle(self.tmp, zip_to, self.out.name)
        if self.out.exists():
            self.out.rmdir()  # empty, checked before
        os.rename(self.tmp, self.out)
        fsync_dir(self.out.parent)

    def abandon(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_bundle(
    out: Path,
    doc: dict[str, Any],
    store: ProofStore,
    suspect_file: str,
    original_file: str | None,
    contact: dict[str, str],
    *,
    lang: str = "en",
    zipped: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Write the bundle of ``doc`` to the folder ``out`` (or, ``zipped``, to the zip ``out``
    holding one folder named after it); report.html, notice.txt and VERIFY.txt in ``lang``
    first. (where it was written, the signed document)."""
    check_out(out, zipped=zipped)
    folder = SealedFolder(out)
    try:
        files: dict[str, str] = {}

        def put(name: str, data: bytes, *, sealed: bool = True) -> str:
            digest = folder.put(name, data, sealed=False)
            if sealed:
                files[name] = digest
            return digest

        folder.copy(doc["suspect"]["copy"], suspect_file, doc["suspect"]["sha256"])
        stems = tuple(f"{Path(cp['file']).stem}." for cp in doc["checkpoints"])
        for name, path in store.files():
            base = Path(name).name
            if base.startswith("ledger-key") or base.startswith(stems):
                put(f"proof/{base}", path.read_bytes())
        _put_proof(doc, put)
        put("report.html", report.render(doc, suspect_file, original_file, lang=lang).encode("utf-8"))
        # The notice is the creator's to fill in and sign: outside the seal, its first text noted.
        written = put(notice.FILE, notice.render(doc, contact, lang=lang).encode("utf-8"), sealed=False)
        doc["files"] = dict(sorted(files.items()))
        doc["notice"] = {"file": notice.FILE, "sealed": False, "sha256": written}
        put(verifytext.FILE, verifytext.render(doc, lang).encode("utf-8"))
        doc["files"] = dict(sorted(files.items()))
        key = store.signing_key()
        doc = sign_document(key, doc)
        put(EVIDENCE, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        folder.sums.update(files)
        folder.seal(key)
        folder.finish(zipped=zipped)
    except BaseException:
        folder.abandon()
        raise
    return out, doc


EVIDENCE = "evidence.json"


def sums_text(sums: dict[str, str]) -> bytes:
    """SHA256SUMS: ``<sha256>  <name>`` per file, sorted by name (``sha256sum -c`` reads it)."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())).encode("utf-8")


def _put_proof(doc: dict[str, Any], put: Any) -> None:
    """What the openssl commands of VERIFY.txt read: each checkpoint's signed bytes and raw
    signature, each carried entry's exact hashed text and audit paths, and (for a version 1
    checkpoint) the chain of entries up to it."""
    for item in doc["checkpoints"]:
        cp = cpmod.parse(item["checkpoint"])
        put(evidence.signed_file(item["file"]), cp.signed_bytes())
        put(evidence.sig_file(item["file"]), cp.signature_bytes())
    for e in doc["ledger"]["entries"]:
        put(evidence.entry_file(e["seq"]), _entry_bytes(e))
    for proof in doc["ledger"].get("proofs", []):
        text = evidence.path_text(proof["path"])
        put(evidence.path_file(proof["entry"], proof["checkpoint"]), text.encode("ascii"))
    for e in doc["ledger"].get("chain", []):
        put(evidence.entry_file(e["seq"], evidence.CHAIN), _entry_bytes(e))


def _entry_bytes(e: dict[str, Any]) -> bytes:
    return ledger.entry_text(e["prev"], e["seq"], e["time"], e["type"], e["data"]).encode("utf-8")
