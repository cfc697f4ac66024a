"""Recognise photos and videos by their content, not only by their extension.

``sniff(head, name)`` looks at the first bytes of a file (64 are enough) and returns
``(kind, format)`` with kind one of ``image``, ``video`` or ``other``. When the bytes are not
recognised but the extension claims a photo or video, the claimed kind and format are returned
with ``claimed=True`` so that the caller can note that the file does not decode.
"""

from __future__ import annotations

from dataclasses import dataclass

HEAD_BYTES = 64

IMAGE_EXTENSIONS = {
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "jpe": "jpeg",
    "png": "png",
    "gif": "gif",
    "webp": "webp",
    "tif": "tiff",
    "tiff": "tiff",
    "heic": "heic",
    "heif": "heif",
    "hif": "heif",
    "avif": "avif",
    "bmp": "bmp",
    "psd": "psd",
}
RAW_EXTENSIONS = {"dng", "cr2", "cr3", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "pef"}
VIDEO_EXTENSIONS = {
    "mp4": "mp4",
    "m4v": "m4v",
    "mov": "mov",
    "qt": "mov",
    "3gp": "3gp",
    "3g2": "3gp",
    "mkv": "mkv",
    "webm": "webm",
    "avi": "avi",
    "mts": "mts",
    "m2ts": "mts",
    "ts": "mts",
    "mpg": "mpeg",
    "mpeg": "mpeg",
    "flv": "flv",
    "wmv": "wmv",
}

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}


@dataclass(frozen=True)
class Sniffed:
    kind: str
    format: str
    claimed: bool = False  # True: only the extension says so; the bytes were not recognised


def extension(name: str) -> str:
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return ""
    ext = name[dot + 1 :].lower()
    return ext if len(ext) <= 12 and "/" not in ext and "\\" not in ext else ""


def _by_content(head: bytes, ext: str) -> tuple[str, str] | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "gif"
    if head[:4] == b"RIFF" and len(head) >= 12:
        fourcc = head[8:12]
        if fourcc == b"WEBP":
            return "image", "webp"
        if fourcc == b"AVI ":
            return "video", "avi"
        if fourcc == b"WAVE":
            return "other", "wav"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        brand = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
        if brand in _HEIC_BRANDS or (brand in _HEIF_BRANDS and compatible & _HEIC_BRANDS):
            return "image", "heic"
        if brand in _AVIF_BRANDS or (brand in _HEIF_BRANDS and compatible & _AVIF_BRANDS):
            return "image", "avif"
        if brand in _HEIF_BRANDS:
            return "image", "heif"
        if brand == b"crx ":
            return "image", "cr3"
        if brand in _AUDIO_BRANDS:
            return "other", "m4a"
        if brand == b"qt  ":
            return "video", "mov"
        if brand == b"M4V " or brand == b"M4VH" or brand == b"M4VP":
            return "video", "m4v"
        if brand.startswith(b"3g"):
            return "video", "3gp"
        return "video", "mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip") and ext in ("mov", "qt", "mp4"):
        return "video", VIDEO_EXTENSIONS[ext]
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        if head[8:10] == b"CR":
            return "image", "cr2"
        if ext in RAW_EXTENSIONS:
            return "image", ext
        return "image", "tiff"
    if head[:4] in (b"IIRO", b"IIRS"):
        return "image", "orf"
    if head[:4] == b"IIU\x00":
        return "image", "rw2"
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "image", "raf"
    if head.startswith(b"8BPS"):
        return "image", "psd"
    if head[:2] == b"BM" and len(head) >= 18 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return "image", "bmp"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "video", "webm" if b"webm" in head else "mkv"
    if head.startswith(b"FLV\x01"):
        return "video", "flv"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "video", "mpeg"
    if head.startswith(b"0&\xb2u\x8ef\xcf\x11"):
        return "video", "wmv"
    if len(head) >= 1 and head[0] == 0x47 and ext in ("mts", "m2ts", "ts"):
        return "video", "mts"
    if len(head) >= 5 and head[4] == 0x47 and ext in ("mts", "m2ts"):
        return "video", "mts"
    return None


def sniff(head: bytes, name: str) -> Sniffed:
    """Classify a file from its first bytes and its name."""
    ext = extension(name)
    found = _by_content(head, ext)
    if found is not None:
        return Sniffed(*found)
    if ext in IMAGE_EXTENSIONS:
        return Sniffed("image", IMAGE_EXTENSIONS[ext], claimed=True)
    if ext in RAW_EXTENSIONS:
        return Sniffed("image", ext, claimed=True)
    if ext in VIDEO_EXTENSIONS:
        return Sniffed("video", VIDEO_EXTENSIONS[ext], claimed=True)
    return Sniffed("other", ext)
