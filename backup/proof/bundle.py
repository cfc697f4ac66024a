"""The evidence bundle that ``backup prove`` writes (docs/design.md, "The evidence bundle")::

    DIR/
      evidence.json            every fact, the ledger entries, checkpoints, timestamp tokens;
                               written last, it lists the SHA-256 of every other file
      report.html              one self-contained printable page
      notice.txt               a pre-filled copyright notice to fill in and sign: a template
                               made from the evidence, outside the seal (not in ``files``)
      suspect<.ext>            a copy of the suspect file
      proof/ledger-key.pub.pem, proof/checkpoint-<n>.json, .tsr, .tsa.pem

The bundle is built in a hidden temporary folder beside DIR and renamed to DIR when complete:
a crash leaves no folder named DIR, only a temporary one that is clearly not a bundle.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backup.errors import UsageError
from backup.proof import notice, report
from backup.proof.store import ProofStore
from inventory.atomic import TMP_SUFFIX, fsync_dir, fsync_file
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


def check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(
            f"{out}: already exists and is not an empty folder; choose a new folder for the bundle"
        )
    above = out.parent
    while not above.exists() and above != above.parent:
        above = above.parent  # missing parent folders are made when the bundle is written
    if not above.is_dir():
        raise UsageError(f"{above}: not a folder; choose another place for the bundle")


def _make_parent(out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out.parent}: cannot create the folder ({exc.strerror or exc})") from exc


def write_bundle(
    out: Path,
    doc: dict[str, Any],
    store: ProofStore,
    suspect_file: str,
    original_file: str | None,
    contact: dict[str, str],
) -> tuple[Path, dict[str, Any]]:
    check_out(out)
    _make_parent(out)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=TMP_SUFFIX))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # an ordinary folder once renamed: it is meant to be shared
    try:
        files: dict[str, str] = {}

        def put(name: str, data: bytes, *, sealed: bool = True) -> str:
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            digest = hashlib.sha256(data).hexdigest()
            if sealed:
                files[name] = digest
            return digest

        shutil.copyfile(suspect_file, tmp / doc["suspect"]["copy"])
        fsync_file(tmp / doc["suspect"]["copy"])
        stems = tuple(f"{Path(cp['file']).stem}." for cp in doc["checkpoints"])
        for name, path in store.files():
            base = Path(name).name
            if base.startswith("ledger-key") or base.startswith(stems):
                put(f"proof/{base}", path.read_bytes())
        put("report.html", report.render(doc, suspect_file, original_file).encode("utf-8"))
        # The notice is the creator's to fill in and sign: outside the seal, its first text noted.
        written = put(notice.FILE, notice.render(doc, contact).encode("utf-8"), sealed=False)
        doc["files"] = dict(sorted(files.items()))
        doc["notice"] = {"file": notice.FILE, "sealed": False, "sha256": written}
        doc = sign_document(store.signing_key(), doc)
        put("evidence.json", (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        for folder in {p.parent for p in tmp.rglob("*")}:
            fsync_dir(folder)
        if out.exists():
            out.rmdir()  # empty, checked above
        os.rename(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out, doc
