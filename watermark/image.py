"""Stamping photos: JPEG, PNG, WebP, TIFF, HEIC/HEIF, and animated GIF/WebP frame by frame.

The camera's orientation is applied first (``inventory.media.orientation``, the same upright
picture the inventory hashes), so the mark lands in the visual corner; the EXIF (minus the
orientation), ICC profile and XMP are carried over; a JPEG keeps the source's quantisation tables
(the same quality) unless a quality is set. Only the region an anchored mark covers is
composited. The original is only ever read.

A caller that already opened and decoded the photo (to record it) hands it over (``image``, with
the bytes it was read from): the photo is then not read or decoded again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inventory.atomic import atomic_path
from inventory.media.heif import looks_like_heif, register_heif
from inventory.media.orientation import ORIENTATION_TAG, orientation_of, upright
from watermark.errors import BadInput, WatermarkError
from watermark.mark import Mark, render_mark
from watermark.metadata import XMP_TIFF_TAG, exif_bytes, xmp_packet
from watermark.style import Style

if TYPE_CHECKING:
    from PIL import Image

SUPPORTED = {
    "JPEG": "JPEG",
    "MPO": "JPEG",
    "PNG": "PNG",
    "WEBP": "WEBP",
    "TIFF": "TIFF",
    "HEIF": "HEIF",
    "GIF": "GIF",
}
ANIMATED = {"GIF", "WEBP", "PNG"}
EXIF_ORIENTATION = ORIENTATION_TAG


@dataclass(frozen=True)
class ImageOptions:
    jpeg_quality: int | None = None  # None: the source's own quantisation (same quality)
    copyright: str | None = None  # XMP dc:rights (UTF-8); EXIF Copyright too when it is ASCII
    artist: str | None = None  # XMP dc:creator; EXIF Artist too when it is ASCII
    max_pixels: int | None = None  # None: Pillow's decompression-bomb limit
    animated: str = "stamp"  # "stamp" every frame, or "refuse"
    sync_dir: bool = True  # False: the caller fsyncs the output folder (once per batch)
    # The ASCII text for EXIF Copyright and Artist when ``copyright``/``artist`` are not ASCII
    # (watermark.metadata). Left out of repr, which a style hash covers: a caller that sets them
    # puts them in its hash itself, so copies made before they existed are not all made again.
    exif_copyright: str | None = field(default=None, repr=False)
    exif_artist: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ImageResult:
    output: Path
    format: str
    width: int
    height: int
    frames: int
    sha256: str  # of the bytes written
    size: int


_limit_lock = threading.Lock()


def _head(src: Path, size: int) -> bytes:
    try:
        with open(src, "rb") as f:
            return f.read(size)
    except OSError:
        return b""


@contextmanager
def _pixel_limit(limit: int | None) -> Iterator[None]:
    from PIL import Image

    if limit is None:
        yield
        return
    with _limit_lock:
        old = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limit
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = old


def _open(src: Path, options: ImageOptions) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    try:
        if src.stat().st_size == 0:
            raise BadInput("empty file (0 bytes)")
    except OSError as exc:
        raise BadInput(f"cannot read: {exc.strerror or exc}") from exc
    if looks_like_heif(_head(src, 12)):
        register_heif()  # pillow-heif costs ~0.1 s to import: only for the files that need it
    try:
        with _pixel_limit(options.max_pixels):
            im = Image.open(src)
    except Image.DecompressionBombError as exc:
        raise _bomb(exc) from exc
    except UnidentifiedImageError as exc:
        raise BadInput("not a picture Keepmark can stamp (unrecognised or unsupported format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"cannot open: {_reason(exc)}") from exc
    if im.format not in SUPPORTED:
        im.close()
        raise _unsupported(im)
    return im


def _bomb(exc: Exception) -> BadInput:
    return BadInput(f"refused as a possible decompression bomb ({exc}); raise [watermark] max_image_pixels")


def _unsupported(im: Image.Image) -> BadInput:
    return BadInput(f"{im.format} pictures are not supported (JPEG, PNG, WebP, TIFF, HEIC and GIF are)")


def _check_given(im: Image.Image, options: ImageOptions) -> None:
    """What ``_open`` checks, for a picture the caller opened: the format, and the pixel limit
    (``options.max_pixels``, as Pillow applies it when it opens a file)."""
    from PIL import Image

    if im.format not in SUPPORTED:
        raise _unsupported(im)
    try:
        with _pixel_limit(options.max_pixels):
            Image._decompression_bomb_check(im.size)
    except Image.DecompressionBombError as exc:
        raise _bomb(exc) from exc


def _reason(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).splitlines()[0]


def _composite(base: Image.Image, mark: Mark) -> Image.Image:
    """Put the mark on ``base``, touching only the regions its layers cover."""
    if base.mode not in ("RGB", "RGBA", "L", "LA"):
        base = base.convert("RGBA" if "A" in base.getbands() or base.mode == "P" else "RGB")
    for layer in mark.layers:
        left, top, right, bottom = layer.box
        box = (max(0, left), max(0, top), min(base.width, right), min(base.height, bottom))
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        piece = layer.image
        if box != layer.box:
            piece = piece.crop((box[0] - left, box[1] - top, box[2] - left, box[3] - top))
        region = base.crop(box).convert("RGBA")
        region.alpha_composite(piece)
        base.paste(region.convert(base.mode), box)
    return base


def mark_picture(base: Image.Image, style: Style, fields: Mapping[str, str]) -> Image.Image:
    """``base`` (an upright picture) with the mark of ``style`` on it, made for its size: what
    a stamped copy shows, and what the app's watermark preview draws on a picture scaled to the
    screen (a mark's sizes are fractions of the picture's, so it looks the same). ``base`` is
    marked in place where its mode allows; the marked picture is returned."""
    return _composite(base, render_mark(style, base.size, fields))


def _webp_lossless(head: bytes) -> bool:
    """``head``: the file's first 4096 bytes."""
    return b"VP8L" in head[12:] and b"VP8 " not in head[12:]


