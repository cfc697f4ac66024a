"""Find the fonts that together have a glyph for every character of a mark's text.

``find_fonts`` returns a fallback chain: the profile's ``font`` first, then a good Latin sans,
then whatever the text needs beyond it (a CJK font, other scripts), colour emoji fonts last so
that digits and symbols a text font has are drawn by the text font. System fonts come from
fontconfig (``fc-list``) on Linux and the BSDs, from the usual folders on macOS and Windows (and
on a Unix without fontconfig). A character no font covers is an error, never a box.

Coverage is read from each font's ``cmap`` table by a small reader here (a binary search per
character, no full decode, no font library to import), so a plain ASCII mark costs one
``fc-list`` call and one font opened. Everything is cached per process.
"""

from __future__ import annotations

import bisect
import os
import shutil
import struct
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from watermark.errors import MissingGlyphs, WatermarkError

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")

# Family names in order of preference, per kind of character (fontconfig); the file-name stems
# of the same fonts (folders on macOS and Windows, or a Unix without fontconfig).
LATIN_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans",
    "Helvetica",
    "Helvetica Neue",
    "Arial",
    "Segoe UI",
    "Liberation Sans",
    "Roboto",
    "Open Sans",
)
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK",
    "Source Han Sans SC",
    "Source Han Sans",
    "PingFang SC",
    "PingFang",
    "Hiragino Sans GB",
    "Hiragino Sans",
    "Microsoft YaHei",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Sans SC",
    "Droid Sans Fallback",
)
EMOJI_FAMILIES = ("Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", "Twemoji", "JoyPixels")
LATIN_FILES = (
    "DejaVuSans",
    "NotoSans-Regular",
    "Helvetica",
    "HelveticaNeue",
    "Arial",
    "segoeui",
    "LiberationSans-Regular",
    "Roboto-Regular",
)
CJK_FILES = (
    "NotoSansCJK-Regular",
    "NotoSansCJKsc-Regular",
    "SourceHanSans-Regular",
    "SourceHanSansSC-Regular",
    "PingFang",
    "Hiragino Sans GB",
    "ヒラギノ角ゴシック W3",
    "STHeiti Light",
    "msyh",
    "wqy-zenhei",
    "wqy-microhei",
    "NotoSansSC-Regular",
    "DroidSansFallbackFull",
    "DroidSansFallback",
)
EMOJI_FILES = ("NotoColorEmoji", "Apple Color Emoji", "seguiemj", "TwemojiMozilla", "JoyPixels")
# Fonts that claim every character and draw placeholders: exactly the boxes we refuse to draw.
NEVER = ("lastresort",)

# Characters with an emoji (colour) presentation by default outside the U+1F000 planes: the
# BMP part of Unicode's Emoji_Presentation property.
_BMP_EMOJI = frozenset(
    {0x231A, 0x231B, 0x23F0, 0x23F3, 0x25FD, 0x25FE, 0x2614, 0x2615, 0x267F, 0x2693, 0x26A1}
    | {0x26AA, 0x26AB, 0x26BD, 0x26BE, 0x26C4, 0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2, 0x26F3}
    | {0x26F5, 0x26FA, 0x26FD, 0x2705, 0x270A, 0x270B, 0x2728, 0x274C, 0x274E, 0x2757, 0x27B0}
    | {0x27BF, 0x2B1B, 0x2B1C, 0x2B50, 0x2B55, 0x2753, 0x2754, 0x2755, 0x2795, 0x2796, 0x2797}
    | set(range(0x23E9, 0x23ED))
    | set(range(0x2648, 0x2654))
)
_VS_TEXT = "\ufe0e"
_VS_EMOJI = "\ufe0f"


# --- characters ----------------------------------------------------------------------------


def is_invisible(ch: str) -> bool:
    """Characters that are never drawn on their own: whitespace, controls, format characters
    (ZWJ U+200D, tags, bidi marks), variation selectors. They need no glyph."""
    cp = ord(ch)
    return (
        ch.isspace()
        or unicodedata.category(ch) in ("Cc", "Cf")
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0100 <= cp <= 0xE01EF
    )


