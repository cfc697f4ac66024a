"""Confirming a candidate with local features: OpenCV ORB keypoints of the suspect and of the
original, matched by descriptor (Lowe's ratio test), then a RANSAC homography. The number of
matches consistent with one homography (the inliers) is the score: unrelated photos stay low,
the same photo cropped, rotated, mirrored or screenshotted keeps many (measured thresholds in
docs/design.md, "Matching")."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from inventory.errors import UnreadableSuspect

# Pictures are compared with their long side reduced to this many pixels.
FEATURE_SIDE = 1000
ORB_FEATURES = 2000
RATIO = 0.75
RANSAC_REPROJECTION = 5.0
# At most this many inlier pairs are kept for a report to draw.
KEEP_PAIRS = 60


@dataclass
class Picture:
    """A greyscale, upright picture reduced for feature matching, with its ORB features and
    the factor back to the full picture's pixel coordinates."""

    grey: Any  # numpy uint8 (h, w)
    scale: float
    keypoints: Any = None  # numpy float32 (n, 2)
    descriptors: Any = None  # numpy uint8 (n, 32)

    def features(self) -> Picture:
        if self.keypoints is None:
            import cv2

            orb = cv2.ORB_create(nfeatures=ORB_FEATURES)  # type: ignore[attr-defined]
            kps, des = orb.detectAndCompute(self.grey, None)
            self.keypoints = np.array([k.pt for k in kps], dtype=np.float32).reshape(-1, 2)
            self.descriptors = des
        return self

    def mirrored(self) -> Picture:
        return Picture(np.ascontiguousarray(self.grey[:, ::-1]), self.scale)


def upright_grey(source: str | bytes | os.PathLike[str], side: int = FEATURE_SIDE) -> Picture:
    """Decode a photo (EXIF orientation applied), greyscale, long side at most ``side``.
    Raises ``UnreadableSuspect`` naming the file for a picture that does not decode."""
    from PIL import Image

    from inventory.media.heif import register_heif
    from inventory.media.orientation import orientation_of, upright

    register_heif()
    name = "<bytes>" if isinstance(source, bytes) else os.fspath(source)
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            full = max(im.size)
            if im.format == "JPEG":
                im.draft("L", (side, side))
            grey = im.convert("L") if im.mode != "L" else im
            pic = upright(grey, orientation_of(grey.getexif()))
            ow, oh = _upright_size(pic, full)
            if max(pic.size) > side:
                pic.thumbnail((side, side), Image.Resampling.LANCZOS)
            arr = np.asarray(pic, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableSuspect(f"{name}: does not decode as a picture: {text}") from exc
    return Picture(np.ascontiguousarray(arr), max(ow, oh) / max(arr.shape))


def _upright_size(im: Any, full_long_side: int) -> tuple[int, int]:
    w, h = im.size
    factor = full_long_side / max(w, h)
    return round(w * factor), round(h * factor)


@dataclass(frozen=True)
class Geometry:
    """The outcome of a feature comparison."""

    inliers: int
    mirrored: bool
    pairs: list[list[float]]  # [xs, ys, xo, yo] in full-picture pixel coordinates


def compare(suspect: Picture, original: Picture, *, try_mirrored: bool = True) -> Geometry:
    """The best feature agreement between the suspect (as it is, and mirrored) and the original."""
    best = _compare_one(suspect.features(), original.features(), mirrored=False)
    if try_mirrored and best.inliers < 2 * KEEP_PAIRS:
        flipped = _compare_one(suspect.mirrored().features(), original, mirrored=True)
        if flipped.inliers > best.inliers:
            best = flipped
    return best


def _compare_one(s: Picture, o: Picture, *, mirrored: bool) -> Geometry:
    import cv2

    none = Geometry(0, mirrored, [])
    if s.descriptors is None or o.descriptors is None or len(s.keypoints) < 8 or len(o.keypoints) < 8:
        return none
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(s.descriptors, o.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 8:
        return none
    src = s.keypoints[[m.queryIdx for m in good]]
    dst = o.keypoints[[m.trainIdx for m in good]]
    h, mask = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_REPROJECTION)
    if h is None or mask is None or not _plausible(h):
        return none
    keep = mask.ravel().astype(bool)
    inliers = int(keep.sum())
    width = s.grey.shape[1]
    out: list[list[float]] = []
    for (xs, ys), (xo, yo) in zip(src[keep][:KEEP_PAIRS], dst[keep][:KEEP_PAIRS], strict=True):
        if mirrored:
            xs = width - 1 - xs
        out.append(
            [
                round(float(xs) * s.scale, 1),
                round(float(ys) * s.scale, 1),
                round(float(xo) * o.scale, 1),
                round(float(yo) * o.scale, 1),
            ]
        )
    return Geometry(inliers, mirrored, out)


def _plausible(h: Any) -> bool:
    """A homography a repost could make: no reflection or collapse, no extreme perspective."""
    a = h[:2, :2] / h[2, 2] if h[2, 2] != 0 else None
    if a is None:
        return False
    det = float(np.linalg.det(a))
    if not 1 / 64 < det < 64:
        return False
    return abs(float(h[2, 0])) < 0.005 and abs(float(h[2, 1])) < 0.005