def _save_args(
    fmt: str, src_im: Image.Image, head: bytes, options: ImageOptions, exif: bytes | None, xmp: bytes | None
) -> dict[str, Any]:
    args: dict[str, Any] = {}
    icc = src_im.info.get("icc_profile")
    if icc:
        args["icc_profile"] = icc
    if exif:
        args["exif"] = exif
    if fmt == "JPEG":
        from PIL import JpegImagePlugin

        if options.jpeg_quality is not None:
            args["quality"] = options.jpeg_quality
        elif getattr(src_im, "quantization", None):
            args["qtables"] = src_im.quantization  # type: ignore[attr-defined]
            sampling = JpegImagePlugin.get_sampling(src_im)
            if sampling != -1:
                args["subsampling"] = sampling
        else:
            args["quality"] = 90
        if src_im.info.get("progressive"):
            args["progressive"] = True
        if xmp:
            args["xmp"] = xmp
    elif fmt == "WEBP":
        if _webp_lossless(head):
            args["lossless"] = True
        else:
            args["quality"] = options.jpeg_quality or 90
        if xmp:
            args["xmp"] = xmp
    elif fmt == "HEIF":
        args["quality"] = options.jpeg_quality or 90
        if xmp:
            args["xmp"] = xmp
    elif fmt == "TIFF":
        compression = src_im.info.get("compression")
        if compression and compression != "raw":
            args["compression"] = compression
        if xmp:  # a TIFF's XMP is a tag among its EXIF ones
            from PIL import Image

            tags = Image.Exif()
            if exif:
                tags.load(exif)
            tags[XMP_TIFF_TAG] = xmp
            args["exif"] = tags.tobytes()
    elif fmt == "PNG":
        from PIL import PngImagePlugin

        text = getattr(src_im, "text", None) or {}
        if text or xmp:
            info = PngImagePlugin.PngInfo()
            for key, value in text.items():
                if key != "XML:com.adobe.xmp":
                    info.add_itxt(key, str(value))
            if xmp:
                info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"))
            args["pnginfo"] = info
    return args


