"""Find the original behind a suspect file (a repost, a screenshot, a cut clip).

``find_original(inv, path)`` hashes the suspect and returns what was computed from it
(``Suspect``) with the best match in the inventory (``Match``), or ``None`` when nothing is
close enough. In order:

1. exact: the suspect's SHA-256 is an original's, or a stamped copy's (a copy reposted as
   published): the match names the original and, in ``details["derivative"]``, the copy;
2. photos: the suspect's pHash, and those of its mirror image and of its border-trimmed
   picture, against every enrolled window of every photo (``inventory.match.index``). A window
   within ``PHASH_ACCEPT`` bits is a perceptual match;
3. otherwise the nearest candidates (within ``CANDIDATE_MAX`` bits) are read from their files
   and compared by ORB features and a RANSAC homography (``inventory.match.features``); one
   with ``INLIERS_ACCEPT`` inliers or more is a features match;
4. videos: the clip's frame pHashes aligned against every enrolled video's
   (``inventory.match.video``).

The thresholds, their measured basis and the confidence values are in docs/design.md,
section "Matching".
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from inventory.errors import UnreadableSuspect

if TYPE_CHECKING:
    from inventory.match.features import Geometry, Picture
    from inventory.match.index import Hit, MatchIndex
    from inventory.store.inventory import Inventory

# A window pHash within this many bits of one of the suspect's is a match on its own; any
# further needs the feature check.
PHASH_ACCEPT = 6
# Photos with a window within this many bits are candidates for the feature check.
CANDIDATE_MAX = 30
# At most this many candidates are read and compared by features, nearest first.
MAX_CONFIRM = 6
# A candidate with at least this many RANSAC inliers is a features match.
INLIERS_ACCEPT = 40
# The largest value measured between photos that are not the same (docs/design.md): the
# nearest unrelated window pHash, and the most inliers an unrelated pair reached.
UNRELATED_PHASH_MIN = 16
UNRELATED_INLIERS_MAX = 25

# Which enrolled windows each variant of the suspect is compared with.
ALL_WINDOWS = ("full", "centre90", "centre75", "topleft75", "topright75", "bottomleft75", "bottomright75")
VARIANT_WINDOWS: dict[str, tuple[str, ...]] = {
    "as-is": ALL_WINDOWS,
    "mirrored": ("full",),
    "trimmed": ("full", "centre90"),
    "trimmed-mirrored": ("full",),
}


@dataclass(frozen=True)
class Suspect:
    """What was computed from the suspect file."""

    path: str
    sha256: str
    kind: str  # "image" | "video" | "other"
    hashes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    """The original a suspect was matched to, how, and how sure the match is."""

    sha256: str
    path: str
    method: str  # "exact" | "perceptual" | "features" | "video"
    distance: int | None
    score: float
    confidence: float
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_original(inv: Inventory, path: str | os.PathLike[str]) -> tuple[Suspect, Match | None]:
    """Best match for the suspect file in the inventory, or None when nothing is close enough.
    Raises ``UnreadableSuspect`` (naming the file and the reason) for unreadable input."""
    from inventory.record.examine import examine

    name = os.fspath(path)
    try:
        facts, _ = examine(name)
    except OSError as exc:
        raise UnreadableSuspect(f"{name}: cannot read: {exc.strerror or exc}") from exc
    m = facts.media
    if m.decode_error:
        raise UnreadableSuspect(f"{name}: {m.decode_error}")
    hashes: dict[str, Any] = {}
    if m.hash_params:
        hashes["params"] = json.loads(m.hash_params)
    exact = inv.has_content(facts.sha256)
    copy = None if exact else inv.derivative_by_sha(facts.sha256)  # a stamped copy reposted
    exact = exact or copy is not None
    if not exact:
        from inventory.match.enrol import enrol_missing

        enrol_missing(inv)
    if facts.kind == "image" and m.phash:
        picture, variants = _image_variants(name, m.phash)
        hashes.update({"phash": m.phash, "dhash": m.dhash, "variants": variants})
        suspect = Suspect(os.path.abspath(name), facts.sha256, facts.kind, hashes)
        if exact:
            return suspect, _exact(inv, facts.sha256, copy)
        return suspect, _match_image(inv, picture, variants)
    if facts.kind == "video":
        sequence = _clip_sequence(name)
        hashes.update({"phash": m.phash, "frame_hashes": m.frame_hashes})
        hashes["frame_sequence"] = {"rate": _suspect_rate(), "hashes": sequence}
        suspect = Suspect(os.path.abspath(name), facts.sha256, facts.kind, hashes)
        if exact:
            return suspect, _exact(inv, facts.sha256, copy)
        seconds = (m.duration_ms or 0) / 1000 or len(sequence) / _suspect_rate()
        return suspect, _match_video(inv, sequence, seconds)
    suspect = Suspect(os.path.abspath(name), facts.sha256, facts.kind, hashes)
    return suspect, _exact(inv, facts.sha256, copy) if exact else None


def _exact(inv: Inventory, sha256: str, copy: dict[str, Any] | None = None) -> Match:
    """The original with these bytes; or, given the stamped ``copy`` with these bytes, its
    original, the copy named in the details."""
    if copy is None:
        return Match(sha256, original_path(inv, sha256), "exact", 0, 1.0, 1.0, {})
    source = str(copy["source"])
    derivative = {k: copy[k] for k in ("sha256", "path", "style", "created")}
    return Match(source, original_path(inv, source), "exact", 0, 1.0, 1.0, {"derivative": derivative})


# -- photos ---------------------------------------------------------------------------------


def _image_variants(name: str, phash: str) -> tuple[Picture, dict[str, Any]]:
    """The suspect decoded for features, and the pHash of each variant (hex), with the box a
    trimmed variant kept."""
    from PIL import Image

    from inventory.match.features import upright_grey
    from inventory.match.hashes import trim_box, variant_phash

    picture = upright_grey(name)
    im = Image.fromarray(picture.grey)
    variants: dict[str, Any] = {"as-is": phash, "mirrored": variant_phash(im, mirror=True)}
    box = trim_box(im)
    if box is not None:
        kept = im.crop(box)
        variants["trimmed"] = variant_phash(kept)
        variants["trimmed-mirrored"] = variant_phash(kept, mirror=True)
        variants["trim_box"] = [round(v * picture.scale) for v in box]
    return picture, variants


def nearest_windows(
    index: MatchIndex, variants: dict[str, Any], max_distance: int, k: int | None = None
) -> list[tuple[Hit, str]]:
    """The index hits of the suspect's variants, each with the variant that found it.

    The ``full`` windows are searched first; only when none is within ``PHASH_ACCEPT`` bits
    (no perceptual match: a crop, a rotation, a photo never enrolled) are the other windows
    searched too. A repost of a whole photo costs one pass over one window per variant.

    By default (``k`` None) the ``full`` search keeps each variant's ``MAX_CONFIRM`` nearest
    photos (one code each): a photo beyond them has that many strictly nearer, so it could
    never be among the candidates the feature check reads; a small k keeps that search in the
    index's buckets at a million photos. The other windows (several codes per photo) keep
    ``8 * MAX_CONFIRM``. A ``k`` given applies to both."""
    names = [v for v in VARIANT_WINDOWS if v in variants]
    first_k = k or MAX_CONFIRM
    k = k or 8 * MAX_CONFIRM
    first = [(int(variants[v], 16), ("full",)) for v in names]
    hits = [(h, names[h.query]) for h in index.search(first, max_distance, first_k)]
    if any(h.distance <= PHASH_ACCEPT for h, _v in hits):
        return hits
    rest = [(v, tuple(w for w in VARIANT_WINDOWS[v] if w != "full")) for v in names]
    rest = [(v, windows) for v, windows in rest if windows]
    more = index.search([(int(variants[v], 16), windows) for v, windows in rest], max_distance, k)
    return hits + [(h, rest[h.query][0]) for h in more]


def candidates(
    inv: Inventory, variants: dict[str, Any], max_distance: int, k: int | None = None
) -> list[dict[str, Any]]:
    """Enrolled photos with a window among the ``k`` nearest (within ``max_distance`` bits) to
    a variant of the suspect: for each, its nearest (distance, variant, window), nearest first."""
    from inventory.match.index import open_index

    index = open_index(inv, inv.path)
    hits = [(h.row, h.distance, v) for h, v in nearest_windows(index, variants, max_distance, k)]
    if not hits:
        return []
    rows = inv.match_windows([row for row, _d, _v in hits])
    best: dict[str, dict[str, Any]] = {}
    for row, distance, variant in hits:
        if row not in rows:
            continue
        sha, window = rows[row]
        old = best.get(sha)
        if old is None or distance < old["distance"]:
            best[sha] = {"sha256": sha, "distance": distance, "variant": variant, "window": window}
    return sorted(best.values(), key=lambda c: (c["distance"], c["sha256"]))


def _match_image(inv: Inventory, picture: Picture, variants: dict[str, Any]) -> Match | None:
    found = candidates(inv, variants, CANDIDATE_MAX)
    if not found:
        return None
    top = found[0]
    if top["distance"] <= PHASH_ACCEPT:
        details = {"variant": top["variant"], "window": top["window"]}
        geometry = _features_with(inv, picture, top["sha256"])
        confidence = perceptual_confidence(top["distance"])
        if geometry is not None:
            details.update(_geometry_details(geometry))
            if geometry.inliers >= INLIERS_ACCEPT:
                confidence = max(confidence, features_confidence(geometry.inliers))
        path = original_path(inv, top["sha256"])
        score = float(64 - top["distance"])
        return Match(top["sha256"], path, "perceptual", top["distance"], score, confidence, details)
    best: tuple[Geometry, dict[str, Any]] | None = None
    for cand in found[:MAX_CONFIRM]:
        geometry = _features_with(inv, picture, cand["sha256"])
        if geometry is not None and (best is None or geometry.inliers > best[0].inliers):
            best = (geometry, cand)
    if best is None or best[0].inliers < INLIERS_ACCEPT:
        return None
    geometry, cand = best
    details = {"variant": cand["variant"], "window": cand["window"], **_geometry_details(geometry)}
    return Match(
        cand["sha256"],
        original_path(inv, cand["sha256"]),
        "features",
        cand["distance"],
        float(geometry.inliers),
        features_confidence(geometry.inliers),
        details,
    )


def _features_with(inv: Inventory, picture: Picture, sha256: str) -> Geometry | None:
    """Feature agreement between the suspect and the original's file, or None when no file of
    the original can be read as it was recorded."""
    import hashlib

    from inventory.match.features import compare, upright_grey

    for candidate in original_paths(inv, sha256):
        try:
            with open(candidate, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() != sha256:
            continue  # changed since it was recorded: not the original any more
        try:
            original = upright_grey(data)
        except UnreadableSuspect:
            continue
        return compare(picture, original)
    return None


def _geometry_details(g: Geometry) -> dict[str, Any]:
    return {"inliers": g.inliers, "mirrored": g.mirrored, "keypoints": g.pairs}


def perceptual_confidence(distance: int) -> float:
    """0.9 at the accept threshold, rising to 0.99 at distance 0 (docs/design.md)."""
    share = (PHASH_ACCEPT - distance) / PHASH_ACCEPT
    return round(0.9 + 0.09 * max(0.0, min(1.0, share)), 3)


def features_confidence(inliers: int) -> float:
    """0.75 at the accept threshold, rising to 0.99 at four times it (docs/design.md)."""
    share = (inliers - INLIERS_ACCEPT) / (3 * INLIERS_ACCEPT)
    return round(0.75 + 0.24 * max(0.0, min(1.0, share)), 3)


# -- videos ---------------------------------------------------------------------------------


def _suspect_rate() -> float:
    from inventory.match.video import SUSPECT_RATE

    return SUSPECT_RATE


def _clip_sequence(name: str) -> list[str]:
    from inventory.match.hashes import frame_hashes
    from inventory.match.params import FRAME_SIDE
    from inventory.match.video import SUSPECT_RATE
    from inventory.media.frames import frame_sequence

    frames, error = frame_sequence(name, SUSPECT_RATE, FRAME_SIDE)
    hashes = frame_hashes(frames)
    if not hashes:
        raise UnreadableSuspect(f"{name}: does not decode as a video: {error}")
    return hashes


def _match_video(inv: Inventory, sequence: list[str], seconds: float) -> Match | None:
    from inventory.match.video import ALIGNED_RATIO, best_alignment

    found = best_alignment(inv, sequence, seconds)
    if found is None:
        return None
    share = (found.ratio - ALIGNED_RATIO) / (1 - ALIGNED_RATIO)
    confidence = round(0.75 + 0.24 * max(0.0, min(1.0, share)), 3)
    details = {
        "time_range": [found.start_s, found.end_s],
        "clip_range": [found.clip_start_s, found.clip_end_s],
        "aligned_frames": found.frames,
        "mean_distance": round(found.mean_distance, 2),
    }
    path = original_path(inv, found.sha256)
    return Match(
        found.sha256, path, "video", round(found.mean_distance), round(found.ratio, 3), confidence, details
    )


# -- where the original is ------------------------------------------------------------------


def original_paths(inv: Inventory, sha256: str) -> list[str]:
    """Paths that hold (or last held) the content, present ones first, existing files only."""
    return [p for p in inv.paths_of(sha256) if os.path.isfile(p)]


def original_path(inv: Inventory, sha256: str) -> str:
    """A current path of the content, else the last path it was seen at."""
    return inv.last_path_of(sha256)
