"""Real photographs available offline: the sample photos scikit-image and matplotlib ship in their
wheels. Tests and benchmarks split them into an enrolled side and a never-enrolled side; a photo
(and every crop of it) is only ever on one side."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

# Photographs of real scenes (not drawings, charts or synthetic test patterns).
SKIMAGE_PHOTOS = (
    "astronaut.png",
    "brick.png",
    "camera.png",
    "cell.png",
    "chelsea.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "moon.png",
    "motorcycle_left.png",
    "page.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
    "clock_motion.png",
)
MPL_PHOTOS = ("grace_hopper.jpg",)


def _skimage_dir() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent


def _mpl_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data"


def photo_paths() -> list[Path]:
    return [_skimage_dir() / n for n in SKIMAGE_PHOTOS] + [_mpl_dir() / n for n in MPL_PHOTOS]


@cache
def photo(name: str) -> Any:
    """One sample photo as an RGB PIL image."""
    from PIL import Image

    for p in photo_paths():
        if p.name == name:
            with Image.open(p) as im:
                return im.convert("RGB")
    raise KeyError(name)


# The split: a photo and every copy or crop of it is on one side only.
ENROLLED = (
    "astronaut.png",
    "chelsea.png",
    "rocket.jpg",
    "retina.jpg",
    "coins.png",
    "brick.png",
    "grass.png",
    "ihc.png",
    "hubble_deep_field.jpg",
    "grace_hopper.jpg",
)
NEVER_ENROLLED = (
    "coffee.png",
    "camera.png",
    "motorcycle_left.png",
    "cell.png",
    "gravel.png",
    "moon.png",
    "page.png",
    "text.png",
    "clock_motion.png",
)
