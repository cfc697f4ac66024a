"""The parameters every stored perceptual hash was made with, in one leaf module.

Changing any of these changes the hashes of every file, so an inventory full of stored hashes
would no longer match what a scan computes: ``tests/test_hash_is_constant.py`` pins the hashes
of fixture files, and a change here needs a new ``SCHEME`` and a plan to re-hash.

This module imports nothing, so anything may import it without a circle.
"""

from __future__ import annotations

# Every hash is an imagehash pHash (and a dHash for photos) of this many bits a side.
HASH_SIZE = 8
HIGHFREQ_FACTOR = 4
SCHEME = "keepmark-hash-2"

# The smallest side the hashed picture of a photo may have; a JPEG is drafted down to it and
# every other picture reduced to it, so a PNG and a JPEG of one photo hash alike.
HASH_SOURCE_PIXELS = 64

# The crop windows enrolled for every photo, as fractions (left, top, right, bottom) of the
# upright hashed picture. A crop of the original that keeps one of them (10% to about 60% of the
# area) hashes close to that window's hash. The order gives each window its id.
WINDOWS: dict[str, tuple[float, float, float, float]] = {
    "full": (0.0, 0.0, 1.0, 1.0),
    "centre90": (0.05, 0.05, 0.95, 0.95),
    "centre75": (0.125, 0.125, 0.875, 0.875),
    "topleft75": (0.0, 0.0, 0.75, 0.75),
    "topright75": (0.25, 0.0, 1.0, 0.75),
    "bottomleft75": (0.0, 0.25, 0.75, 1.0),
    "bottomright75": (0.25, 0.25, 1.0, 1.0),
}
WINDOW_IDS = {name: i for i, name in enumerate(WINDOWS)}

# Videos: every frame is scaled by ffmpeg to FRAME_SIDE x FRAME_SIDE greyscale before hashing.
FRAME_SIDE = 64
# Frames hashed at evenly spaced points of a video (``frame_hashes``; the middle one is its pHash).
FRAME_POINTS = 8
# Frames per second sampled through a whole video for matching clips against it.
SEQUENCE_RATE = 2.0
