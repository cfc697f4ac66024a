"""Where things go on a target, under ``<root>/<profile>/`` (docs/design.md, "Target layout"):

originals/<source folder name>/<path>      every file of the source folders, as it is now
versions/<source folder name>/<dir>/<stem>.<YYYYMMDD-HHMMSS>.<sha12><ext>
                                           an earlier content of a changed file; the time is
                                           the old content's modification time (UTC) and
                                           sha12 the first 12 hex digits of its SHA-256
snapshots/<id>.json                        one manifest per finished run
inventory/inventory.sqlite                 a consistent copy of the inventory and ledger
inventory/profile.toml                     the profile the run used
inventory/ledger-key.pub.pem               the public half of the ledger's signing key
inventory/checkpoints/checkpoint-<n>.json  signed checkpoints of the ledger, with their
                  .tsr, .tsa.pem           timestamp tokens and the authority's certificate
"""

from __future__ import annotations

import os
import posixpath
import re
from datetime import datetime, timezone

ORIGINALS = "originals/"
VERSIONS = "versions/"
SNAPSHOTS = "snapshots/"
INVENTORY = "inventory/"
INVENTORY_DB = "inventory/inventory.sqlite"
INVENTORY_PROFILE = "inventory/profile.toml"

_VERSION_NAME = re.compile(r"^(?P<stem>.*)\.(?P<time>\d{8}-\d{6})\.(?P<sha>[0-9a-f]{12})(?P<ext>\.[^./]*)?$")


def source_label(root: str) -> str:
    """The name a source folder has on targets: its own folder name."""
    return os.path.basename(os.path.normpath(root)) or "root"


def snapshot_path(root: str, relpath: str) -> str:
    """A file's path in snapshots and under ``originals/``: ``<source folder name>/<relpath>``."""
    return f"{source_label(root)}/{relpath}"


def original_key(path: str) -> str:
    return ORIGINALS + path


def version_key(path: str, sha256: str, mtime: float) -> str:
    """The key an earlier content of ``path`` is kept under."""
    folder, name = posixpath.split(path)
    stem, ext = posixpath.splitext(name)
    if not stem:  # ".profile": no extension
        stem, ext = name, ""
    stamp = datetime.fromtimestamp(mtime, timezone.utc).strftime("%Y%m%d-%H%M%S")
    versioned = f"{stem}.{stamp}.{sha256[:12]}{ext}"
    return VERSIONS + (f"{folder}/{versioned}" if folder else versioned)


def parse_version_key(key: str) -> tuple[str, str] | None:
    """(path, sha12) of a version key, or None when the key is not one."""
    if not key.startswith(VERSIONS):
        return None
    folder, name = posixpath.split(key[len(VERSIONS) :])
    m = _VERSION_NAME.match(name)
    if not m:
        return None
    original = m["stem"] + (m["ext"] or "")
    return (f"{folder}/{original}" if folder else original), m["sha"]


def version_prefix(path: str) -> str:
    """The listing prefix under which all versions of ``path`` are found."""
    folder, name = posixpath.split(path)
    stem, _ext = posixpath.splitext(name)
    stem = stem or name
    return VERSIONS + (f"{folder}/{stem}." if folder else f"{stem}.")


def snapshot_key(snapshot_id: str) -> str:
    return f"{SNAPSHOTS}{snapshot_id}.json"


def unsafe_path(path: str) -> str | None:
    """Why a manifest path must not be restored (it would escape the restore folder), or None."""
    if not path or "\x00" in path:
        return "empty or contains NUL"
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return "absolute path"
    parts = re.split(r"[\\/]", path)
    if any(p == ".." for p in parts):
        return "contains '..'"
    if any(p in ("", ".") for p in parts):
        return "empty or '.' path component"
    return None
