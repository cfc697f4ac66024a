"""A Merkle tree over the ledger's entry hashes (RFC 6962 / RFC 9162, section 2.1), so that a
checkpoint can show one entry was in the ledger it signed without showing any other entry.

For a ledger of ``n`` entries, the leaves are the entries 1..n in order, each::

    leaf(entry) = SHA-256( 0x00 || the 32 bytes of the entry's hash )

and an inner node is ``SHA-256( 0x01 || left || right )``. The tree is RFC 6962's: for ``n > 1``
the left subtree holds the largest power of two of leaves below ``n``, the right one the rest.
(Built level by level, that is: pair the nodes of a level from the left; an unpaired last node
moves up unchanged.) The root of a single entry is its leaf.

An audit path lists, from the leaf up, each sibling's hash and which side it is on: ``L`` (the
sibling is on the left: ``node = SHA-256(0x01 || sibling || node)``) or ``R`` (on the right:
``node = SHA-256(0x01 || node || sibling)``). Checking one needs only SHA-256.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

LEAF = b"\x00"
NODE = b"\x01"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

Step = tuple[str, str]  # ("L" | "R", sibling hash as 64 hex digits)


class MerkleError(ValueError):
    """An audit path that is malformed or does not lead to the root."""


def leaf(entry_hash: str) -> bytes:
    """The leaf of an entry whose hash (64 hex digits) is ``entry_hash``."""
    return hashlib.sha256(LEAF + bytes.fromhex(entry_hash)).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE + left + right).digest()


def root(entry_hashes: Iterable[str]) -> str:
    """The root (64 hex digits) over the entry hashes in order, in one pass with O(log n) memory.
    ``MerkleError`` for no entries."""
    stack: list[tuple[int, bytes]] = []  # perfect subtrees, largest first: (leaves, hash)
    for h in entry_hashes:
        size, top = 1, leaf(h)
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, top = left_size + size, node(left, top)
        stack.append((size, top))
    if not stack:
        raise MerkleError("no entries: a tree needs at least one")
    acc = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        acc = node(left, acc)
    return acc.hex()


class Tree:
    """Every level of the tree over ``entry_hashes`` (entries 1..n), to give audit paths."""

    def __init__(self, entry_hashes: Sequence[str]) -> None:
        if not entry_hashes:
            raise MerkleError("no entries: a tree needs at least one")
        level = [leaf(h) for h in entry_hashes]
        self.levels = [level]
        while len(level) > 1:
            up = [node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                up.append(level[-1])
            self.levels.append(up)
            level = up

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def root(self) -> str:
        return self.levels[-1][0].hex()

    def path(self, seq: int) -> list[Step]:
        """The audit path of entry ``seq`` (1-based), leaf to root."""
        if not 1 <= seq <= self.size:
            raise MerkleError(f"entry {seq} is not among the tree's {self.size} entries")
        index, steps = seq - 1, []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                steps.append(("L" if index & 1 else "R", level[sibling].hex()))
            index //= 2
        return steps


def root_from_path(entry_hash: str, seq: int, size: int, path: Sequence[Sequence[str]]) -> str:
    """The root that entry ``seq`` (with hash ``entry_hash``) and its audit path lead to in a
    tree of ``size`` entries (RFC 9162, 2.1.3.2). The sides the path states must be the ones
    the position implies. ``MerkleError`` naming what is wrong."""
    if not _HEX64.match(entry_hash):
        raise MerkleError("the entry's hash is not 64 lowercase hex digits")
    if not 1 <= seq <= size:
        raise MerkleError(f"entry {seq} is not within a tree of {size} entries")
    fn, sn = seq - 1, size - 1
    acc = leaf(entry_hash)
    for i, step in enumerate(path):
        if len(step) != 2 or step[0] not in ("L", "R") or not _HEX64.match(str(step[1])):
            raise MerkleError(f'step {i + 1} of the audit path is not ["L" or "R", 64 hex digits]')
        side, sibling = step[0], bytes.fromhex(str(step[1]))
        if sn == 0:
            raise MerkleError("the audit path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            if side != "L":
                raise MerkleError(f"step {i + 1} of the audit path is on the wrong side")
            acc = node(sibling, acc)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            if side != "R":
                raise MerkleError(f"step {i + 1} of the audit path is on the wrong side")
            acc = node(acc, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MerkleError("the audit path is shorter than the tree is deep")
    return acc.hex()


def roots_at(entry_hashes: Iterable[str], sizes: Iterable[int]) -> dict[int, str]:
    """{n: the root over the first n entry hashes} for each n of ``sizes``, in one pass (the
    sizes the hashes reach; a size beyond them is left out)."""
    wanted = sorted(n for n in set(sizes) if n >= 1)
    out: dict[int, str] = {}
    stack: list[tuple[int, bytes]] = []
    i = 0
    for count, h in enumerate(entry_hashes, 1):
        if i >= len(wanted):
            break
        size, top = 1, leaf(h)
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, top = left_size + size, node(left, top)
        stack.append((size, top))
        while i < len(wanted) and wanted[i] == count:
            acc = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                acc = node(left, acc)
            out[count] = acc.hex()
            i += 1
    return out
