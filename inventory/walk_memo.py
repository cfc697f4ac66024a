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
from operator import itemgetter

from inventory.walk import Found

_PATH, _SIZE, _MTIME, _INODE = itemgetter(0), itemgetter(3), itemgetter(4), itemgetter(5)


def walk_digest(setup: object, walks: Sequence[Sequence[Found]]) -> str | None:
    """A digest of ``setup`` (the folders and rules walked, as JSON-able data) and of every
    file found, in the order found: path, size, mtime and inode. None when a value does not fit
    (the memo is then not used)."""
    h = hashlib.sha256(json.dumps(setup, sort_keys=True).encode())
    try:
        for files in walks:
            h.update(len(files).to_bytes(8, "little"))
            h.update("\0".join(map(_PATH, files)).encode("utf-8", "surrogatepass"))
            h.update(array("q", map(_SIZE, files)).tobytes())
            h.update(array("q", map(_MTIME, files)).tobytes())
            h.update(array("Q", map(_INODE, files)).tobytes())
    except (OverflowError, UnicodeError):
        return None
    return h.hexdigest()
