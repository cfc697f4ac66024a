"""The display matrix of an MP4/MOV video track, read from the file's boxes.

``ffmpeg -i`` prints a track's display matrix as one angle ("rotation of -90.00 degrees"), and a
matrix with a mirror in it prints as a rotation too: a horizontal flip as -180, a flip and a turn
as +-90. ffmpeg's autorotation undoes the matrix itself, mirror included. To know that turning
a frame by the printed angle is what autorotation does, the matrix has to be read: here, from
the ``tkhd`` box of the track (and the movie's ``mvhd``, which ffmpeg applies after it), the
ISO base media file format's 3x3 matrix of 16.16 fixed-point numbers (ISO/IEC 14496-12, 8.3.2).

Only the top of the box tree is walked (``moov``, its ``mvhd`` and ``trak`` boxes, and in a
``trak`` its ``tkhd`` and ``mdia/hdlr``): a few reads, however large the file.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

_ONE = 0x10000  # 1.0 in 16.16 fixed point
_W_ONE = 0x40000000  # 1.0 in 2.30 fixed point (the matrix's third column)
_IDENTITY = (_ONE, 0, 0, 0, _ONE, 0, 0, 0, _W_ONE)
_MAX_BOXES = 10_000  # a file with more boxes than this at one level is not read further


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes between ``start`` and ``end``."""
    pos = start
    for _ in range(_MAX_BOXES):
        if pos + 8 > end:
            return
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:
            large = f.read(8)
            if len(large) < 8:
                return
            size, header = struct.unpack(">Q", large)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _child(f: BinaryIO, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for found, payload, box_end in _boxes(f, start, end):
        if found == kind:
            return payload, box_end
    return None


def _read_matrix(f: BinaryIO, payload: int, end: int, skip_v0: int, skip_v1: int) -> tuple[int, ...] | None:
    """The nine matrix numbers of a ``mvhd`` or ``tkhd`` box (full box: version, flags, then
    ``skip`` bytes before the matrix, which depend on the version)."""
    f.seek(payload)
    version = f.read(1)
    if not version:
        return None
    at = payload + 4 + (skip_v1 if version[0] == 1 else skip_v0)
    if at + 36 > end:
        return None
    f.seek(at)
    data = f.read(36)
    return struct.unpack(">9i", data) if len(data) == 36 else None


def _handler(f: BinaryIO, trak: tuple[int, int]) -> bytes | None:
    mdia = _child(f, *trak, b"mdia")
    hdlr = _child(f, *mdia, b"hdlr") if mdia else None
    if hdlr is None or hdlr[0] + 12 > hdlr[1]:
        return None
    f.seek(hdlr[0] + 8)  # version and flags, pre_defined
    return f.read(4)


def track_matrix(path: str | os.PathLike[str], track: int) -> tuple[int, ...] | None:
    """The display matrix of video track number ``track`` (counted over all the ``trak`` boxes
    in file order, as ffmpeg numbers its streams ``0:N``), with the movie's matrix applied when
    it is not the identity; None when the file cannot be read this way or that track is not a
    video track."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            moov = _child(f, 0, f.tell(), b"moov")
            if moov is None:
                return None
            movie: tuple[int, ...] | None = _IDENTITY
            traks: list[tuple[int, int]] = []
            for kind, payload, end in _boxes(f, *moov):
                if kind == b"mvhd":
                    movie = _read_matrix(f, payload, end, skip_v0=32, skip_v1=44)
                elif kind == b"trak":
                    traks.append((payload, end))
            if movie is None or track >= len(traks) or _handler(f, traks[track]) != b"vide":
                return None
            tkhd = _child(f, *traks[track], b"tkhd")
            matrix = _read_matrix(f, *tkhd, skip_v0=36, skip_v1=48) if tkhd else None
    except OSError:
        return None
    if matrix is None:
        return None
    return matrix if movie == _IDENTITY else _times(matrix, movie)


def _times(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """``a`` x ``b`` in the matrix's fixed point (16.16, 16.16, 2.30 by column), as ffmpeg's
    demuxer combines a track's matrix with the movie's."""
    shifts = (16, 16, 30)
    return tuple(
        sum((a[i * 3 + e] * b[e * 3 + j]) >> shifts[e] for e in range(3)) for i in range(3) for j in range(3)
    )


def pure_rotation(matrix: tuple[int, ...]) -> int | None:
    """The angle (degrees counter-clockwise, 0/90/180/270, as ``inventory.media.probe`` counts
    them) when ``matrix`` only turns the picture by a multiple of 90 degrees: no mirror, no
    scaling, no perspective (a translation does not matter to a player); else None."""
    a, b, u, c, d, v, _x, _y, w = matrix
    if (u, v, w) != (0, 0, _W_ONE) or not (a == d and b == -c) or a * a + b * b != _ONE * _ONE:
        return None
    if a not in (0, _ONE, -_ONE):
        return None
    return round(math.degrees(math.atan2(c, a))) % 360