def is_optional(ch: str) -> bool:
    """Characters that may be left out when no font has them: emoji skin-tone modifiers (the
    emoji is still drawn, in its default yellow)."""
    return 0x1F3FB <= ord(ch) <= 0x1F3FF


def wants_color(text: str, i: int) -> bool:
    """Whether ``text[i]`` is meant to look like an emoji: emoji by default (and not followed by
    the text selector U+FE0E), or followed by the emoji selector U+FE0F."""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if nxt == _VS_EMOJI:
        return True
    if nxt == _VS_TEXT:
        return False
    cp = ord(text[i])
    return 0x1F000 <= cp <= 0x1FAFF or cp in _BMP_EMOJI


def _kind(ch: str, color: bool) -> str:
    """Which kind of font to look for first: "emoji", "cjk" or "latin" (anything else)."""
    cp = ord(ch)
    if color:
        return "emoji"
    if (
        0x2E80 <= cp <= 0x9FFF
        or 0xAC00 <= cp <= 0xD7AF
        or 0xF900 <= cp <= 0xFAFF
        or 0xFE30 <= cp <= 0xFE4F
        or 0xFF00 <= cp <= 0xFFEF
        or 0x20000 <= cp <= 0x3FFFF
    ):
        return "cjk"
    return "latin"


# --- one font file -------------------------------------------------------------------------


@dataclass(frozen=True)
class FontFace:
    """What the renderer needs to know about face 0 of a font file."""

    path: Path
    color: bool  # has colour glyphs (CBDT, sbix or COLR): draw with embedded_color
    strikes: tuple[int, ...]  # bitmap-only font (CBDT, sbix): the pixel sizes it loads at
    _lookup: Callable[[int], bool] = field(repr=False, compare=False)

    def covers(self, ch: str) -> bool:
        """Whether the font has a glyph for ``ch``."""
        return self._lookup(ord(ch))


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def _cmap_lookup(cmap: bytes) -> Callable[[int], bool] | None:
    """A code point -> has-glyph test over the best Unicode subtable of a ``cmap`` table."""
    subtables: dict[tuple[int, int], int] = {}
    for i in range(_u16(cmap, 2)):
        rec = 4 + 8 * i
        subtables[(_u16(cmap, rec), _u16(cmap, rec + 2))] = _u32(cmap, rec + 4)
    best: tuple[int, bytes] | None = None
    for key in ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0)):
        if key in subtables:
            at = subtables[key]
            fmt = _u16(cmap, at)
            if fmt in (4, 12, 13):
                best = (fmt, cmap[at:])
                break
    if best is None:
        return None
    fmt, sub = best
    if fmt in (12, 13):
        n = _u32(sub, 12)
        groups: list[tuple[int, int, int]] = list(struct.iter_unpack(">III", sub[16 : 16 + 12 * n]))
        starts = [g[0] for g in groups]

        def lookup12(cp: int) -> bool:
            i = bisect.bisect_right(starts, cp) - 1
            if i < 0:
                return False
            start, end, glyph = groups[i]
            if cp > end:
                return False
            return (glyph if fmt == 13 else glyph + cp - start) != 0

        return lookup12
    segs = _u16(sub, 6) // 2
    base = 16 + 2 * segs
    range_at = base + 4 * segs
    ends: list[int] = list(struct.unpack(f">{segs}H", sub[14 : 14 + 2 * segs]))
    begins: tuple[int, ...] = struct.unpack(f">{segs}H", sub[base : base + 2 * segs])
    deltas: tuple[int, ...] = struct.unpack(f">{segs}H", sub[base + 2 * segs : base + 4 * segs])
    offsets: tuple[int, ...] = struct.unpack(f">{segs}H", sub[range_at : range_at + 2 * segs])

    def lookup4(cp: int) -> bool:
        if cp > 0xFFFF:
            return False
        i = bisect.bisect_left(ends, cp)
        if i >= segs or cp < begins[i]:
            return False
        if offsets[i] == 0:
            return (cp + deltas[i]) & 0xFFFF != 0
        at = range_at + 2 * i + offsets[i] + 2 * (cp - begins[i])
        if at + 2 > len(sub):
            return False
        glyph = _u16(sub, at)
        return glyph != 0 and (glyph + deltas[i]) & 0xFFFF != 0

    return lookup4


