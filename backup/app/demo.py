"""``backup demo``: a sample workspace and the whole flow run once on it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup.app.samples import build
from backup.app.stamp import record_and_stamp
from backup.app.workspace import open_inventory
from backup.home import HOME_ENV
from backup.profile.load import load
from backup.profile.setup import create_profile
from inventory import Progress, ScanReport


@dataclass
class DemoResult:
    workspace: Path
    home: Path
    sources: Path
    profile_file: Path
    scan: ScanReport
    files: list[dict[str, Any]] = field(default_factory=list)
    ledger_ok: bool = False
    ledger_entries: int = 0
    stamp: Any = None  # a backup.stages.stamp.StampReport
    backup: Any = None  # a backup.runs.engine.RunReport: the first full backup
    verify: list[Any] = field(default_factory=list)  # backup.runs.verify.VerifyResult per target
    drive: Path | None = None
    repost: Path | None = None  # a resized, recompressed copy of one sample, as found online
    proof: Any = None  # a backup.proof.bundle.ProveResult for ``repost``

    @property
    def ok(self) -> bool:
        return (
            self.scan.ok
            and self.ledger_ok
            and self.stamp.ok
            and self.backup.ok
            and all(v.status == "ok" for v in self.verify)
            and self.proof is not None
            and self.proof.match is not None
        )


@contextmanager
def _home(path: Path) -> Iterator[None]:
    old = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(HOME_ENV, None)
        else:
            os.environ[HOME_ENV] = old


def new_workspace() -> Path:
    return Path(tempfile.mkdtemp(prefix="keepmark-demo-"))


def run_demo(workspace: Path, name: str = "demo", progress: Progress | None = None) -> DemoResult:
    """Build samples in ``workspace``, write a profile (its own Keepmark home inside the
    workspace, so the creator's real profiles are untouched), scan, stamp watermarked copies,
    back everything up to the sample drive (a full run), read the backup back (verify
    --read-data), check the ledger, and prove that a resized and recompressed copy of one
    sample photo (as a thief would repost it) is the account's, with an evidence bundle."""
    from backup.app.backups import run_backup, verify_profile
    from backup.app.prove import prove

    workspace = workspace.resolve()
    home, sources, drive = workspace / "home", workspace / "Shoots", workspace / "Backup Drive"
    build(sources)
    drive.mkdir(parents=True, exist_ok=True)
    with _home(home):
        create_profile(
            name,
            account="Lily Chen",
            handle="lily.shoots",
            sources=[str(sources)],
            targets=[str(drive)],
            important=[str(sources / "2026-06 Studio")],
            output=str(workspace / "Stamped"),
            overwrite=True,
        )
        profile = load(name)
        first = record_and_stamp(profile, progress=progress)
        report, stamped = first.scan, first.stamp
        backup = run_backup(profile, "full")
        verified = verify_profile(profile, read_data=True)
        with open_inventory(profile) as inv:
            files = inv.list_files()
            verdict = inv.verify_ledger()
        repost = repost_of(files, workspace / "Found online")
        proof = prove(profile, str(repost), out=workspace / "Evidence").result if repost else None
    return DemoResult(
        workspace=workspace,
        home=home,
        sources=sources,
        profile_file=profile.file,
        scan=report,
        files=files,
        ledger_ok=verdict.ok,
        ledger_entries=verdict.entries,
        stamp=stamped,
        backup=backup,
        verify=verified,
        drive=drive,
        repost=repost,
        proof=proof,
    )


def repost_of(files: list[dict[str, Any]], folder: Path) -> Path | None:
    """A copy of the first sample JPEG as reposts usually are: half the size, recompressed at
    JPEG quality 45 (no metadata); None if there is no JPEG among ``files``."""
    from PIL import Image

    from inventory.media.orientation import orientation_of, upright

    photo = next((f["path"] for f in files if f["kind"] == "image" and f["format"] == "jpeg"), None)
    if photo is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / "repost.jpg"
    with Image.open(photo) as im:
        small = upright(im, orientation_of(im.getexif())).convert("RGB")
        small = small.resize((max(1, small.width // 2), max(1, small.height // 2)), Image.Resampling.LANCZOS)
    small.save(dest, "JPEG", quality=45)
    return dest
