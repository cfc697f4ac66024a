"""The digest of a whole walk, so that a scan over files that have not changed can skip the
quick check.

A scan of every source folder that ends with the ``paths`` table matching what its walk found
(no file it could not read, none still being written, no folder it could not list) keeps this
digest in the inventory's ``meta`` table with the paths generation it matches. The next scan of
the same folders walks them again (one ``stat`` per file, as before) and compares digests: equal
digests, while nobody has written ``paths`` since, mean every file has the size, time and inode
the inventory holds, so the records need not be read at all. Any difference, or any doubt,
falls back to the full quick check.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Sequence

from inventory.record.walk import WalkResult


def walk_digest(setup: object, walks: Sequence[WalkResult]) -> str | None:
    """A digest of ``setup`` (the folders and rules walked, as JSON-able data) and of every
    file found, folder by folder in the order found: path, size, mtime and inode. None when a
    value does not fit (the memo is then not used)."""
    h = hashlib.sha256(json.dumps(setup, sort_keys=True).encode())
    update = h.update
    try:
        for walked in walks:
            update(len(walked.folders).to_bytes(8, "little"))
            for f in walked.folders:
                update(f"{len(f.names)}\0{f.base}\0{f.prefix}\0".encode("utf-8", "surrogatepass"))
                update("\0".join(f.names).encode("utf-8", "surrogatepass"))
                update(array("q", f.sizes).tobytes())
                update(array("q", f.mtimes).tobytes())
                update(array("Q", f.inodes).tobytes())
    except (OverflowError, UnicodeError):
        return None
    return h.hexdigest()