def _read_face(path: Path) -> FontFace:
    """Read face 0's table directory, its cmap and the sizes of a bitmap font. Raises OSError
    or ValueError when the file is not a usable font."""
    with path.open("rb") as f:

        def read(at: int, n: int) -> bytes:
            f.seek(at)
            data = f.read(n)
            if len(data) != n:
                raise ValueError("truncated font file")
            return data

        head = read(0, 12)
        start = 0
        if head[:4] == b"ttcf":
            if _u32(head, 8) < 1:
                raise ValueError("empty font collection")
            start = _u32(read(12, 4), 0)
            head = read(start, 12)
        if head[:4] not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
            raise ValueError("not a TrueType/OpenType font (TTF, OTF, TTC)")
        count = _u16(head, 4)
        directory = read(start + 12, 16 * count)
        tables: dict[bytes, tuple[int, int]] = {}
        for i in range(count):
            rec = directory[16 * i : 16 * i + 16]
            tables[rec[:4]] = (_u32(rec, 8), _u32(rec, 12))
        if b"cmap" not in tables:
            raise ValueError("no cmap table")
        lookup = _cmap_lookup(read(*tables[b"cmap"]))
        if lookup is None:
            raise ValueError("no Unicode cmap")
        # Colour bitmaps are drawn at one of their own sizes and scaled, even when the font
        # also has outlines; plain embedded bitmaps (EBLC) only matter without outlines.
        strikes: list[int] = []
        outlines = any(t in tables for t in (b"glyf", b"CFF ", b"CFF2"))
        bitmaps = b"CBLC" if b"CBLC" in tables else b"EBLC" if not outlines else b""
        if bitmaps in tables:
            at, _ = tables[bitmaps]
            n = _u32(read(at + 4, 4), 0)
            sizes = read(at + 8, 48 * n)
            strikes = [sizes[48 * i + 45] for i in range(n)]  # ppemY of each BitmapSize
        elif b"sbix" in tables:
            at, _ = tables[b"sbix"]
            n = _u32(read(at + 4, 4), 0)
            offs = read(at + 8, 4 * n)
            strikes = [_u16(read(at + _u32(offs, 4 * i), 2), 0) for i in range(n)]
        color = any(t in tables for t in (b"CBDT", b"sbix", b"COLR"))
    return FontFace(path, color, tuple(sorted(set(s for s in strikes if s > 0))), lookup)


@lru_cache(maxsize=2048)
def _face_or_none(path: Path) -> FontFace | None:
    try:
        return _read_face(path)
    except (OSError, ValueError, struct.error, IndexError):
        return None


@lru_cache(maxsize=64)
def font_face(path: Path) -> FontFace:
    """Face 0 of the font at ``path`` (cached per process). Raises WatermarkError naming the
    path when it is missing or not a font that can be used."""
    if not path.exists():
        raise WatermarkError(f"font {path}: no such file")
    if not path.is_file():
        raise WatermarkError(f"font {path}: not a file")
    try:
        return _read_face(path)
    except (OSError, ValueError, struct.error, IndexError) as exc:
        raise WatermarkError(f"font {path}: not a usable font file ({exc})") from exc


# --- system fonts --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One font fontconfig lists: face ``index`` of ``path``."""

    path: Path
    index: int
    family: str
    color: bool
    weight: float
    slant: int
    width: int
    mono: bool


def _number(text: str, default: float) -> float:
    """A number fc-list printed; the first end of a range such as ``[100 900]``."""
    words = text.replace("[", " ").replace("]", " ").split()
    try:
        return float(words[0]) if words else default
    except ValueError:
        return default


