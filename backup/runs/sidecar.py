"""What goes to every target with the originals, under ``inventory/``: a consistent copy of the
inventory (made at most once per run), the profile's file, and the ledger's public key with its
signed checkpoints and timestamps (docs/design.md, "Target layout")."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from backup.runs.snapshot import SNAPSHOT_ENTRY
from backup.targets.base import CHUNK


@dataclass(frozen=True)
class Sidecar:
    """Whose originals these are: the profile's name (in every snapshot), its file (copied to
    ``inventory/profile.toml``) and the proof files (``(name, local file)`` pairs, copied under
    ``inventory/``)."""

    profile: str
    profile_file: Path
    proof_files: Callable[[], Iterable[tuple[str, Path]]]


class LocalCopy(NamedTuple):
    path: Path
    sha256: str
    size: int
    mtime_ns: int


class InventorySource:
    """The inventory as a run sends it to its targets: a consistent copy (SQLite's backup API),
    made at most once per run and only if some target does not hold a copy of the inventory as
    it is now (same fingerprint: the same records and ledger, the run's own ``snapshot``
    entries aside)."""

    def __init__(self, inv: Any, folder: Path) -> None:
        self.inv = inv
        self.folder = folder
        self.fingerprint: str = inv.fingerprint(ignore_types=(SNAPSHOT_ENTRY,))
        self._copy: LocalCopy | None = None

    def copy(self) -> LocalCopy:
        if self._copy is None:
            import tempfile

            fd, name = tempfile.mkstemp(dir=self.folder, prefix=".inventory-copy.", suffix=".sqlite")
            os.close(fd)
            path = Path(name)
            path.unlink()
            self.inv.copy_to(path, sync=False)  # a temporary file: the targets' copies are synced
            digest = hashlib.sha256()
            with open(path, "rb", buffering=0) as f:
                while chunk := f.read(4 * CHUNK):
                    digest.update(chunk)
                st = os.fstat(f.fileno())
            self._copy = LocalCopy(path, digest.hexdigest(), st.st_size, st.st_mtime_ns)
        return self._copy

    def close(self) -> None:
        if self._copy is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._copy.path)