def stamp_image(
    src: Path,
    dst: Path,
    style: Style,
    fields: Mapping[str, str],
    options: ImageOptions | None = None,
    *,
    image: Image.Image | None = None,
    data: bytes | None = None,
) -> ImageResult:
    """Write a stamped copy of the photo ``src`` to ``dst`` (atomically), in the same format.

    ``image``: the photo, already opened by the caller from ``data`` (its whole bytes) or from
    ``src``, and perhaps decoded (``inventory.record.examine.open_photo`` and ``photo_facts``):
    it is stamped without reading or decoding ``src`` again. It is the caller's to close, and
    is marked in place when it is upright (take its hashes first). Do not hand over a picture
    whose decoding failed: without ``image`` the stamper opens ``src`` and says why it cannot.

    Raises ``BadInput`` (a one-line reason) for a photo that cannot be stamped and
    ``WatermarkError`` when the copy cannot be written."""
    options = options or ImageOptions()
    if image is not None:
        _check_given(image, options)
        im = image
    else:
        im = _open(src, options)
    head = data[:4096] if data is not None else b""
    try:
        fmt = SUPPORTED[str(im.format)]
        frames = int(getattr(im, "n_frames", 1) or 1)
        if frames > 1 and fmt in ANIMATED:
            if options.animated == "refuse":
                raise BadInput(
                    f'animated {fmt} with {frames} frames: refused ([watermark] animated = "refuse")'
                )
            if fmt == "WEBP" and not head:
                head = _head(src, 4096)
            return _stamp_animated(im, head, dst, fmt, style, fields, options)
        try:
            with _pixel_limit(options.max_pixels):
                im.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise BadInput(f"truncated or corrupt: {_reason(exc)}") from exc
        # Upright first (before the EXIF is edited below). The decoded picture is ours, not the
        # file's, so an upright one is marked in place: no 36 MB copy of a 12 MP photo.
        shown = upright(im, orientation_of(im.getexif()))
        exif = exif_bytes(
            im,
            copyright=options.exif_copyright or options.copyright,
            artist=options.exif_artist or options.artist,
        )
        xmp = xmp_packet(im, rights=options.copyright, creator=options.artist)
        if fmt == "WEBP" and not head:
            head = _head(src, 4096)
        args = _save_args(fmt, im, head, options, exif, xmp)
        out = mark_picture(shown, style, fields)
        if fmt == "JPEG" and out.mode not in ("RGB", "L", "CMYK"):
            out = out.convert("RGB")
        digest, size = _save(out, dst, fmt, args, options.sync_dir)
        return ImageResult(dst, fmt, out.width, out.height, 1, digest, size)
    finally:
        if image is None:
            im.close()


def _stamp_animated(
    im: Image.Image,
    head: bytes,
    dst: Path,
    fmt: str,
    style: Style,
    fields: Mapping[str, str],
    options: ImageOptions,
) -> ImageResult:
    """Every frame stamped; frame times, looping and disposal kept; an animated WebP or PNG
    carries the XMP (GIF has no place Pillow writes it)."""
    from PIL import ImageSequence

    mark = render_mark(style, im.size, fields)
    xmp = xmp_packet(im, rights=options.copyright, creator=options.artist)
    frames: list[Image.Image] = []
    durations: list[int] = []
    try:
        for frame in ImageSequence.Iterator(im):
            durations.append(int(frame.info.get("duration", im.info.get("duration", 100)) or 100))
            frames.append(_composite(frame.convert("RGBA"), mark))
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadInput(f"truncated or corrupt animation: {_reason(exc)}") from exc
    args: dict[str, Any] = {"save_all": True, "append_images": frames[1:], "duration": durations}
    args["loop"] = im.info.get("loop", 0)
    if fmt == "GIF":
        args["disposal"] = 2
        args["optimize"] = False
    elif fmt == "WEBP":
        args.update({"lossless": True} if _webp_lossless(head) else {"quality": options.jpeg_quality or 90})
        if xmp:
            args["xmp"] = xmp
    elif fmt == "PNG" and xmp:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"))
        args["pnginfo"] = info
    digest, size = _save(frames[0], dst, fmt, args, options.sync_dir)
    return ImageResult(dst, fmt, im.width, im.height, len(frames), digest, size)


def _save(im: Image.Image, dst: Path, fmt: str, args: dict[str, Any], sync_dir: bool) -> tuple[str, int]:
    """Encode straight into a temporary file (Pillow's encoders write a real file in one C call,
    far faster than into memory), fsync, rename; return the SHA-256 and size of what was written
    (read back from the page cache)."""
    try:
        with atomic_path(dst, synced=True, sync_dir=sync_dir) as tmp:
            with open(tmp, "wb") as fh:
                im.save(fh, format=fmt, **args)
                fh.flush()
                os.fsync(fh.fileno())
            digest = hashlib.sha256()
            size = 0
            with open(tmp, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
    except OSError as exc:
        raise WatermarkError(f"cannot write {dst}: {exc.strerror or _reason(exc)}") from exc
    except ValueError as exc:
        raise WatermarkError(f"cannot encode {dst.name} as {fmt}: {_reason(exc)}") from exc
    return digest.hexdigest(), size