@lru_cache(maxsize=4096)
def _fc_list(cp: int) -> tuple[_Entry, ...]:
    """The fonts fontconfig says have ``cp``."""
    fmt = "%{file}\t%{index}\t%{family[0]}\t%{color}\t%{weight}\t%{slant}\t%{width}\t%{spacing}\n"
    try:
        out = subprocess.run(
            ["fc-list", "--format", fmt, f":charset={cp:x}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    entries = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 8 or not parts[0]:
            continue
        file, index, family, color, weight, slant, width, spacing = parts
        entries.append(
            _Entry(
                path=Path(file),
                index=int(_number(index, 0)),
                family=family,
                color=color.strip().lower() == "true",
                weight=_number(weight, 80),
                slant=int(_number(slant, 0)),
                width=int(_number(width, 100)),
                mono=_number(spacing, 0) >= 100,
            )
        )
    return tuple(entries)


def _family_rank(family: str, preferred: tuple[str, ...]) -> int:
    for i, name in enumerate(preferred):
        if family == name or family.startswith(name + " "):
            return i
    return len(preferred)


def _preferences(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if kind == "emoji":
        return EMOJI_FAMILIES, EMOJI_FILES
    if kind == "cjk":
        return CJK_FAMILIES, CJK_FILES
    return LATIN_FAMILIES, LATIN_FILES


def _looks_serif(name: str) -> bool:
    lowered = name.lower()
    return any(w in lowered for w in ("serif", "mincho", "song", "ming", "kai")) and "sans" not in lowered


class Fontconfig:
    """System fonts as fontconfig knows them."""

    description = "fontconfig (fc-list)"

    def candidates(self, ch: str, kind: str) -> Iterator[Path]:
        families, _ = _preferences(kind)

        def rank(e: _Entry) -> tuple[float, ...]:
            return (
                (0 if e.color else 1) if kind == "emoji" else (1 if e.color else 0),
                _family_rank(e.family, families),
                _family_rank(e.family, LATIN_FAMILIES),
                _looks_serif(e.family),
                e.mono,
                e.slant != 0,
                e.width != 100,
                abs(e.weight - 80),
                e.index,
            )

        best: dict[Path, tuple[float, ...]] = {}
        for e in _fc_list(ord(ch)):
            if any(n in e.path.name.lower() for n in NEVER):
                continue
            r = rank(e)
            if e.path not in best or r < best[e.path]:
                best[e.path] = r
        yield from sorted(best, key=lambda p: (best[p], str(p)))


def font_dirs() -> list[Path]:
    """The folders searched when fontconfig is not used."""
    home = Path.home()
    if sys.platform == "darwin":
        return [
            Path("/System/Library/Fonts"),
            Path("/System/Library/Fonts/Supplemental"),
            Path("/Library/Fonts"),
            home / "Library" / "Fonts",
        ]
    if sys.platform == "win32":
        windir = Path(os.environ.get("WINDIR") or os.environ.get("SYSTEMROOT") or r"C:\Windows")
        dirs = [windir / "Fonts"]
        local = os.environ.get("LOCALAPPDATA")
        if local:
            dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
        return dirs
    data = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    return [
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        Path(data) / "fonts",
        home / ".fonts",
    ]


_STYLE_WORDS = ("bold", "italic", "oblique", "light", "thin", "black", "heavy", "mono", "condensed", "narrow")


def _norm(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


class Folders:
    """System fonts as the files in the usual font folders (macOS, Windows, a Unix without
    fontconfig). Fonts are ranked by file name and opened in that order until one has the
    character, so plain text opens one or two fonts; a character nothing has opens them all
    (once per process)."""

    def __init__(self, dirs: Iterable[Path]) -> None:
        self.dirs = [d for d in dirs if d.is_dir()]
        self.description = ", ".join(str(d) for d in self.dirs) or "no font folders"

    @property
    def files(self) -> list[Path]:
        return _font_files(tuple(self.dirs))

    def candidates(self, ch: str, kind: str) -> Iterator[Path]:
        _, names = _preferences(kind)
        wanted = [_norm(n) for n in names]

        def rank(p: Path) -> tuple[int, int, str]:
            stem = _norm(p.stem)
            plain = not any(w in stem for w in _STYLE_WORDS)
            for i, w in enumerate(wanted):
                if stem == w:
                    return (i, 0, p.name)
                if stem.startswith(w):  # "Arial Black", "DejaVuSansMono": same name, other style
                    return (i, 1 if plain else 2, p.name)
            if kind != "emoji" and any(stem.startswith(_norm(e)) for e in EMOJI_FILES):
                return (len(wanted) + 1, 0, p.name)  # emoji fonts have digits: last for text
            return (len(wanted), (0 if plain else 1) + 2 * _looks_serif(p.stem), p.name)

        yield from sorted(self.files, key=rank)


@lru_cache(maxsize=8)
def _font_files(dirs: tuple[Path, ...]) -> list[Path]:
    found: list[Path] = []
    seen: set[Path] = set()
    for d in dirs:
        try:
            walk = list(os.walk(d))
        except OSError:
            continue
        for root, _, names in walk:
            for name in names:
                p = Path(root) / name
                if p.suffix.lower() in FONT_SUFFIXES and p not in seen:
                    if any(n in name.lower() for n in NEVER):
                        continue
                    seen.add(p)
                    found.append(p)
    return found


@lru_cache(maxsize=1)
def system_fonts() -> Fontconfig | Folders:
    """Where system fonts are found on this machine."""
    if sys.platform not in ("darwin", "win32") and shutil.which("fc-list"):
        return Fontconfig()
    return Folders(font_dirs())


# --- the chain -----------------------------------------------------------------------------


def needed(text: str) -> list[tuple[str, bool]]:
    """The characters of ``text`` that need a glyph, each with whether it wants a colour
    (emoji) font, in order and without repeats."""
    out: dict[tuple[str, bool], None] = {}
    for i, ch in enumerate(text):
        if not is_invisible(ch):
            out[(ch, wants_color(text, i))] = None
    return list(out)


def pick(faces: Iterable[FontFace], ch: str, color: bool) -> FontFace | None:
    """The font that draws ``ch``: the first that has it, or for an emoji the first colour font
    that has it (else the first that has it at all)."""
    first = None
    for face in faces:
        if face.covers(ch):
            if not color or face.color:
                return face
            if first is None:
                first = face
    return first


def find_fonts(text: str, preferred: Path | None = None) -> list[Path]:
    """An ordered list of font files that together have a glyph for every visible character of
    ``text``: ``preferred`` (the profile's ``font``) first, then system fonts (a Latin sans,
    then what the text needs beyond it, colour emoji fonts last).

    Raises WatermarkError when ``preferred`` is missing or not a font, and MissingGlyphs naming
    the characters no font has. Skin-tone modifiers no font has are left out silently.
    """
    return list(_find_fonts(text, Path(preferred).expanduser() if preferred is not None else None))


@lru_cache(maxsize=256)
def _find_fonts(text: str, preferred: Path | None) -> tuple[Path, ...]:
    chain: list[FontFace] = []
    if preferred is not None:
        chain.append(font_face(preferred))
    todo = [(ch, color) for ch, color in needed(text) if not _resolved(chain, ch, color)]
    source = system_fonts()
    # Look for a Latin sans first, then CJK, then emoji, so that the chain keeps that order.
    order = {"latin": 0, "cjk": 1, "emoji": 2}
    for ch, color in sorted(todo, key=lambda item: order[_kind(*item)]):
        if _resolved(chain, ch, color):
            continue
        face = _search(source, ch, color)
        if face is None or face in chain:
            continue
        if color and not face.color and pick(chain, ch, False) is not None:
            continue  # no colour font has it: the text font already in the chain draws it
        chain.append(face)
    missing = "".join(
        dict.fromkeys(ch for ch, color in todo if pick(chain, ch, color) is None and not is_optional(ch))
    )
    if missing:
        searched = source.description
        if preferred is not None:
            searched = f"{preferred} and {searched}"
        raise MissingGlyphs(missing, searched=searched)
    head = chain[:1] if preferred is not None else []
    rest = chain[len(head) :]
    rest.sort(key=lambda face: face.color)  # stable: text fonts in the order found, colour last
    return tuple(face.path for face in head + rest)


def _resolved(chain: list[FontFace], ch: str, color: bool) -> bool:
    face = pick(chain, ch, color)
    return face is not None and (face.color or not color)


def _search(source: Fontconfig | Folders, ch: str, color: bool) -> FontFace | None:
    """The best system font for ``ch``: the first candidate that has it (candidates for an
    emoji are ranked colour fonts first)."""
    for path in source.candidates(ch, _kind(ch, color)):
        face = _face_or_none(path)
        if face is not None and face.covers(ch):
            return face
    return None
