"""What a target must hold: the originals as a run wants them (``Want``: where each goes on the
target and what its bytes hash to), and the cheapest honest way to tell whether an object holds
exactly them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from backup.errors import UsageError
from backup.runs import layout
from backup.targets.base import CHUNK, ObjectError, ObjectInfo, Target
from inventory.store.inventory import FileRow

KINDS = ("incremental", "full")


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"unknown kind of run {kind!r}; use one of {', '.join(KINDS)}")


BytesRead = Callable[[int], None]


class Want(NamedTuple):
    """One original that a target must hold."""

    path: str  # <source folder name>/<relpath>
    key: str
    src: str
    sha256: str
    size: int
    mtime_ns: int


def wanted_files(rows: Iterable[FileRow], labels: Mapping[str, str]) -> list[Want]:
    """What the targets must hold for ``rows``: each under ``originals/<label>/<relpath>``, the
    label of its source folder (``labels``, from the inventory; a folder it lacks is filed
    under its own name)."""
    out = []
    prefixes: dict[str, str] = {}
    for root, relpath, path, sha, size, mtime_ns in rows:
        prefix = prefixes.get(root)
        if prefix is None:
            prefix = prefixes[root] = (labels.get(root) or layout.source_label(root)) + "/"
        p = prefix + relpath
        out.append(Want(p, layout.ORIGINALS + p, path, sha, size, mtime_ns))
    return out


def object_sha256(target: Target, key: str, progress: BytesRead | None = None) -> tuple[str, int]:
    """The SHA-256 and size of an object, read back from the target."""
    digest = hashlib.sha256()
    n = 0
    with target.open(key) as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            n += len(chunk)
            if progress is not None:
                progress(len(chunk))
    return digest.hexdigest(), n


def compare_content(target: Target, info: ObjectInfo, want: Want) -> tuple[bool, str | None]:
    """Whether the object holds exactly the original's bytes, by the cheapest honest means: the
    SHA-256 the target stores, another hash it stores against the same hash of the local file,
    or reading the object. Also the object's SHA-256, when that came out on the way."""
    known = info.hashes.get("sha256")
    if info.size != want.size:
        return False, known
    if known is not None:
        return known.lower() == want.sha256, known.lower()
    for name, value in sorted(info.hashes.items()):
        try:
            return target.local_hash(name, Path(want.src)).lower() == value.lower(), None
        except (OSError, ValueError, ObjectError):
            break
    sha = object_sha256(target, info.key)[0]
    return sha == want.sha256, sha
